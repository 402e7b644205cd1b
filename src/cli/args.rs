//! The command line (clap). Raw arguments stop here: `cli::dispatch` turns them into the
//! validated option types of each command module, which never see clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::ProjectRef;
use crate::error::{Error, Result};
use crate::paths::Scope;

const WORKFLOW: &str = "\
Workflow:
  git init /srv/research && cd /srv/research   the work dir: a git repository
  agent-runner init --preset shell research    research.toml, a prompt and an example agent
  editor /etc/agent-runner/prompts/research/main.md
  agent-runner check research                  validate it and run the startup battery
  agent-runner generate                        render units for every project, reload systemd
  agent-runner start research                  start the loop (round 1 now)
  agent-runner status                          every project at a glance
  agent-runner events research --follow        its events as they happen
  agent-runner stop research                   graceful stop: the running round finishes
As root; for your own manager add --user, with the work dir and ~/.config/agent-runner in your home.";

/// What `--help` shows below the options: the workflow and every exit status.
fn after_help() -> String {
    format!(
        "{WORKFLOW}\n\nExit status: {}.\nSee agent-runner(1), agent-runner.toml(5) and agent-runner.units(7).",
        crate::error::exit::summary()
    )
}

/// Keep an autonomous CLI coding agent working round after round, supervised by systemd.
#[derive(Debug, Parser)]
#[command(name = "agent-runner", version, about, after_help = after_help(), max_term_width = 100)]
pub(crate) struct Cli {
    /// Use the calling user's systemd manager and ~/.config/agent-runner instead of the system's.
    #[arg(long, global = true)]
    pub user: bool,

    /// Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek,
    /// events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its
    /// manager; the other commands refuse it.
    #[arg(long, short = 'H', global = true, value_name = "[USER@]HOST")]
    pub host: Option<String>,

    /// Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never.
    /// JSON is never coloured.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: ColorWhen,

    /// The command to run.
    #[command(subcommand)]
    pub command: CliCommand,
}

/// A project named on the command line, or a TOML file given with `--config`.
#[derive(Debug, Args, Clone)]
pub(crate) struct ProjectArg {
    /// The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user).
    #[arg(value_name = "NAME", required_unless_present = "config")]
    pub name: Option<String>,

    /// Read the project from this TOML file instead of the config directory.
    #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "name")]
    pub config: Option<PathBuf>,
}

/// Like [`ProjectArg`], but naming a project is optional (the command then covers all of them).
#[derive(Debug, Args, Clone)]
pub(crate) struct OptionalProjectArg {
    /// The project name; omit it to cover every project in the config directory.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// Read the project from this TOML file instead of the config directory.
    #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "name")]
    pub config: Option<PathBuf>,
}

/// The arguments of `import`.
#[derive(Debug, Args, Clone)]
pub(crate) struct ImportArgs {
    /// The old runner's project file (agent-runner.toml).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The project name (default: the basename of the old work_dir).
    #[arg(long, short = 'n', value_name = "NAME")]
    pub name: Option<String>,
    /// Write the new project file here instead of the config directory.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the new file on stdout and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report (and with --dry-run the new file) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Replace an existing project file.
    #[arg(long)]
    pub force: bool,
}

impl From<ImportArgs> for crate::config::import::Options {
    fn from(a: ImportArgs) -> Self {
        Self {
            file: a.file,
            name: a.name,
            output: a.output,
            dry_run: a.dry_run,
            json: a.json,
            force: a.force,
        }
    }
}

/// The arguments of `logs`.
#[derive(Debug, Args, Clone)]
pub(crate) struct LogsArgs {
    /// Which project.
    #[command(flatten)]
    pub project: ProjectArg,
    /// Which round (default: the running or latest one).
    #[arg(long, value_name = "N")]
    pub round: Option<u64>,
    /// Show only the last N lines (found within the last 4 MiB of the log).
    #[arg(long, short = 'n', value_name = "N")]
    pub lines: Option<usize>,
    /// Keep printing as the log grows.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// One JSON object a line: {"round": N, "line": "..."}.
    #[arg(long)]
    pub json: bool,
}

impl From<&LogsArgs> for crate::observe::logs::LogsOptions {
    fn from(a: &LogsArgs) -> Self {
        Self {
            round: a.round,
            lines: a.lines,
            follow: a.follow,
            json: a.json,
        }
    }
}

/// The steps of `agent-runner halt`, one per helper unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HaltStep {
    /// agent-runner-halt@.service: record which stop trigger fired.
    Trigger,
    /// agent-runner-loop@.service: clear the previous loop's sentinels, start a new loop.
    LoopStart,
    /// agent-runner-after@.service: what follows a round (back-off, halts, notifier).
    AfterRound,
}

impl From<HaltStep> for crate::control::halt::Step {
    fn from(step: HaltStep) -> Self {
        match step {
            HaltStep::Trigger => Self::Trigger,
            HaltStep::LoopStart => Self::LoopStart,
            HaltStep::AfterRound => Self::AfterRound,
        }
    }
}

/// When to colour (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set to anything but the empty string.
    Auto,
    /// Always, even into a pipe (for `less -R`).
    Always,
    /// Never.
    Never,
}

impl From<ColorWhen> for crate::output::ColourChoice {
    fn from(when: ColorWhen) -> Self {
        match when {
            ColorWhen::Auto => Self::Auto,
            ColorWhen::Always => Self::Always,
            ColorWhen::Never => Self::Never,
        }
    }
}

/// Shells `completions` can write scripts for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Shell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub(crate) enum CliCommand {
    /// Write a new project file from a preset, with a prompts/ scaffold.
    ///
    /// The file goes to the config directory (/etc/agent-runner, or ~/.config/agent-runner with
    /// --user) unless --dir says otherwise. Existing files are never overwritten without --force, and
    /// an edited prompt never without --force-prompts. The shell preset also writes an example
    /// agent, prompts/PROJECT/agent.sh, that runs as it is.
    Init {
        /// The agent preset: claude, codex, gemini, aider, kimi, pi, qwen, or shell (any command).
        #[arg(long, short = 'p', value_name = "PRESET")]
        preset: String,
        /// The new project's name (also its unit instance name).
        #[arg(value_name = "PROJECT")]
        project: String,
        /// Write PROJECT.toml and prompts/ into DIR instead of the config directory.
        #[arg(long, short = 'd', value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The agent's working directory (a git repository); defaults to the current directory.
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
        /// Overwrite the project file; the prompt (and the shell preset's example agent) only
        /// while they are still what init wrote.
        #[arg(long)]
        force: bool,
        /// Overwrite the prompt and the example agent even when they were edited.
        #[arg(long)]
        force_prompts: bool,
    },
    /// Turn a cli-agent-runner 0.3.x agent-runner.toml into an agent-runner project file.
    ///
    /// Every key of the old file is reported (on stderr, or as JSON on stdout with --json):
    /// mapped onto a new key (its value converted where the meaning changed), written out because
    /// the old default differs, replaced by a systemd setting, dropped (with why), or DECIDE: a
    /// feature agent-runner does not have, for the operator to settle. The new file is checked
    /// before it is written to /etc/agent-runner/NAME.toml (or ~/.config/agent-runner with
    /// --user); an existing file is never overwritten without --force.
    Import(ImportArgs),
    /// Validate a project and run the startup battery; lists every problem (exit 0 or 78).
    Check {
        /// Which project(s).
        #[command(flatten)]
        project: OptionalProjectArg,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Render the systemd units of every project (or the named ones) and reload systemd.
    ///
    /// Units go to /etc/systemd/system (or ~/.config/systemd/user with --user). Files that
    /// generate wrote for projects whose TOML is gone are removed; nothing else is touched.
    Generate {
        /// Projects to render; all projects in the config directory when omitted.
        #[arg(value_name = "NAME")]
        names: Vec<String>,
        /// Render the project in this TOML file.
        #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "names")]
        config: Option<PathBuf>,
        /// Write the complete unit set (templates included) into DIR; implies --no-reload.
        #[arg(long, short = 'o', value_name = "DIR")]
        output: Option<PathBuf>,
        /// Print what would be written, as ---PATH--- blocks, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask systemd to reload its units after writing (the next generate without it
        /// reloads, even when it finds nothing to change).
        #[arg(long)]
        no_reload: bool,
        /// The agent-runner binary ExecStart= runs (default: the binary running this command).
        #[arg(long, value_name = "PATH")]
        exec: Option<PathBuf>,
        /// Target this systemd version instead of asking the running manager.
        #[arg(long, value_name = "N")]
        systemd_version: Option<u32>,
        /// Print what was done as JSON: per project the files written and unchanged and its
        /// startup-battery warnings, the templates, the stale files removed, the project files
        /// that do not load, and whether systemd was reloaded.
        #[arg(long, conflicts_with = "dry_run")]
        json: bool,
    },
    /// Run exactly one round of a project, by hand (the service runs the same round as agent-runner-round).
    Round {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Tell the running round that the agent is alive (for agents that are silent at first).
    Checkin,
    /// Start a project's loop: round 1 now, the next ones after restart_delay_s.
    Start {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Stop a project's loop gracefully: no new round starts, the running one finishes.
    Stop {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Terminate the running round too (cooperative signal, then kill).
        #[arg(long)]
        now: bool,
    },
    /// Restart a project's loop, whatever state it is in (failed, halted, offline).
    Restart {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Terminate the running round and stop the loop at once.
    Kill {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Start the project's loop at boot.
    Enable {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Also start it now.
        #[arg(long)]
        now: bool,
    },
    /// No longer start the project's loop at boot.
    Disable {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Also stop it now.
        #[arg(long)]
        now: bool,
    },
    /// One line per project (or details of one): state, round, last outcome, next round.
    Status {
        /// Which project(s).
        #[command(flatten)]
        project: OptionalProjectArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Everything known about one project: units, state, recent rounds, config drift.
    Peek {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Show this round instead of the latest.
        #[arg(long, value_name = "N")]
        round: Option<u64>,
        /// Include the tail of the round's log.
        #[arg(long)]
        log: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A project's events, from the journal (or the JSON mirror when the journal is unreadable).
    Events {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Keep printing new events as they happen.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Only events of this kind (repeatable), e.g. round_end.
        #[arg(long, value_name = "KIND")]
        kind: Vec<String>,
        /// Only events since this time (journalctl syntax: "1h ago", "2026-11-22 10:00").
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Show at most this many past events.
        #[arg(long, short = 'n', value_name = "N")]
        lines: Option<usize>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Print the current round's log (or round N's).
    Logs(LogsArgs),
    /// Find what is wrong with a project, layer by layer, and say how to fix it.
    ///
    /// Exit 0 when healthy, 1 when a layer fails, 69 when systemd is unreachable. A project
    /// whose file does not load is diagnosed from where its name puts its units, state and logs,
    /// with the file's problem as the first finding (layer `config`); a file given with
    /// --config that does not load is exit 78.
    Diagnose {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the status page, the JSON API and Prometheus metrics over HTTP (started by
    /// agent-runner-web.socket, or in the foreground with --listen).
    Web {
        /// Listen on ADDR (e.g. 127.0.0.1:8765) instead of the socket systemd passes.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Exit after SECS without a request (0: never) [default: 60 under socket
        /// activation, never with --listen].
        #[arg(long, value_name = "SECS")]
        idle_exit: Option<u64>,
    },
    /// Print the Prometheus metrics of every project (what /metrics of `web` serves).
    Metrics {
        /// Replace FILE atomically instead (node-exporter's textfile collector reads
        /// /var/lib/prometheus/node-exporter/*.prom).
        #[arg(long, value_name = "FILE")]
        textfile: Option<PathBuf>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the project names of the config directory, one a line (what the shell completions
    /// offer for NAME).
    #[command(hide = true)]
    ProjectNames,
    /// The loop's helper steps (run by the units; not for interactive use).
    #[command(hide = true)]
    Halt {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Which step: `trigger` (a stop trigger fired), `loop-start` or `after-round`.
        #[arg(long, value_enum, default_value = "trigger")]
        step: HaltStep,
    },
    /// Run the detectors of every project (or one) between rounds (agent-runner-watch.service).
    #[command(hide = true)]
    Watch {
        /// Which project(s).
        #[command(flatten)]
        project: OptionalProjectArg,
    },
    /// Deliver the project's notifications ([notify]): what agent-runner-notify@NAME.service runs.
    /// With --test, send a test notification to every receiver now and say how each went.
    Notify {
        /// Which project.
        #[command(flatten)]
        project: ProjectArg,
        /// Send a made-up `notify_test` event to every receiver (nothing remembered, no event).
        #[arg(long)]
        test: bool,
    },
    /// Write the man pages into DIR (used to build the package).
    #[command(hide = true)]
    Man {
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = "man")]
        output: PathBuf,
    },
    /// Print the journal catalog of every event kind (packaging/agent-runner.catalog).
    #[command(hide = true)]
    Catalog,
    /// Render every project file into systemd's generator directory (run by systemd as
    /// agent-runner-generator at boot and on daemon-reload; see systemd.generator(7)).
    #[command(hide = true)]
    Generator {
        /// The normal, early and late output directories systemd passes (only the first is used).
        #[arg(value_name = "DIR", num_args = 1..=3, required = true)]
        dirs: Vec<PathBuf>,
    },
}

impl ProjectArg {
    /// The validated reference.
    pub(crate) fn to_ref(&self) -> Result<ProjectRef> {
        match (&self.name, &self.config) {
            (_, Some(file)) => Ok(ProjectRef::File(file.clone())),
            (Some(name), None) => Ok(ProjectRef::Name(name.clone())),
            (None, None) => Err(Error::Usage("name a project, or give --config FILE".into())),
        }
    }
}

impl OptionalProjectArg {
    /// The validated reference, or `None` for "every project".
    pub(crate) fn to_ref(&self) -> Option<ProjectRef> {
        match (&self.name, &self.config) {
            (_, Some(file)) => Some(ProjectRef::File(file.clone())),
            (Some(name), None) => Some(ProjectRef::Name(name.clone())),
            (None, None) => None,
        }
    }
}

impl Cli {
    /// The manager scope selected by `--user`.
    pub(crate) fn scope(&self) -> Scope {
        Scope::from_user_flag(self.user)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_every_exit_status() {
        // clap wraps the text at the terminal's width: compare words, not lines.
        let help = Cli::command().render_long_help().to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for meaning in crate::error::exit::MEANINGS {
            let entry = format!("{} {}", meaning.code, meaning.brief);
            assert!(help.contains(&entry), "`{entry}` not in --help:\n{help}");
        }
    }
}
