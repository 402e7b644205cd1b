//! Where things live: config, rendered units, packaged templates, state and logs, for the system
//! manager (/etc/agent-runner, /etc/systemd/system, /var/lib and /var/log/agent-runner/NAME) and
//! for a user's manager (the XDG directories).

use std::env;
use std::path::{Path, PathBuf};

/// The round service's binary: the round alone, installed beside `agent-runner`.
pub(crate) const ROUND_RUNNER: &str = "agent-runner-round";

/// The round binary that goes with the `agent-runner` binary `exec`: the one beside it (cargo and
/// the package install both into one directory).
pub(crate) fn round_runner(exec: &Path) -> PathBuf {
    exec.with_file_name(ROUND_RUNNER)
}

/// Which systemd manager a project belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scope {
    /// The system manager (PID 1), as root.
    System,
    /// The calling user's manager (`systemctl --user`).
    User,
}

impl Scope {
    /// `System` or `User` from a `--user` flag.
    pub(crate) fn from_user_flag(user: bool) -> Self {
        if user { Scope::User } else { Scope::System }
    }

    /// The directory holding project TOML files. `AGENT_RUNNER_CONFIG_DIR` overrides it (tests,
    /// unusual layouts).
    pub(crate) fn config_dir(self) -> PathBuf {
        if let Some(dir) = env::var_os("AGENT_RUNNER_CONFIG_DIR") {
            return PathBuf::from(dir);
        }
        match self {
            Scope::System => PathBuf::from("/etc/agent-runner"),
            Scope::User => xdg_dir("XDG_CONFIG_HOME", ".config").join("agent-runner"),
        }
    }

    /// The directory `generate` writes units into. `AGENT_RUNNER_UNIT_DIR` overrides it.
    pub(crate) fn unit_dir(self) -> PathBuf {
        if let Some(dir) = env::var_os("AGENT_RUNNER_UNIT_DIR") {
            return PathBuf::from(dir);
        }
        match self {
            Scope::System => PathBuf::from("/etc/systemd/system"),
            Scope::User => xdg_dir("XDG_CONFIG_HOME", ".config").join("systemd/user"),
        }
    }

    /// Where systemd asks the generator to write (its "normal" directory, `argv[1]`), for commands
    /// that look for a project's units: /run/systemd/generator, or the user manager's
    /// `$XDG_RUNTIME_DIR/systemd/generator`.
    pub(crate) fn generator_dir(self) -> PathBuf {
        match self {
            Scope::System => PathBuf::from("/run/systemd/generator"),
            Scope::User => env::var_os("XDG_RUNTIME_DIR")
                .map_or_else(
                    || PathBuf::from(format!("/run/user/{}", nix::unistd::getuid())),
                    PathBuf::from,
                )
                .join("systemd/generator"),
        }
    }

    /// Where the Debian package installs the static template units.
    pub(crate) fn packaged_unit_dir(self) -> &'static Path {
        match self {
            Scope::System => Path::new("/usr/lib/systemd/system"),
            Scope::User => Path::new("/usr/lib/systemd/user"),
        }
    }

    /// The project's state directory (round counter, verdicts). Under systemd the unit's
    /// `$STATE_DIRECTORY` wins; this is the same place computed without it.
    pub(crate) fn state_dir(self, project: &str) -> PathBuf {
        match self {
            Scope::System => Path::new("/var/lib/agent-runner").join(project),
            Scope::User => xdg_dir("XDG_STATE_HOME", ".local/state")
                .join("agent-runner")
                .join(project),
        }
    }

    /// The project's default log directory when `log_dir` is not set.
    pub(crate) fn default_log_dir(self, project: &str) -> PathBuf {
        match self {
            Scope::System => Path::new("/var/log/agent-runner").join(project),
            Scope::User => self.state_dir(project).join("log"),
        }
    }

    /// Where open alerts are kept, one file per project. Not the state directory: the agent can
    /// write that, and must not be able to clear an alert. In the system manager this is root's
    /// (created by the package and by `generate`, written by root's steps); in a user manager
    /// the agent runs as the operator, who owns every place the store could be.
    /// `AGENT_RUNNER_ALERTS_DIR` overrides it (tests).
    pub(crate) fn alerts_dir(self) -> PathBuf {
        if let Some(dir) = env::var_os("AGENT_RUNNER_ALERTS_DIR") {
            return PathBuf::from(dir);
        }
        match self {
            Scope::System => PathBuf::from("/var/lib/agent-runner-alerts"),
            Scope::User => xdg_dir("XDG_STATE_HOME", ".local/state").join("agent-runner-alerts"),
        }
    }

    /// Where the notifier keeps its place in the journal and what it delivered, one file per
    /// project: agent-runner-notify@.service's `StateDirectory=` (`$STATE_DIRECTORY`), owned by
    /// the notifier's own user, which the agent cannot write. `AGENT_RUNNER_NOTIFY_DIR` overrides
    /// it (tests).
    pub(crate) fn notify_dir(self) -> PathBuf {
        if let Some(dir) = env::var_os("AGENT_RUNNER_NOTIFY_DIR") {
            return PathBuf::from(dir);
        }
        if let Some(dir) = env::var_os("STATE_DIRECTORY").filter(|d| !d.is_empty()) {
            let dir = dir
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            return PathBuf::from(dir);
        }
        match self {
            Scope::System => PathBuf::from("/var/lib/agent-runner-notify"),
            Scope::User => xdg_dir("XDG_STATE_HOME", ".local/state").join("agent-runner-notify"),
        }
    }

    /// Where the parks of shared provider accounts are kept, one file per account: written by
    /// root's after-round step, read by every round of the account's projects (0644). Like the
    /// alerts, not a place the agent can write in the system manager; in a user manager the agent
    /// runs as the operator, who owns it and could rewrite it.
    /// `AGENT_RUNNER_ACCOUNTS_DIR` overrides it (tests).
    pub(crate) fn accounts_dir(self) -> PathBuf {
        if let Some(dir) = env::var_os("AGENT_RUNNER_ACCOUNTS_DIR") {
            return PathBuf::from(dir);
        }
        match self {
            Scope::System => PathBuf::from("/var/lib/agent-runner-accounts"),
            Scope::User => xdg_dir("XDG_STATE_HOME", ".local/state").join("agent-runner-accounts"),
        }
    }

    /// `--user` for messages that suggest a command.
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Scope::System => "",
            Scope::User => " --user",
        }
    }
}

/// The home directory, or `/` when it cannot be known (a system service with no `$HOME`).
pub(crate) fn home_dir() -> PathBuf {
    env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

fn xdg_dir(var: &str, fallback: &str) -> PathBuf {
    match env::var_os(var) {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => home_dir().join(fallback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_output_is_run_systemd_generator() {
        assert_eq!(
            Scope::System.generator_dir(),
            PathBuf::from("/run/systemd/generator")
        );
        assert!(Scope::User.generator_dir().ends_with("systemd/generator"));
    }
}
