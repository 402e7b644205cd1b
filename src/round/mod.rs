//! `agent-runner round NAME`: exactly one round (DESIGN §4), what `ExecStart=` runs.
//!
//! Load and check the config → gate (stop triggers, back-off) → bump the state → assemble the
//! prompt → spawn the agent in its own process group → [`supervise`] it (log, check-in, timeouts,
//! grace, signals) → classify → VCS → verdict → state, events, log retention → exit status.

pub(crate) mod classify;
mod findings;
mod mask;
pub(crate) mod procs;
pub(crate) mod prompt;
mod scan;
pub(crate) mod spawn;
pub(crate) mod state;
pub(crate) mod supervise;
pub(crate) mod vcs;
mod verdict;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use sd_notify::NotifyState;

use self::classify::{Classified, Ending, Outcome, classify};
use self::scan::Scanner;
use self::state::{HaltReason, HaltRequest, State};
use self::supervise::{
    KillReason as Why, Limits, Note, Supervised as Report, TERM_GRACE, Watch, notify,
};
use self::verdict::{Finished, Policy};
use crate::config::ProjectRef;
use crate::config::battery::{self, Severity};
use crate::config::{Project, PromptDelivery};
use crate::context::Context;
use crate::error::{ConfigProblem, Error, Result, exit};
use crate::events::payload::{
    AgentAuthErrorDetected, AgentCheckin, AgentExit, AgentNetworkErrorDetected, AgentSpawn,
    CheckinFailed, ConfigBroken, CrashLoop, LoopStarted, MaxRoundsReached, ProjectOffline,
    RoundEnd, RoundGraceExtended, RoundGraceKill, RoundInterrupted, RoundOrphansKilled,
    RoundSkipped, RoundStart, RoundTimeoutKill, TransientErrorDetected, TransientErrorRecovered,
    TransientErrorStop,
};
use crate::events::{Emitter, Event};
use crate::{fsutil, redact};

/// How much of the log a crash_loop event carries.
const CRASH_TAIL_CHARS: usize = 2000;
/// The environment variable naming the check-in socket for `agent-runner checkin`.
pub(crate) const CHECKIN_ENV: &str = "AGENT_RUNNER_CHECKIN";

/// Runs one round and returns its exit status (0 ok, 75 transient, 78 config, 1 crash, 124 timeout).
pub(crate) fn run(ctx: &Context, reference: &ProjectRef) -> Result<u8> {
    let project = match crate::config::load_project(reference, ctx.scope) {
        Ok(p) => p,
        Err(e @ Error::Config(_)) => {
            broken_before_load(reference, &e);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    execute(&project)
}

/// The config did not even load: tell the journal and, under systemd, ask for a halt.
fn broken_before_load(reference: &ProjectRef, error: &Error) {
    let name = match reference {
        ProjectRef::Name(n) => n.clone(),
        ProjectRef::File(f) => f
            .file_stem()
            .map_or_else(|| "unknown".into(), |s| s.to_string_lossy().into_owned()),
    };
    let reason = error.to_string();
    let first = reason
        .lines()
        .next()
        .unwrap_or("invalid configuration")
        .to_string();
    let mut emitter = Emitter::new(&name, None);
    emitter.quiet_terminal();
    emitter.emit(
        None,
        None,
        &format!("configuration of {name} is broken: {first}"),
        ConfigBroken {
            reason: Some(reason),
            check: Some("config_valid".into()),
            config: None,
        },
    );
    let from_env = ["AGENT_RUNNER_STATE_DIR", "STATE_DIRECTORY"]
        .iter()
        .find_map(|v| std::env::var_os(v).filter(|d| !d.is_empty()));
    if let Some(dir) = from_env {
        let dir = dir
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_string();
        let _ = state::write_halt_request(
            Path::new(&dir),
            &HaltRequest {
                reason: HaltReason::ConfigBroken,
                message: redact::redact(&first).into_owned(),
            },
        );
    }
}

/// Records a configuration failure found after loading: event, state, halt request, exit 78.
fn config_broken(
    project: &Project,
    emitter: &Emitter,
    state_dir: Option<&Path>,
    problems: Vec<ConfigProblem>,
) -> Error {
    let reason = problems
        .iter()
        .map(|p| p.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let message = format!("configuration of {} is broken: {reason}", project.name);
    let mut emitter = emitter.clone();
    emitter.quiet_terminal();
    emitter.emit(
        None,
        None,
        &message,
        ConfigBroken {
            reason: Some(reason),
            check: None,
            config: Some(project.source.display().to_string()),
        },
    );
    if let Some(dir) = state_dir {
        if let Ok(mut st) = State::load(dir) {
            st.last_error = Some(redact::redact(&message).into_owned());
            st.verdict = state::Verdict {
                action: state::Action::Halt,
                until: None,
                reason: Some(HaltReason::ConfigBroken.as_str().into()),
            };
            st.running = None;
            let _ = st.save(dir);
        }
        let _ = state::write_halt_request(
            dir,
            &HaltRequest {
                reason: HaltReason::ConfigBroken,
                message: redact::redact(&message).into_owned(),
            },
        );
    }
    Error::Config(problems)
}

fn problem(project: &Project, message: String, hint: &str) -> ConfigProblem {
    ConfigProblem::new(&project.source, message).hint(hint)
}

#[allow(clippy::too_many_lines)]
fn execute(project: &Project) -> Result<u8> {
    let exec_at = Instant::now();
    // The configured (or scope default) log_dir, never $LOGS_DIRECTORY: the path unit, `halt` and
    // `status` all compute it from the config, and `.agent-done` must be where they look.
    let log_dir = project.runtime.log_dir.clone();
    let rounds_dir = log_dir.join("rounds");

    // The log directory first: without it there is no mirror and no round log.
    if let Err(e) = fs::create_dir_all(&rounds_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| battery::writable_dir(&rounds_dir))
    {
        let emitter = Emitter::new(&project.name, None);
        let dir = state::dir(project);
        let p = problem(
            project,
            format!("log_dir {} is not writable: {e}", log_dir.display()),
            "fix its permissions, point [runtime] log_dir somewhere writable, or run it under your own manager with --user",
        );
        return Err(config_broken(project, &emitter, Some(&dir), vec![p]));
    }
    let emitter = Emitter::new(&project.name, Some(&log_dir));

    // Absolute: the runner changes into work_dir before spawning the agent.
    let state_dir = state::dir(project);
    let state_dir = std::path::absolute(&state_dir).unwrap_or(state_dir);
    if let Err(e) = fsutil::create_dir_all(&state_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| battery::writable_dir(&state_dir))
    {
        let p = problem(
            project,
            format!("the state directory is not writable: {e}"),
            "set AGENT_RUNNER_STATE_DIR, run with --user, or run under systemd (StateDirectory=)",
        );
        return Err(config_broken(project, &emitter, None, vec![p]));
    }

    let findings = battery::run(project);
    let errors: Vec<ConfigProblem> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            let mut p = ConfigProblem::new(&project.source, format!("{}: {}", f.check, f.message));
            p.hint.clone_from(&f.hint);
            p
        })
        .collect();
    if !errors.is_empty() {
        return Err(config_broken(project, &emitter, Some(&state_dir), errors));
    }

    // One round at a time per project (a by-hand round next to the service's, say).
    let lock_path = state_dir.join("round.lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o644)
        .open(&lock_path)
        .map_err(|e| Error::io("cannot open", &lock_path, e))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).map_err(|_| {
        Error::TempFail(format!(
            "another round of {} is running (lock {})",
            project.name,
            lock_path.display()
        ))
    })?;

    let mut st = match State::load(&state_dir) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "agent-runner: warning: {e}; starting from a fresh state"
            );
            State::default()
        }
    };

    // Stop triggers: the path unit halts the loop; this round must not start the agent.
    let triggers = [
        project.runtime.stop_file.clone().map(|f| (f, "stop_file")),
        Some((project.agent_done_file(), ".agent-done")),
    ];
    for (file, what) in triggers.into_iter().flatten() {
        if file.exists() {
            let message = format!(
                "round not started: {what} {} exists (delete it and start the loop again)",
                file.display()
            );
            notify(&[NotifyState::Ready, NotifyState::Status(&message)]);
            emitter.emit(
                None,
                None,
                &message,
                RoundSkipped {
                    trigger: what.into(),
                    file: file.display().to_string(),
                },
            );
            return Ok(exit::OK);
        }
    }

    // A back-off in force: do not run the agent, exit quickly with EX_TEMPFAIL.
    let now = crate::time::now_epoch();
    if let Some(until) = st.not_before(now) {
        let reason = st
            .throttle_class
            .clone()
            .filter(|_| st.throttle_until.is_some_and(|t| t > now))
            .or_else(|| st.verdict.reason.clone())
            .unwrap_or_else(|| "back_off".into());
        let message = format!(
            "{}: backing off ({reason}) until {} (in {}s); no round started",
            project.name,
            crate::time::timestamp(crate::time::epoch_time(until)),
            until - now
        );
        notify(&[NotifyState::Ready, NotifyState::Status(&message)]);
        let _ = writeln!(std::io::stderr(), "agent-runner: {message}");
        return Ok(exit::TEMPFAIL);
    }

    // Credentials: $CREDENTIALS_DIRECTORY/NAME under systemd, the configured file by hand.
    let mut secrets: Vec<(String, String)> = Vec::new();
    let cred_dir = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    for (name, file) in &project.agent.credentials {
        let path = cred_dir
            .as_ref()
            .map_or_else(|| file.clone(), |d| d.join(name));
        match fs::read_to_string(&path) {
            Ok(v) => {
                let v = v.trim_end_matches(['\n', '\r']).to_string();
                redact::register_secret(&v);
                secrets.push((env_name(name), v));
            }
            Err(e) => {
                let p = problem(
                    project,
                    format!(
                        "credential {name} cannot be read from {}: {e}",
                        path.display()
                    ),
                    "create the file or fix [agent.credentials]; under systemd it arrives via LoadCredential=",
                );
                return Err(config_broken(project, &emitter, Some(&state_dir), vec![p]));
            }
        }
    }

    // The round begins.
    let pid = std::process::id();
    // A round whose runner died without finishing (SIGKILL, power loss) left `running` behind.
    let unfinished = st.running.as_ref().map(|r| r.round);
    let begun = st.begin_round(now, project.phases.len(), pid);
    let round = begun.round;
    let phase = begun.phase_index.and_then(|i| project.phases.get(i));
    let phase_name = phase.map(|p| p.name.clone());
    if let Some(r) = &mut st.running {
        r.phase.clone_from(&phase_name);
    }
    let ph = phase_name.as_deref();
    let spec = phase.map_or(&project.prompt, |p| &p.prompt);
    let prompt_text = match prompt::assemble(spec, &project.source) {
        Ok(t) => t,
        Err(Error::Config(problems)) => {
            return Err(config_broken(project, &emitter, Some(&state_dir), problems));
        }
        Err(e) => return Err(e),
    };
    let timeout_s = phase.map_or(project.runtime.round_timeout_s, |p| p.round_timeout_s);
    // Prompt delivery.
    let prompt_path = state_dir.join(format!("prompt-round-{round}.md"));
    let needs_file = project.agent.prompt_delivery == PromptDelivery::File;
    if needs_file {
        // A scratch copy for the agent to read: no fsync, it is removed after the round.
        write_private(&prompt_path, prompt_text.as_bytes())?;
    }
    let argv = prompt::argv(
        project,
        &prompt_text,
        needs_file.then_some(prompt_path.as_path()),
    );
    let stdin = OwnedFd::from(if project.agent.prompt_delivery == PromptDelivery::Stdin {
        memory_file(prompt_text.as_bytes())?
    } else {
        File::open("/dev/null").map_err(|e| Error::io("cannot open", "/dev/null", e))?
    });
    let prompt_bytes = prompt_text.len();
    drop(prompt_text);

    // Signals: SIGCHLD and the stop signals arrive through a signalfd. std resets the mask in
    // the child before exec, so the agent does not inherit the block.
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
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::Failed(format!("cannot create a signalfd: {e}")))?;
    // Orphans of the agent re-parent to us, so none escapes the round.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let checkin_name = format!("agent-runner/{}/{pid}", project.name);
    let checkin = SocketAddr::from_abstract_name(checkin_name.as_bytes())
        .and_then(|addr| UnixDatagram::bind_addr(&addr))
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .ok();

    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| Error::Failed(format!("cannot create a pipe: {e}")))?;
    let write_err: OwnedFd = write_end
        .try_clone()
        .map_err(|e| Error::Failed(format!("cannot duplicate a pipe: {e}")))?;

    let path_var = project
        .agent
        .env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_else(|| battery::SERVICE_PATH.to_string());
    let program = battery::resolve_program(&argv[0], &path_var, &project.runtime.work_dir)
        .unwrap_or_else(|| PathBuf::from(&argv[0]));
    let mut env: BTreeMap<OsString, OsString> = std::env::vars_os().collect();
    for var in [
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
        "JOURNAL_STREAM",
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
        "CREDENTIALS_DIRECTORY",
        "AGENT_RUNNER_STATE_DIR",
    ] {
        env.remove(OsStr::new(var));
    }
    let mut set = |k: &str, v: &OsStr| {
        env.insert(k.into(), v.to_os_string());
    };
    for (k, v) in &project.agent.env {
        set(k, OsStr::new(v));
    }
    for (k, v) in &secrets {
        set(k, OsStr::new(v));
    }
    set("AGENT_RUNNER_LOG_DIR", log_dir.as_os_str());
    set("AGENT_RUNNER_ROUND", OsStr::new(&round.to_string()));
    set("AGENT_RUNNER_PHASE", OsStr::new(ph.unwrap_or("")));
    set("AGENT_RUNNER_PROJECT", OsStr::new(&project.name));
    if checkin.is_some() {
        set(CHECKIN_ENV, OsStr::new(&format!("@{checkin_name}")));
    }
    // The agent's cwd is work_dir: posix_spawn inherits ours (every path we use is absolute).
    if let Err(e) = std::env::set_current_dir(&project.runtime.work_dir) {
        let p = problem(
            project,
            format!(
                "work_dir {} cannot be entered: {e}",
                project.runtime.work_dir.display()
            ),
            "fix its permissions or [runtime] work_dir",
        );
        return Err(config_broken(project, &emitter, Some(&state_dir), vec![p]));
    }
    let extend = Duration::from_secs(project.runtime.checkin_timeout_s)
        + TERM_GRACE
        + Duration::from_secs(10);
    notify(&[
        NotifyState::ExtendTimeoutUsec(u32::try_from(extend.as_micros()).unwrap_or(u32::MAX)),
        NotifyState::Status(&format!("round {round}: starting the agent")),
    ]);
    let spawned_at = Instant::now();
    let agent_pid = match spawn::spawn(&program, &argv, &env, [stdin, write_end, write_err]) {
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
            return Err(config_broken(project, &emitter, Some(&state_dir), vec![p]));
        }
    };
    // spawn() consumed our copies of the pipe's write end: EOF comes when the agent's go.
    let spawn_latency = spawned_at.duration_since(exec_at);
    // The round log and round-current.log: after the spawn (two new inodes the agent need not
    // wait for) but before the first byte of output is read.
    let log_path = rounds_dir.join(format!("round-{round}.log"));
    let mut log = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o640)
        .open(&log_path)
        .map_err(|e| {
            // The agent is already running: it must not outlive this failure.
            procs::signal_all(agent_pid, i32::try_from(pid).unwrap_or(0), Signal::SIGKILL);
            Error::io("cannot create", &log_path, e)
        })?;
    link_current(&log_dir, round);

    // Bookkeeping the agent does not need to wait for.
    if let Err(e) = st.save_quick(&state_dir) {
        // The agent runs already; the round's end writes the state again.
        let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
    }
    let final_save = state::PendingSave::prepare(&state_dir);
    if begun.new_loop {
        emitter.emit(
            Some(round),
            ph,
            &format!("loop of {} started at round {round}", project.name),
            LoopStarted {
                max_rounds: project.runtime.max_rounds,
            },
        );
    }
    if let Some((class, secs)) = &begun.recovered {
        emitter.emit(
            Some(round),
            ph,
            &format!("round {round}: back-off after {class} ended ({secs}s throttled)"),
            TransientErrorRecovered {
                classification: class.clone(),
                throttled_for_s: *secs,
            },
        );
    }

    emitter.emit(
        Some(round),
        ph,
        &match ph {
            Some(p) => format!("round {round} started (phase {p})"),
            None => format!("round {round} started"),
        },
        RoundStart {
            timeout_s,
            prompt_bytes,
            prompt_delivery: delivery_name(project.agent.prompt_delivery).into(),
            config: project.source.display().to_string(),
            previous_round_unfinished: unfinished,
        },
    );

    emitter.emit(
        Some(round),
        ph,
        &format!("round {round}: agent started (pid {agent_pid}, timeout {timeout_s}s)"),
        AgentSpawn {
            pid: agent_pid,
            timeout_s,
            command: argv[0].clone(),
            log: log_path.display().to_string(),
            spawn_latency_us: u64::try_from(spawn_latency.as_micros()).unwrap_or(u64::MAX),
        },
    );

    let limits = Limits::of(project, timeout_s);
    let mut scanner = Scanner::new(
        project.agent.output_format,
        project.agent.terminal_marker.as_deref(),
        now,
    );
    let label = match ph {
        Some(p) => format!("round {round} ({p})"),
        None => format!("round {round}"),
    };
    let report = Watch {
        pid: agent_pid,
        output: read_end,
        log: &mut log,
        scanner: &mut scanner,
        signals: &signals,
        checkin: checkin.as_ref(),
        limits: &limits,
        label: &label,
        secrets: secrets
            .iter()
            .map(|(_, v)| v.as_bytes().to_vec())
            .filter(|v| v.len() >= 6)
            .collect(),
    }
    .run(&mut |n| match n {
        Note::CheckedIn { via, after } => emitter.emit(
            Some(round),
            ph,
            &format!("round {round}: agent checked in ({via}) after {:.1}s", after.as_secs_f64()),
            AgentCheckin {
                via: via.into(),
                after_ms: ms(after),
            },
        ),
        Note::GraceExtended {
            live,
            ignored,
            grace,
        } => emitter.emit(
            Some(round),
            ph,
            &format!(
                "round {round}: result seen {}s ago but {} worker process(es) still run; waiting until the hard timeout",
                grace.as_secs(),
                live.len()
            ),
            RoundGraceExtended {
                grace_s: grace.as_secs(),
                live_children: procs::describe(live),
                ignored_children: procs::describe(ignored),
            },
        ),
    });
    let agent_done_at = Instant::now();
    drop(checkin);
    drop(log);
    if matches!(report.ending, Ending::Exited(c) if c != 0)
        || matches!(report.ending, Ending::Signaled(_))
    {
        // Auth and network patterns only decide failed rounds; a clean one skips the regexes.
        scanner.scan_tail();
    }

    report_events(&emitter, round, ph, &report, &limits);
    let classified = classify(report.ending, &scanner.findings);
    finding_events(&emitter, round, ph, &classified, &scanner);

    // The work tree.
    let vcs = vcs::after_round(project, round, ph, std::slice::from_ref(&state_dir));
    for (message, event) in vcs.events {
        emitter.emit(Some(round), ph, &message, event);
    }
    if vcs.stash.is_some() {
        st.last_stash = vcs.stash;
    }

    // The verdict.
    let duration_ms = ms(report.duration);
    let finished = Finished {
        round,
        outcome: classified.outcome,
        classification: classified.classification.clone(),
        reset_at: classified.transient.as_ref().and_then(|t| t.reset_at),
        default_back_off_s: classified
            .transient
            .as_ref()
            .map_or(60, findings::Transient::default_back_off_s),
        duration_ms,
    };
    let ended_epoch = crate::time::now_epoch();
    let halt = st.finish_round(&finished, &Policy::of(project), ended_epoch);
    if let Some(reason) = halt {
        let message = halt_event(
            &emitter,
            project,
            &st,
            round,
            ph,
            reason,
            &classified,
            &scanner,
        );
        st.last_error = Some(redact::redact(&message).into_owned());
        if let Err(e) = state::write_halt_request(
            &state_dir,
            &HaltRequest {
                reason,
                message: redact::redact(&message).into_owned(),
            },
        ) {
            let _ = writeln!(std::io::stderr(), "agent-runner: {e}");
        }
    } else if matches!(classified.outcome, Outcome::Ok | Outcome::GraceKill) {
        st.last_error = None;
    }
    match final_save {
        Ok(pending) => pending.commit(&st)?,
        Err(_) => st.save(&state_dir)?,
    }
    if needs_file {
        let _ = fs::remove_file(&prompt_path);
    }
    prune(&rounds_dir, round, project.runtime.round_log_retention);

    let outcome = classified.outcome;
    let code = outcome.exit_code();
    let mut summary = format!(
        "{label} ended: {}{} in {:.1}s",
        outcome.as_str(),
        classified
            .classification
            .as_deref()
            .filter(|_| outcome != Outcome::Stopped)
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        report.duration.as_secs_f64()
    );
    match st.verdict.action {
        state::Action::Continue => {}
        state::Action::BackOff => {
            if let Some(until) = st.verdict.until {
                let _ = write!(
                    summary,
                    "; backing off until {}",
                    crate::time::timestamp(crate::time::epoch_time(until))
                );
            }
        }
        state::Action::Halt => {
            let _ = write!(
                summary,
                "; loop halts ({})",
                st.verdict.reason.as_deref().unwrap_or("halt")
            );
        }
    }
    let peak = procs::peak_rss_kib();
    emitter.emit(
        Some(round),
        ph,
        &summary,
        RoundEnd {
            outcome: outcome.as_str().into(),
            classification: classified.classification,
            exit_code: code,
            agent_exit_code: report.exit_code,
            agent_signal: report.signal,
            duration_ms,
            output_bytes: report.bytes,
            verdict: st.verdict.action.as_str().into(),
            until: st.verdict.until,
            log: log_path.display().to_string(),
            runner_peak_rss_kb: peak,
            exit_latency_us: u64::try_from(agent_done_at.elapsed().as_micros()).unwrap_or(u64::MAX),
        },
    );
    notify(&[NotifyState::Status(&summary)]);
    if !libsystemd::logging::connected_to_journal() {
        println!("{}", redact::redact(&summary));
    }
    Ok(code)
}

/// The prompt as an in-memory file for the agent's stdin: no disk write, no size limit, and the
/// agent can read it at its own pace (a pipe would need a writer thread for large prompts).
fn memory_file(data: &[u8]) -> Result<File> {
    use std::io::{Seek, SeekFrom};
    let fd = nix::sys::memfd::memfd_create(
        c"agent-runner-prompt",
        nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
    )
    .map_err(|e| Error::Failed(format!("cannot create the prompt buffer: {e}")))?;
    let mut file = File::from(fd);
    file.write_all(data)
        .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
        .map_err(|e| Error::Failed(format!("cannot write the prompt buffer: {e}")))?;
    Ok(file)
}

/// Writes a 0600 file (replacing it), without the fsync of [`fsutil::write_atomic`].
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    let _ = fs::remove_file(path);
    OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(data))
        .map_err(|e| Error::io("cannot write", path, e))
}

/// Events about how the agent's run ended.
fn report_events(emitter: &Emitter, round: u64, ph: Option<&str>, r: &Report, lim: &Limits) {
    let cause = match r.killed {
        Some(Why::Timeout) => "timeout",
        Some(Why::Watchdog) => "watchdog",
        Some(Why::GraceKill) => "grace_kill",
        Some(Why::NoCheckin) => "checkin_failed",
        Some(Why::Interrupted(_)) => "interrupted",
        Some(Why::Orphans) | None => match (r.exit_code, r.signal) {
            (Some(0), _) => "clean",
            (Some(_), _) => "error",
            _ => "signal",
        },
    };
    let how = match (r.exit_code, r.signal) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!(
            "signal {}",
            Signal::try_from(s).map_or_else(|_| s.to_string(), |s| s.as_str().to_string())
        ),
        _ => "unknown status".into(),
    };
    emitter.emit(
        Some(round),
        ph,
        &format!(
            "round {round}: agent ended with {how} after {:.1}s ({cause})",
            r.duration.as_secs_f64()
        ),
        AgentExit {
            exit_code: r.exit_code,
            signal: r.signal,
            duration_ms: ms(r.duration),
            exit_cause: cause.into(),
            output_bytes: r.bytes,
            checked_in: r.checked_in,
            log_error: r.log_error.clone(),
            survivors: r.survivors,
        },
    );
    match r.killed {
        Some(Why::Timeout) => emitter.emit(
            Some(round),
            ph,
            &format!(
                "round {round}: killed after {}s (round_timeout_s)",
                lim.timeout.as_secs()
            ),
            RoundTimeoutKill {
                reason: "round_timeout_s".into(),
                limit_s: lim.timeout.as_secs(),
                service_watchdog_ms: None,
            },
        ),
        Some(Why::Watchdog) => {
            let limit = lim.watchdog.unwrap_or_default();
            let service = sd_notify::watchdog_enabled();
            let bound = match service {
                Some(w) if w < limit => format!(" (the service watchdog allows {:.1}s)", w.as_secs_f64()),
                _ => String::new(),
            };
            emitter.emit(
                Some(round),
                ph,
                &format!(
                    "round {round}: agent silent for too long (watchdog_s = {}){bound}; killed",
                    limit.as_secs()
                ),
                RoundTimeoutKill {
                    reason: "watchdog_s".into(),
                    limit_s: limit.as_secs(),
                    service_watchdog_ms: Some(service.map(ms)),
                },
            );
        }
        Some(Why::GraceKill) => emitter.emit(
            Some(round),
            ph,
            &format!(
                "round {round}: agent lingered {}s after its result with no live workers; stopped",
                lim.grace_after_result.unwrap_or_default().as_secs()
            ),
            RoundGraceKill {
                grace_s: lim.grace_after_result.unwrap_or_default().as_secs(),
            },
        ),
        Some(Why::NoCheckin) => emitter.emit(
            Some(round),
            ph,
            &format!(
                "round {round}: no output and no check-in within {}s; agent killed",
                lim.checkin_timeout.as_secs()
            ),
            CheckinFailed {
                checkin_timeout_s: lim.checkin_timeout.as_secs(),
            },
        ),
        Some(Why::Interrupted(sig)) => emitter.emit(
            Some(round),
            ph,
            &format!(
                "round {round}: {sig} received; sent {} to the agent, then SIGTERM/SIGKILL to what remained",
                lim.stop_signal
            ),
            RoundInterrupted {
                signal: sig.as_str().into(),
                stop_signal: lim.stop_signal.as_str().into(),
            },
        ),
        Some(Why::Orphans) | None => {}
    }
    if !r.orphans.is_empty() {
        emitter.emit(
            Some(round),
            ph,
            &format!(
                "round {round}: {} process(es) outlived the agent and were killed",
                r.orphans.len()
            ),
            RoundOrphansKilled {
                processes: procs::describe(&r.orphans),
            },
        );
    }
}

/// Events about what the output said: usage, transient, auth, network.
fn finding_events(
    emitter: &Emitter,
    round: u64,
    ph: Option<&str>,
    c: &Classified,
    scanner: &Scanner,
) {
    let f = &scanner.findings;
    if let Some(u) = &f.usage {
        let mut msg = format!("round {round}: usage");
        if let (Some(i), Some(o)) = (u.input_tokens, u.output_tokens) {
            let _ = write!(msg, " {i} in / {o} out tokens");
        } else if let Some(t) = u.total_tokens {
            let _ = write!(msg, " {t} tokens");
        }
        if let Some(cost) = u.cost_usd {
            let _ = write!(msg, ", ${cost:.4}");
        }
        emitter.emit(Some(round), ph, &msg, u.to_payload(f.model.as_deref()));
    }
    match c.outcome {
        Outcome::Transient => {
            let t = c.transient.as_ref();
            let class = c.classification.as_deref().unwrap_or("transient");
            let reset = t.and_then(|t| t.reset_at);
            if class == "network" {
                emitter.emit(
                    Some(round),
                    ph,
                    &format!("round {round}: network failure"),
                    AgentNetworkErrorDetected {
                        raw: c.evidence.clone(),
                    },
                );
            }
            emitter.emit(
                Some(round),
                ph,
                &match reset {
                    Some(r) => format!(
                        "round {round}: transient error {class}; resets at {}",
                        crate::time::timestamp(crate::time::epoch_time(r))
                    ),
                    None => format!("round {round}: transient error {class}"),
                },
                TransientErrorDetected {
                    classification: class.into(),
                    reset_at: reset,
                    default_back_off_s: t.map(findings::Transient::default_back_off_s),
                    raw: c.evidence.clone(),
                },
            );
        }
        Outcome::AuthFail => emitter.emit(
            Some(round),
            ph,
            &format!("round {round}: the agent could not authenticate"),
            AgentAuthErrorDetected {
                raw: c.evidence.clone(),
            },
        ),
        _ => {}
    }
}

/// Emits the halt event for `reason` and returns its message.
#[allow(clippy::too_many_arguments)]
fn halt_event(
    emitter: &Emitter,
    project: &Project,
    st: &State,
    round: u64,
    ph: Option<&str>,
    reason: HaltReason,
    c: &Classified,
    scanner: &Scanner,
) -> String {
    let rt = &project.runtime;
    let (message, event): (String, Event) = match reason {
        HaltReason::CrashLoop => {
            let tail = String::from_utf8_lossy(scanner.tail());
            let start = tail
                .char_indices()
                .rev()
                .nth(CRASH_TAIL_CHARS - 1)
                .map_or(0, |(i, _)| i);
            (
                format!(
                    "{}: {} short crashes in a row (last: {}); loop halted",
                    project.name,
                    st.consecutive_short_crashes,
                    c.classification.as_deref().unwrap_or("crash")
                ),
                CrashLoop {
                    consecutive: st.consecutive_short_crashes,
                    classification: c.classification.clone(),
                    reason: tail[start..].to_string(),
                }
                .into(),
            )
        }
        HaltReason::Offline => (
            format!(
                "{}: {} rounds in a row did not check in within {}s; project offline",
                project.name, st.consecutive_checkin_failures, rt.checkin_timeout_s
            ),
            ProjectOffline {
                consecutive: st.consecutive_checkin_failures,
                checkin_timeout_s: rt.checkin_timeout_s,
            }
            .into(),
        ),
        HaltReason::MaxRounds => (
            format!(
                "{}: max_rounds ({}) reached; loop stops",
                project.name,
                rt.max_rounds.unwrap_or_default()
            ),
            MaxRoundsReached {
                rounds_completed: st.rounds_this_loop,
                max_rounds: rt.max_rounds,
            }
            .into(),
        ),
        HaltReason::TransientError => (
            format!(
                "{}: transient error {} and transient_error_action = stop; loop halted",
                project.name,
                c.classification.as_deref().unwrap_or("")
            ),
            TransientErrorStop {
                classification: c.classification.clone(),
            }
            .into(),
        ),
        HaltReason::ConfigBroken => (
            format!("{}: configuration broken; loop halted", project.name),
            ConfigBroken::default().into(),
        ),
    };
    emitter.emit(Some(round), ph, &message, event);
    message
}

/// Points `round-current.log` at round `round`'s log (relative link, replaced atomically).
fn link_current(log_dir: &Path, round: u64) {
    let link = log_dir.join("round-current.log");
    let tmp = log_dir.join(format!(".round-current.log.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let target = format!("rounds/round-{round}.log");
    if std::os::unix::fs::symlink(&target, &tmp).is_ok() && fs::rename(&tmp, &link).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// Keeps the newest `keep` round logs; never removes the current one.
fn prune(rounds_dir: &Path, current: u64, keep: u32) {
    let Ok(entries) = fs::read_dir(rounds_dir) else {
        return;
    };
    let mut numbers: Vec<u64> = entries
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            name.strip_prefix("round-")?
                .strip_suffix(".log")?
                .parse()
                .ok()
        })
        .collect();
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    for n in numbers.into_iter().skip(keep as usize) {
        if n != current {
            let _ = fs::remove_file(rounds_dir.join(format!("round-{n}.log")));
        }
    }
}

fn env_name(credential: &str) -> String {
    credential
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn delivery_name(d: PromptDelivery) -> &'static str {
    match d {
        PromptDelivery::Stdin => "stdin",
        PromptDelivery::Argv => "argv",
        PromptDelivery::File => "file",
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `agent-runner checkin`, called by the agent: tells the running round it is alive.
pub(crate) fn checkin() -> Result<()> {
    let Some(target) = std::env::var_os(CHECKIN_ENV).filter(|t| !t.is_empty()) else {
        return Err(Error::Usage(format!(
            "agent-runner checkin only works inside a round (${CHECKIN_ENV} is not set)"
        )));
    };
    let target = target.to_string_lossy().into_owned();
    let sock = UnixDatagram::unbound()
        .map_err(|e| Error::Failed(format!("cannot create a socket: {e}")))?;
    let sent = match target.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes())
            .and_then(|addr| sock.send_to_addr(b"checkin", &addr)),
        None => sock.send_to(b"checkin", &target),
    };
    sent.map(|_| ()).map_err(|e| {
        Error::Failed(format!(
            "cannot reach the round at {target}: {e} (has the round already ended?)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_newest_and_current() {
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=6 {
            fs::write(dir.path().join(format!("round-{n}.log")), "x").unwrap();
        }
        fs::write(dir.path().join("other.txt"), "x").unwrap();
        prune(dir.path(), 2, 3);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "other.txt",
                "round-2.log",
                "round-4.log",
                "round-5.log",
                "round-6.log"
            ]
        );
    }

    #[test]
    fn credential_names_become_env_names() {
        assert_eq!(env_name("ANTHROPIC_API_KEY"), "ANTHROPIC_API_KEY");
        assert_eq!(env_name("my-key.v2"), "my_key_v2");
    }
}
