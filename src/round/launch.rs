//! The round begins: the state's counters bumped, the prompt delivered, the runner made ready to
//! watch (signals, subreaper, check-in socket, output pipe) and the agent spawned in its own
//! process group, with its environment, in work_dir.
//!
//! Only what the agent needs happens here, before its spawn: creating files costs milliseconds
//! per new inode on a busy ext4, so the round log, `round-current.log`, the state write and the
//! first events come after it (bench/README.md has the numbers).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use sd_notify::NotifyState;

use super::checkin::{self, CHECKIN_ENV};
use super::notify::{EXTEND_SLACK, notify, usec};
use super::prompt::{self, Prompt};
use super::setup::{Dirs, config_broken, problem};
use super::spawn;
use super::state::{Begun, State};
use super::stop::TERM_GRACE;
use crate::config::battery;
use crate::config::{Project, PromptSpec};
use crate::error::{Error, Result};
use crate::events::Emitter;

/// The systemd variables meant for the runner, not for the agent.
pub(super) const RUNNER_ONLY_ENV: [&str; 9] = [
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "JOURNAL_STREAM",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "CREDENTIALS_DIRECTORY",
    "AGENT_RUNNER_STATE_DIR",
];

/// The round that has begun.
pub(crate) struct Round<'p> {
    /// Its number.
    pub number: u64,
    /// Its phase's name, when the project has phases.
    pub phase: Option<&'p str>,
    /// Its prompt (the phase's, if any).
    pub prompt: &'p PromptSpec,
    /// Its hard time limit (the phase's, if any).
    pub timeout_s: u64,
    /// What beginning it found: a new loop, the end of a back-off.
    pub begun: Begun,
    /// A round whose runner died without finishing (SIGKILL, power loss) left `running` behind.
    pub unfinished: Option<u64>,
    /// The runner's pid.
    pub runner_pid: u32,
}

impl Round<'_> {
    /// "round 7 (build)" for STATUS lines and the summary.
    pub(crate) fn label(&self) -> String {
        match self.phase {
            Some(p) => format!("round {} ({p})", self.number),
            None => format!("round {}", self.number),
        }
    }
}

/// The agent, running, and what the runner watches it through.
pub(crate) struct Agent {
    /// Its pid, also its process group.
    pub pid: i32,
    /// The read end of its merged stdout and stderr.
    pub output: OwnedFd,
    /// SIGCHLD and the stop signals.
    pub signals: SignalFd,
    /// The check-in socket, if it could be bound.
    pub checkin: Option<UnixDatagram>,
    /// Just before the spawn.
    pub spawned_at: Instant,
}

/// Begins a round in the state (counters, phase, new loop, end of a throttle).
pub(crate) fn begin<'p>(project: &'p Project, st: &mut State, now: u64) -> Round<'p> {
    let runner_pid = std::process::id();
    let unfinished = st.running.as_ref().map(|r| r.round);
    let begun = st.begin_round(now, project.phases.len(), runner_pid);
    let phase = begun.phase_index.and_then(|i| project.phases.get(i));
    if let Some(r) = &mut st.running {
        r.phase = phase.map(|p| p.name.clone());
    }
    Round {
        number: begun.round,
        phase: phase.map(|p| p.name.as_str()),
        prompt: phase.map_or(&project.prompt, |p| &p.prompt),
        timeout_s: phase.map_or(project.runtime.round_timeout_s, |p| p.round_timeout_s),
        begun,
        unfinished,
        runner_pid,
    }
}

/// Assembles the round's prompt (its phase's, if any) and delivers it: returns it with the
/// agent's stdin.
pub(crate) fn prompt(
    project: &Project,
    state_dir: &Path,
    emitter: &Emitter,
    round: &Round<'_>,
) -> Result<(Prompt, OwnedFd)> {
    let text = match prompt::assemble(round.prompt, &project.source) {
        Ok(t) => t,
        Err(Error::Config(problems)) => {
            return Err(config_broken(project, emitter, Some(state_dir), problems));
        }
        Err(e) => return Err(e),
    };
    prompt::deliver(project, &text, state_dir, round.number)
}

/// Spawns the agent: its output on a pipe, its stdin `stdin`, its environment, in work_dir.
pub(crate) fn spawn(
    project: &Project,
    dirs: &Dirs,
    emitter: &Emitter,
    round: &Round<'_>,
    prompt: &Prompt,
    stdin: OwnedFd,
    secrets: &[(String, String)],
) -> Result<Agent> {
    let signals = route_signals()?;
    // Orphans of the agent re-parent to us, so none escapes the round.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let checkin = checkin::bind(&project.name, round.runner_pid);

    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| Error::Failed(format!("cannot create a pipe: {e}")))?;
    let write_err: OwnedFd = write_end
        .try_clone()
        .map_err(|e| Error::Failed(format!("cannot duplicate a pipe: {e}")))?;

    let argv = prefixed(&project.agent.exec_prefix, &prompt.argv);
    let program = program(project, &argv[0]);
    let checkin_name = checkin.as_ref().map(|(_, name)| name.as_str());
    let env = environment(project, &dirs.log, round, secrets, checkin_name);
    enter_work_dir(project, dirs, emitter)?;
    let extend = Duration::from_secs(project.runtime.checkin_timeout_s) + TERM_GRACE + EXTEND_SLACK;
    notify(&[
        NotifyState::ExtendTimeoutUsec(usec(extend)),
        NotifyState::Status(&format!("round {}: starting the agent", round.number)),
    ]);
    let spawned_at = Instant::now();
    let pid = match spawn::spawn(&program, &argv, &env, [stdin, write_end, write_err]) {
        Ok(pid) => pid,
        Err(e) => {
            let p = problem(
                project,
                format!(
                    "the agent command {} cannot be started: {}",
                    program.display(),
                    e.desc()
                ),
                "check [agent] command and PATH",
            );
            return Err(config_broken(project, emitter, Some(&dirs.state), vec![p]));
        }
    };
    // spawn() consumed our copies of the pipe's write end: EOF comes when the agent's go.
    Ok(Agent {
        pid,
        output: read_end,
        signals,
        checkin: checkin.map(|(socket, _)| socket),
        spawned_at,
    })
}

/// The agent's (and the hooks') cwd is work_dir: posix_spawn inherits ours (every path the runner
/// uses is absolute).
pub(super) fn enter_work_dir(project: &Project, dirs: &Dirs, emitter: &Emitter) -> Result<()> {
    std::env::set_current_dir(&project.runtime.work_dir).map_err(|e| {
        let p = problem(
            project,
            format!(
                "work_dir {} cannot be entered: {e}",
                project.runtime.work_dir.display()
            ),
            "fix its permissions or [runtime] work_dir",
        );
        config_broken(project, emitter, Some(&dirs.state), vec![p])
    })
}

/// The argv spawned: `[agent] exec_prefix` (a container runtime's `run`, say), then the agent's.
fn prefixed<'a>(prefix: &[String], argv: &'a [String]) -> std::borrow::Cow<'a, [String]> {
    if prefix.is_empty() {
        std::borrow::Cow::Borrowed(argv)
    } else {
        std::borrow::Cow::Owned(prefix.iter().chain(argv).cloned().collect())
    }
}

/// SIGCHLD and the stop signals are blocked and arrive through a signalfd. The agent (and every
/// hook) is spawned with an empty signal mask (spawn.rs), so it does not inherit the block.
pub(super) fn route_signals() -> Result<SignalFd> {
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
    ] {
        mask.add(s);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
        .map_err(|e| Error::Failed(format!("cannot block signals: {e}")))?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::Failed(format!("cannot create a signalfd: {e}")))
}

/// The agent's program: `command`'s first word looked up in the agent's PATH (its `[agent.env]`
/// one, else ours, else the service default), relative to work_dir.
pub(super) fn program(project: &Project, command: &str) -> PathBuf {
    let path_var = project
        .agent
        .env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_else(|| battery::SERVICE_PATH.to_string());
    battery::resolve_program(command, &path_var, &project.runtime.work_dir)
        .unwrap_or_else(|| PathBuf::from(command))
}

/// The agent's environment: ours minus systemd's own variables, plus `[agent.env]`, the
/// credentials and the round's `AGENT_RUNNER_*` variables.
pub(super) fn environment(
    project: &Project,
    log_dir: &Path,
    round: &Round<'_>,
    secrets: &[(String, String)],
    checkin: Option<&str>,
) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = std::env::vars_os().collect();
    for var in RUNNER_ONLY_ENV {
        env.remove(OsStr::new(var));
    }
    let mut set = |k: &str, v: &OsStr| {
        env.insert(k.into(), v.to_os_string());
    };
    for (k, v) in &project.agent.env {
        set(k, OsStr::new(v));
    }
    for (k, v) in secrets {
        set(k, OsStr::new(v));
    }
    set("AGENT_RUNNER_LOG_DIR", log_dir.as_os_str());
    set("AGENT_RUNNER_ROUND", OsStr::new(&round.number.to_string()));
    set("AGENT_RUNNER_PHASE", OsStr::new(round.phase.unwrap_or("")));
    set("AGENT_RUNNER_PROJECT", OsStr::new(&project.name));
    if let Some(name) = checkin {
        set(CHECKIN_ENV, OsStr::new(&format!("@{name}")));
    }
    env
}
