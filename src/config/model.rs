//! The validated project: what every command reads after [`super::load`] has checked the file.
//! Defaults are applied and paths are absolute; nothing here touches the file system.

use std::collections::BTreeMap;
use std::path::PathBuf;

use regex::Regex;
use serde::Serialize;

use super::progress::{Goal, Progress};
use crate::paths::Scope;

/// The rule a project name follows (it is used as the systemd unit instance name as it is), as
/// shown in error messages.
pub(crate) const PROJECT_NAME_RULE: &str =
    "a letter or digit, then up to 63 letters, digits, `_`, `.` or `-`";

/// Whether `name` is a valid project name (and therefore a valid unit instance name as it is).
pub(crate) fn valid_project_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A validated project: everything a command needs, with defaults applied and paths absolute.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Project {
    /// The project (and unit instance) name.
    pub name: String,
    /// The TOML file it was read from.
    pub source: PathBuf,
    /// The manager the project runs under.
    pub scope: Scope,
    /// How to run the agent.
    pub agent: Agent,
    /// Where and how long rounds run.
    pub runtime: Runtime,
    /// The default prompt.
    pub prompt: PromptSpec,
    /// Phases in rotation order; empty when the project has none.
    pub phases: Vec<Phase>,
    /// What to do with a dirty work tree after a round.
    pub vcs: Vcs,
    /// Limits on spend, and the cost-spike alert.
    pub budget: super::spend::Budget,
    /// Prices per model (over the shipped defaults).
    pub pricing: super::spend::Pricing,
    /// The detectors' thresholds.
    pub alerts: Alerts,
    /// The brakes on rounds that change nothing or the same thing again.
    pub progress: Progress,
    /// The operator's checks that end the loop as done.
    pub goal: Goal,
    /// `[notify]` as this file sets it (merged with the shared file by [`super::notify_load::settings`]).
    pub notify: super::notify::NotifyKeys,
    /// What systemd allows the round service to use.
    pub limits: super::limits::Limits,
    /// When rounds may start their agent.
    pub schedule: super::windows::Schedule,
    /// The operator's commands before and after each round's agent.
    pub hooks: super::hooks::Hooks,
}

/// `[agent]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Agent {
    /// argv of the agent, before the prompt arguments.
    pub command: Vec<String>,
    /// Arguments appended after `command`; `{prompt}` / `{prompt_file}` are substituted.
    pub prompt_arg_template: Vec<String>,
    /// How the prompt reaches the agent.
    pub prompt_delivery: PromptDelivery,
    /// Extra environment for the agent.
    pub env: BTreeMap<String, String>,
    /// systemd credentials: name → file the credential is loaded from.
    pub credentials: BTreeMap<String, PathBuf>,
    /// Output substring that marks the end of the agent's work; `None` disables the grace timer.
    pub terminal_marker: Option<String>,
    /// The preset the project was created from, if any.
    pub preset: Option<String>,
    /// The signal that asks the agent to stop cooperatively.
    pub stop_signal: StopSignal,
    /// Which output parser classifies the agent's stream.
    pub output_format: OutputFormat,
    /// The preset recognised from the command's program when the file names none: its stop
    /// signal, terminal marker, parser and state paths apply.
    pub inferred_preset: Option<String>,
    /// Directories below the home of the user rounds run as, where the CLI keeps its logins,
    /// sessions and memory (relative, normalised, none inside another).
    pub state_paths: Vec<PathBuf>,
    /// The variable the units set so that the CLI keeps all its state in one of `state_paths`.
    pub config_dir_env: Option<ConfigDirEnv>,
    /// What to renew or which login to run when the agent cannot authenticate, as its preset
    /// says it.
    pub preset_auth_hint: Option<String>,
    /// The provider account this project shares with others on the host (one throttle, and
    /// the account's own budget).
    pub account: Option<String>,
    /// argv put before the agent's (a container runtime's `run`, say); empty when none. Signals
    /// to stop the agent reach the first process of it.
    pub exec_prefix: Vec<String>,
}

/// A variable naming the CLI's config directory: set by the system units to `dir` below the home
/// of the user rounds run as, since the CLI would otherwise write `home_files` directly in that
/// home, which the units keep read-only.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConfigDirEnv {
    /// The variable (`CLAUDE_CONFIG_DIR`).
    pub var: String,
    /// The directory it names, relative to the home; one of the state paths.
    pub dir: PathBuf,
    /// The files kept in the home when the variable is unset (`.claude.json`).
    pub home_files: Vec<String>,
}

/// How much earlier than the end of the cool-down the timer starts the round service, at most:
/// systemd's sandbox setup and the runner's start-up then happen inside the cool-down, and the
/// runner waits out the rest before the agent starts (`round::cooldown`).
pub(crate) const COOLDOWN_LEAD_MAX_MS: u64 = 500;

impl Runtime {
    /// The cool-down, in milliseconds.
    pub(crate) fn restart_delay_ms(&self) -> u64 {
        self.restart_delay_s.saturating_mul(1000)
    }

    /// How early the timer fires: half the cool-down, at most [`COOLDOWN_LEAD_MAX_MS`].
    pub(crate) fn cooldown_lead_ms(&self) -> u64 {
        (self.restart_delay_ms() / 2).min(COOLDOWN_LEAD_MAX_MS)
    }

    /// What the timer waits after a round's unit went inactive.
    pub(crate) fn timer_delay_ms(&self) -> u64 {
        self.restart_delay_ms() - self.cooldown_lead_ms()
    }
}

impl Agent {
    /// What to renew or which login to run when the agent cannot authenticate: its preset's
    /// words, else the general ones.
    pub(crate) fn auth_hint(&self) -> &str {
        self.preset_auth_hint.as_deref().unwrap_or(
            "renew the credential in [agent.credentials], or log the agent CLI in again as the user rounds run as",
        )
    }

    /// The `[agent.env]` entries whose names say they hold a secret: `check` warns about each,
    /// and a round masks their values in every event as it masks the credentials'.
    pub(crate) fn secret_env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.env
            .iter()
            .filter(|(name, _)| looks_like_a_secret(name))
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

/// Whether an environment variable name usually holds a secret.
fn looks_like_a_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w))
}

/// How the assembled prompt reaches the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PromptDelivery {
    /// Written to the agent's stdin, which is then closed.
    Stdin,
    /// Substituted for `{prompt}` in the arguments (visible in `ps`).
    Argv,
    /// Written to a file whose path is substituted for `{prompt_file}`.
    File,
}

/// The agent's cooperative stop signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum StopSignal {
    /// SIGINT (claude finishes its turn on it).
    #[serde(rename = "SIGINT")]
    Int,
    /// SIGTERM.
    #[serde(rename = "SIGTERM")]
    Term,
}

/// `[runtime]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Runtime {
    /// The agent's working directory (a git repository).
    pub work_dir: PathBuf,
    /// Round logs, the events mirror and `.agent-done`.
    pub log_dir: PathBuf,
    /// Whether `log_dir` was set explicitly (else systemd's LogsDirectory= is used).
    pub log_dir_explicit: bool,
    /// The unprivileged user rounds run as (`None`: the manager's default).
    pub user: Option<String>,
    /// Seconds between the end of a round and the start of the next.
    pub restart_delay_s: u64,
    /// An optional OnCalendar= expression adding scheduled rounds.
    pub schedule: Option<String>,
    /// Hard limit of one round, in seconds.
    pub round_timeout_s: u64,
    /// Seconds the agent has to show life (first output or `agent-runner checkin`).
    pub checkin_timeout_s: u64,
    /// Consecutive check-in failures before the project is marked offline.
    pub checkin_attempts: u32,
    /// Watchdog: the agent must produce output at least this often (`None`: off).
    pub watchdog_s: Option<u64>,
    /// Stop the loop after this many rounds.
    pub max_rounds: Option<u64>,
    /// Operator pause file.
    pub stop_file: Option<PathBuf>,
    /// How many round logs to keep.
    pub round_log_retention: u32,
    /// What a transient error (rate limit, 5xx) does to the loop.
    pub transient_error_action: TransientAction,
    /// Consecutive short crashes that halt the loop.
    pub crash_loop_threshold: u32,
    /// A crash shorter than this many seconds counts as short.
    pub short_crash_s: u64,
    /// Consecutive rounds that fail to authenticate before the loop halts.
    pub auth_fail_halt_after: u32,
    /// Seconds to wait after the terminal marker before killing an agent that lingers (`None`: off).
    pub max_grace_after_result_s: Option<u64>,
    /// Processes matching these never keep a round alive after the terminal marker.
    #[serde(serialize_with = "serialize_regexes")]
    pub grace_kill_ignore_patterns: Vec<Regex>,
    /// A file the agent keeps a narrative in, shown by `peek`.
    pub narrative_file: Option<PathBuf>,
}

/// `transient_error_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TransientAction {
    /// Wait until the reset time (or the class default), then resume.
    BackOff,
    /// Halt the loop.
    Stop,
    /// Carry on as if nothing happened.
    Ignore,
}

/// `[prompt]` or a phase's prompt.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PromptSpec {
    /// Files concatenated into the prompt, in order.
    pub files: Vec<PathBuf>,
    /// Put between two files.
    pub concat_separator: String,
}

/// One `[phases.NAME]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Phase {
    /// The phase name.
    pub name: String,
    /// The prompt for rounds of this phase.
    pub prompt: PromptSpec,
    /// Round timeout for this phase.
    pub round_timeout_s: u64,
}

/// `[vcs]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Vcs {
    /// What to do with a dirty tree after a round.
    pub dirty_action: DirtyAction,
    /// Paths never stashed nor committed (absolute).
    pub protect: Vec<PathBuf>,
}

/// `[alerts]`: when the detectors raise an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Alerts {
    /// The rounds the rate detectors look back over.
    pub window_rounds: u32,
    /// Warn when at least this share of the window failed on the network.
    pub network_failure_percent: u8,
    /// Warn when at least this share of the window hit its timeout.
    pub timeout_percent: u8,
    /// Warn when this many rounds in a row left changes that were stashed.
    pub repeated_stashes: u32,
    /// Warn when this many rounds in a row ended with the same error.
    pub repeated_error_rounds: u32,
    /// Warn when the log or work directory's file system is this full.
    pub disk_warn_percent: u8,
    /// Halt the loop when it is this full.
    pub disk_halt_percent: u8,
    /// The loop is stale when no round ended for this many times its cadence
    /// (restart_delay_s + round_timeout_s).
    pub stale_factor: u32,
}

impl Default for Alerts {
    fn default() -> Self {
        Self {
            window_rounds: 10,
            network_failure_percent: 50,
            timeout_percent: 50,
            repeated_stashes: 3,
            repeated_error_rounds: 3,
            disk_warn_percent: 90,
            disk_halt_percent: 95,
            stale_factor: 3,
        }
    }
}

/// `dirty_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DirtyAction {
    /// Leave the tree as it is.
    Ignore,
    /// `git stash push` what the agent left (the SHA is recorded).
    Stash,
    /// Commit what the agent left.
    Commit,
}

fn serialize_regexes<S: serde::Serializer>(v: &[Regex], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(Regex::as_str))
}

impl Project {
    /// The phase for round `round` (1-based), by rotation.
    pub(crate) fn phase_for_round(&self, round: u64) -> Option<&Phase> {
        if self.phases.is_empty() {
            return None;
        }
        let len = self.phases.len() as u64;
        let index = usize::try_from(round.saturating_sub(1) % len).unwrap_or(0);
        self.phases.get(index)
    }

    /// The path of the `.agent-done` sentinel.
    pub(crate) fn agent_done_file(&self) -> PathBuf {
        self.runtime.log_dir.join(".agent-done")
    }
}

/// How the agent's output is parsed for classification (rate limits, usage, auth failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum OutputFormat {
    /// claude `--output-format stream-json`, and qwen's, which took its shape.
    ClaudeStreamJson,
    /// gemini `-o stream-json`.
    GeminiStreamJson,
    /// codex `exec --json`.
    CodexJson,
    /// Plain text: only pattern-based classification (auth, network).
    Text,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_name_rule() {
        for good in ["a", "A1", "my-proj", "x.y_z", &"a".repeat(64)] {
            assert!(valid_project_name(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            ".a",
            "_a",
            "a b",
            "a/b",
            "a\\x2d",
            "ä",
            &"a".repeat(65),
            "a@b",
        ] {
            assert!(!valid_project_name(bad), "{bad}");
        }
    }
}
