//! `agent-runner halt`: the loop's helper steps, each run by a unit (docs/architecture.md, "The
//! loop on systemd"). None of them is for interactive use.
//!
//! * `trigger` (agent-runner-halt@.service, the project's user): a stop trigger fired. The unit
//!   itself ends the loop (`Conflicts=` with agent-runner-loop@.service); this step records why:
//!   `stop_file_detected` / `agent_self_terminated` for the triggers no round reported, then
//!   `loop_halted`.
//! * `loop-start` (agent-runner-loop@.service, the project's user): a new loop begins. Clears the
//!   previous loop's `.agent-done` and `halt-request`, and marks the state so that the next round
//!   starts fresh loop counters.
//! * `after-round` (agent-runner-after@.service, started by the round service's `OnSuccess=`, and
//!   agent-runner-after-failure@.service, by its `OnFailure=`: root, but sandboxed, reading the
//!   project's files with CAP_DAC_READ_SEARCH, writing root's stores and the project's state
//!   directory): when the round left a back-off longer than the timer's delay,
//!   parks the periodic timer and wakes the loop at the not-before time with a transient timer
//!   instead, so systemd does not start a round every restart_delay_s only for it to exit at
//!   once. A round that exited 78 (configuration broken) halts the loop even when it could not
//!   say so itself. It also starts the unit that rewrites node-exporter's metrics textfile
//!   (`observe::textfile`) and the project's notifier (`notifier`). A round systemd ended with
//!   the result oom-kill is recorded as `oom` and may halt the loop (`oom`). The next round waits
//!   for this step (`After=`), so when it parks or halts the loop it also cancels a round start
//!   the timer queued meanwhile.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::config::Project;
use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::Emitter;
use crate::events::payload::{AgentSelfTerminated, LoopHalted, StopFileDetected};
use crate::fsutil;
use crate::paths::Scope;
use crate::round::state::{self, State};
use crate::systemd::bus::{Bus, TransientTimer};
use crate::units::Units;

use super::shared_account;

/// `.agent-done` content kept as the reason, in characters.
const REASON_MAX_CHARS: usize = 200;

/// The steps of `agent-runner halt`, one per helper unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// agent-runner-halt@.service: record which stop trigger fired.
    Trigger,
    /// agent-runner-loop@.service: clear the previous loop's sentinels, start a new loop.
    LoopStart,
    /// agent-runner-after@.service and agent-runner-after-failure@.service: what follows a round
    /// (back-off, halts, notifier).
    AfterRound,
}

/// Runs one helper step.
pub(crate) fn run(ctx: &Context, project: &ProjectRef, step: Step) -> Result<u8> {
    match step {
        Step::Trigger => {
            trigger(&crate::config::load_project(project, ctx.scope)?);
            Ok(exit::OK)
        }
        Step::LoopStart => loop_start(&crate::config::load_project(project, ctx.scope)?),
        Step::AfterRound
            if std::env::var_os("MONITOR_SERVICE_RESULT").is_none()
                && std::env::var_os("SERVICE_RESULT").is_some() =>
        {
            // The round's own ExecStopPost= of a drop-in an older version generated: the after
            // unit its OnSuccess=/OnFailure= start does the work now, and twice would park twice.
            eprintln!(
                "agent-runner: the round's drop-ins predate the after-round unit; run `agent-runner generate`"
            );
            Ok(exit::OK)
        }
        Step::AfterRound => {
            // Loaded once for every part of the step: parsing and validating it again is work on
            // the path between one round and the next.
            let loaded = crate::config::load_project(project, ctx.scope);
            // Never fail: the step's own failure would say nothing about the round, and a failed
            // unit would only add noise to `systemctl --failed`.
            if let Err(e) = after_round(ctx.scope, project, loaded.as_ref()) {
                crate::output::stderr_line(format_args!("agent-runner: after round: {e}"));
            }
            crate::observe::textfile::refresh_after_round(ctx.scope);
            if let Ok(loaded) = &loaded {
                super::notifier::start_after_round(ctx.scope, loaded);
            }
            Ok(exit::OK)
        }
    }
}

/// What `trigger` found, in the order it reports them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Triggers {
    stop_file: bool,
    agent_done: Option<String>,
    halt_request: Option<(String, String)>,
    /// An open alert that halts the loop: its detector and evidence.
    alert: Option<(String, String)>,
}

impl Triggers {
    /// The reason `loop_halted` carries, and its sentence.
    fn reason(&self) -> (String, String) {
        if let Some((reason, message)) = &self.halt_request {
            (reason.clone(), message.clone())
        } else if let Some(text) = &self.agent_done {
            (
                "agent_done".into(),
                format!("the agent wrote .agent-done: {text}"),
            )
        } else if self.stop_file {
            ("stop_file".into(), "the stop file exists".into())
        } else if let Some((detector, summary)) = &self.alert {
            (detector.clone(), format!("alert {detector}: {summary}"))
        } else {
            ("requested".into(), "a halt was requested".into())
        }
    }
}

fn trigger(project: &Project) {
    let dir = state::dir(project);
    let emitter = Emitter::new(&project.name, Some(&project.runtime.log_dir));
    let round = State::load(&dir).ok().map(|s| s.round).filter(|r| *r > 0);
    let mut found = Triggers::default();
    if let Some(stop) = &project.runtime.stop_file
        && stop.symlink_metadata().is_ok()
    {
        found.stop_file = true;
        emitter.emit(
            round,
            None,
            &format!(
                "stop file {} found: the loop of {} stops after the current round",
                stop.display(),
                project.name
            ),
            StopFileDetected { path: stop.clone() },
        );
    }
    let done = project.agent_done_file();
    if let Some(text) = read_sentinel(&done) {
        emitter.emit(
            round,
            None,
            &format!("the agent declared its work done: {text}"),
            AgentSelfTerminated {
                reason: text.clone(),
            },
        );
        found.agent_done = Some(text);
    }
    match state::read_halt_request(&dir) {
        Ok(Some(request)) => {
            found.halt_request = Some((request.reason.as_str().to_string(), request.message));
        }
        Ok(None) => {}
        // A malformed request still means "halt"; say so instead of failing the step.
        Err(e) => found.halt_request = Some(("invalid_request".into(), e.to_string())),
    }
    found.alert = super::watch::halting_alert(project)
        .map(|a| (a.detector.name().to_string(), a.evidence.summary));
    let (reason, message) = found.reason();
    if let Err(e) = State::end_loop(&dir) {
        crate::output::stderr_line(format_args!("agent-runner: {e}"));
    }
    emitter.emit(
        round,
        None,
        &format!("loop of {} halted: {message}", project.name),
        LoopHalted { reason },
    );
}

/// The first [`REASON_MAX_CHARS`] characters of the sentinel, if it is a regular file. It is never
/// followed through a symlink: the agent controls the log directory.
fn read_sentinel(path: &Path) -> Option<String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path);
    let file = match file {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => f,
        // A symlink or other non-file still counts as the sentinel, without a reason.
        Ok(_) => return Some(String::new()),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => return Some(String::new()),
        Err(_) => return None,
    };
    let mut bytes = Vec::new();
    let _ = file
        .take(4 * REASON_MAX_CHARS as u64)
        .read_to_end(&mut bytes);
    Some(sentinel_reason(&bytes))
}

/// The reason text of a sentinel: lossy UTF-8, whitespace collapsed, at most 200 characters.
fn sentinel_reason(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(REASON_MAX_CHARS).collect()
}

fn loop_start(project: &Project) -> Result<u8> {
    let dir = state::dir(project);
    for path in [
        project.agent_done_file(),
        dir.join(state::HALT_REQUEST_FILE),
    ] {
        match std::fs::remove_file(&path) {
            Ok(()) => crate::output::line(format_args!(
                "cleared {} left by the previous loop",
                path.display()
            ))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot remove", &path, e)),
        }
    }
    // The next round sees the mark, starts fresh loop counters and emits `loop_started`. A state
    // the agent garbled must not keep the loop from starting: the round recovers it (from the
    // round logs and the mirror) and starts a fresh loop from it all the same.
    if let Err(e) = State::end_loop(&dir) {
        crate::output::line(format_args!(
            "warning: {e}; the next round recovers the state and starts a fresh loop"
        ))?;
    }
    crate::output::line(format_args!("loop of {} starting", project.name))?;
    Ok(exit::OK)
}

fn after_round(
    scope: Scope,
    reference: &ProjectRef,
    project: std::result::Result<&Project, &Error>,
) -> Result<()> {
    let name = match (&project, reference) {
        (Ok(p), _) => p.name.clone(),
        (Err(_), ProjectRef::Name(n)) => n.clone(),
        // A broken TOML may set a `name` other than its file name: the unit's instance, which
        // the unit passes in its environment, still names the project.
        (Err(_), ProjectRef::File(f)) => std::env::var(INSTANCE_VAR)
            .ok()
            .or_else(|| f.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    };
    let units = Units::of(&name);
    let ended = RoundEnd::from_env();
    if let Ok(p) = &project {
        // Before anything reads the state: a round killed for memory may be the one that halts.
        if let Err(e) = super::oom::after_round(p, &ended.result) {
            crate::output::stderr_line(format_args!(
                "agent-runner: cannot record the round killed for memory: {e}"
            ));
        }
    }
    // A round that exited 78 and wrote its halt request is halted by the path unit already.
    let state_dir = match &project {
        Ok(p) => state::dir(p),
        Err(_) => scope.state_dir(&name),
    };
    let requested = !name.is_empty() && halt_requested(&state_dir);
    let config_broken = ended.exit_status == Some(i32::from(exit::CONFIG)) && !requested;
    let wake_at = match &project {
        Ok(p) => back_off_until(p),
        Err(_) => None,
    };
    let account_park = project
        .ok()
        .and_then(|p| shared_account::after_round(scope, p));
    let alert = project.ok().and_then(super::watch::after_round);
    if !config_broken && wake_at.is_none() && account_park.is_none() && alert.is_none() {
        return Ok(());
    }
    let bus = Bus::connect(scope, None)?;
    if let Some(park) = &account_park {
        park_peers(&bus, &name, park);
    }
    let (loop_state, loop_job_queued) = bus.activity(&units.loop_unit)?;
    if loop_state != "active" || loop_job_queued {
        return Ok(()); // stopped or halted meanwhile: nothing to reschedule
    }
    if config_broken {
        crate::output::line(format_args!(
            "round exited 78 (configuration broken): halting the loop of {name}"
        ))?;
        return halt_now(&bus, &units);
    }
    if let Some(alert) = alert {
        crate::output::line(format_args!(
            "alert {}: halting the loop of {name}: {}",
            alert.detector.name(),
            alert.evidence.summary
        ))?;
        return halt_now(&bus, &units);
    }
    if let Some(at) = wake_at {
        park_until(&bus, &units, &name, at)?;
    }
    Ok(())
}

/// The variable agent-runner-after@.service sets to its instance: the project's name.
const INSTANCE_VAR: &str = "AGENT_RUNNER_INSTANCE";

/// How the round that just ended ended, as systemd tells it.
struct RoundEnd {
    /// The service's result: success, exit-code, oom-kill, timeout, …
    result: String,
    /// The runner's exit status, when it exited rather than being killed.
    exit_status: Option<i32>,
}

impl RoundEnd {
    /// From what systemd sets in the unit the round's `OnSuccess=`/`OnFailure=` started:
    /// `$MONITOR_SERVICE_RESULT`, `$MONITOR_EXIT_CODE` and `$MONITOR_EXIT_STATUS`. Started by
    /// hand, the step knows nothing of a round's end. After a start limit hit they describe the
    /// run before, whose end the step has seen already.
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(format!("MONITOR_{name}")).ok();
        let exited = var("EXIT_CODE").is_some_and(|c| c == "exited");
        Self {
            result: var("SERVICE_RESULT").unwrap_or_default(),
            exit_status: var("EXIT_STATUS")
                .filter(|_| exited)
                .and_then(|s| s.parse().ok()),
        }
    }
}

/// Starts the halt unit, after cancelling a round the timer may have queued behind this step: it
/// would start the loop again (the round service wants the loop unit) once the halt ended it.
fn halt_now(bus: &Bus, units: &Units) -> Result<()> {
    // The halt matters more than the cancel: a round that still starts exits at its stop trigger.
    if let Err(e) = bus.cancel_queued_start(&units.service) {
        crate::output::stderr_line(format_args!("agent-runner: {e}"));
    }
    bus.start_nowait(&units.halt)
}

/// Parks the running loops of the other projects of `park`'s account, each until its resume
/// time. A failure for one project is reported and the others are still parked.
fn park_peers(bus: &Bus, seen_by: &str, park: &shared_account::AccountPark) {
    for (name, resume_at) in &park.resume_at {
        if name == seen_by {
            continue; // its own state, or the gate before its next round, holds it
        }
        let peer = shared_account::Peer {
            name: name.clone(),
            resume_at: *resume_at,
        };
        let units = Units::of(&peer.name);
        let parked = bus
            .activity(&units.loop_unit)
            .and_then(|(state, stopping)| {
                if state != "active" || stopping {
                    return Ok(false);
                }
                park_until(bus, &units, &peer.name, peer.resume_at).map(|()| true)
            });
        match parked {
            Ok(true) => shared_account::tell(&peer, park),
            Ok(false) => {}
            Err(e) => crate::output::stderr_line(format_args!(
                "agent-runner: cannot park {}: {e}",
                peer.name
            )),
        }
    }
}

/// Whether the round left its halt request in `state_dir`, for the path unit to act on. Only a
/// regular file counts, and nothing is followed or opened (this step runs as root and the agent
/// can write there); for anything else the step halts the loop itself, which at worst starts the
/// halt unit a second time.
fn halt_requested(state_dir: &Path) -> bool {
    fsutil::entry_kind(&state_dir.join(state::HALT_REQUEST_FILE))
        .is_ok_and(|kind| kind.is_some_and(|k| k.is_file()))
}

/// The not-before time the round left, when it lies beyond the periodic timer's next firing.
fn back_off_until(project: &Project) -> Option<u64> {
    let state = State::load(&state::dir(project)).ok()?;
    let now = crate::time::now_epoch();
    let at = state.not_before(now)?;
    (at > now + project.runtime.restart_delay_s + 1).then_some(at)
}

/// Parks the periodic timer of `name` and wakes the loop at epoch second `at` with a transient
/// timer, PartOf= the loop so that a stop or a halt removes it too. Its service starts the round
/// service, whose Wants= brings the periodic timer back.
fn park_until(bus: &Bus, units: &Units, name: &str, at: u64) -> Result<()> {
    let delay = crate::time::epoch_time(at)
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    let exec_start = start_without_waiting(bus.scope(), &units.service)?;
    bus.stop_nowait(&units.timer)?;
    // A round the timer queued while the step after the last one ran would start now, and bring
    // the periodic timer back with it.
    bus.cancel_queued_start(&units.service)?;
    if bus.activity(&units.backoff)?.0 != "inactive" {
        bus.stop_nowait(&units.backoff)?;
    }
    let description = format!("agent-runner: {name} backs off until epoch {at}");
    bus.start_transient_timer(&TransientTimer {
        timer: &units.backoff,
        service: &units.backoff_service,
        description: &description,
        fires_in: delay,
        part_of: &units.loop_unit,
        exec_start: &exec_start,
    })?;
    crate::output::line(format_args!(
        "backing off: the next round of {name} runs in {}s ({})",
        delay.as_secs(),
        units.backoff
    ))?;
    Ok(())
}

/// `systemctl [--user] start --no-block UNIT`, with systemctl's absolute path (ExecStart= of a
/// transient unit is not looked up in $PATH).
fn start_without_waiting(scope: Scope, unit: &str) -> Result<Vec<String>> {
    let Some(systemctl) = ["/usr/bin/systemctl", "/bin/systemctl"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        return Err(Error::Failed("systemctl not found".into()));
    };
    let mut argv = vec![systemctl.to_string()];
    if scope == Scope::User {
        argv.push("--user".into());
    }
    argv.extend(["start", "--no-block", unit].map(String::from));
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_reason_is_collapsed_and_capped() {
        assert_eq!(sentinel_reason(b"  all\n done \t now\n"), "all done now");
        let long = "x".repeat(500);
        assert_eq!(sentinel_reason(long.as_bytes()).chars().count(), 200);
        assert_eq!(sentinel_reason(b"caf\xc3\xa9 \xff"), "café \u{fffd}");
    }

    #[test]
    fn halt_request_outranks_other_triggers() {
        let mut t = Triggers {
            stop_file: true,
            agent_done: Some("done".into()),
            halt_request: None,
            alert: Some(("disk_usage".into(), "full".into())),
        };
        assert_eq!(t.reason().0, "agent_done");
        t.halt_request = Some(("max_rounds".into(), "3 rounds".into()));
        assert_eq!(t.reason(), ("max_rounds".into(), "3 rounds".into()));
        t.halt_request = None;
        t.agent_done = None;
        assert_eq!(t.reason().0, "stop_file");
        t.stop_file = false;
        assert_eq!(
            t.reason(),
            ("disk_usage".into(), "alert disk_usage: full".into())
        );
        assert_eq!(Triggers::default().reason().0, "requested");
    }

    #[test]
    fn only_a_regular_halt_request_counts_as_the_round_s() {
        let dir = tempfile::tempdir().unwrap();
        let request = dir.path().join(state::HALT_REQUEST_FILE);
        assert!(!halt_requested(dir.path()));
        std::fs::write(dir.path().join("real"), "{}").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), &request).unwrap();
        assert!(!halt_requested(dir.path()));
        std::fs::remove_file(&request).unwrap();
        nix::unistd::mkfifo(&request, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(!halt_requested(dir.path()));
        std::fs::remove_file(&request).unwrap();
        std::fs::write(&request, "{}").unwrap();
        assert!(halt_requested(dir.path()));
    }

    #[test]
    fn sentinel_is_never_followed_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "do not leak").unwrap();
        let done = dir.path().join(".agent-done");
        std::os::unix::fs::symlink(&secret, &done).unwrap();
        assert_eq!(read_sentinel(&done).as_deref(), Some(""));
        std::fs::remove_file(&done).unwrap();
        assert_eq!(read_sentinel(&done), None);
        std::fs::write(&done, "finished the migration\n").unwrap();
        assert_eq!(
            read_sentinel(&done).as_deref(),
            Some("finished the migration")
        );
    }
}
