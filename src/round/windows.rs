//! The gate of the schedule windows: outside every run window, or inside a pause window, a round
//! does not start its agent; the loop backs off until the next window opens (the after-round
//! step stretches the timer over it), as a spent budget parks it. The pause is kept in the state
//! so that it is told once, and its end once, by the first round that runs after it.

use std::io::Write as _;
use std::path::Path;

use sd_notify::NotifyState;

use super::notify::notify;
use super::report::RoundEvents;
use super::state::{Action, SchedulePause, State, Verdict};
use crate::config::Project;
use crate::error::exit;
use crate::events::Emitter;
use crate::events::payload::{SchedulePaused, ScheduleResumed};
use crate::time::schedule::{Closed, Gate, SEARCH_DAYS, local_text};

/// The gate before the spawn. Returns the round's exit status when no window is open.
pub(crate) fn gate(
    project: &Project,
    state_dir: &Path,
    st: &mut State,
    emitter: &Emitter,
    now: u64,
) -> Option<u8> {
    let schedule = &project.schedule;
    if !schedule.has_windows() {
        return None;
    }
    let zone = schedule.zone();
    let Gate::Closed(closed) = schedule.windows(&zone).gate(now) else {
        return None;
    };
    let message = paused_message(project, &closed, &zone);
    let pause = SchedulePause {
        since: st.schedule_pause.as_ref().map_or(now, |p| p.since),
        window: closed.pause.clone().unwrap_or_default(),
        resume_at: closed.resume_at,
        recheck_at: closed.recheck_at,
        timezone: schedule.zone_name().to_string(),
    };
    if st.schedule_pause.is_none() {
        emitter.emit(None, None, &message, paused_event(&pause));
    }
    st.schedule_pause = Some(pause);
    st.verdict = Verdict {
        action: Action::BackOff,
        until: Some(closed.recheck_at.max(st.not_before(now).unwrap_or(0))),
        reason: Some("schedule window".into()),
    };
    notify(&[NotifyState::Ready, NotifyState::Status(&message)]);
    let _ = writeln!(std::io::stderr(), "agent-runner: {message}");
    if let Err(e) = st.save(state_dir) {
        let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
    }
    Some(exit::TEMPFAIL)
}

fn paused_event(pause: &SchedulePause) -> SchedulePaused {
    let reason = if pause.window.is_empty() {
        "outside_run_windows"
    } else {
        "pause_window"
    };
    SchedulePaused {
        reason: reason.into(),
        window: pause.window.clone(),
        resume_at: pause.resume_at,
        recheck_at: pause.recheck_at,
        timezone: pause.timezone.clone(),
    }
}

fn paused_message(project: &Project, closed: &Closed, zone: &crate::time::zone::Zone) -> String {
    let why = match &closed.pause {
        Some(window) => format!("pause window \"{window}\""),
        None => "outside the run windows".into(),
    };
    let tz = project.schedule.zone_name();
    let when = match closed.resume_at {
        Some(at) => format!("the next window opens {} ({tz})", local_text(zone, at)),
        None => format!(
            "no window opens within {SEARCH_DAYS} days; looking again {} ({tz})",
            local_text(zone, closed.recheck_at)
        ),
    };
    format!("{}: {why}: no round started; {when}", project.name)
}

/// The pause this round ends, when the loop was paused: seconds it lasted.
pub(crate) fn resumed(st: &mut State, now: u64) -> Option<u64> {
    let pause = st.schedule_pause.take()?;
    Some(now.saturating_sub(pause.since))
}

/// Tells that the first round after a pause started.
pub(crate) fn tell_resumed(events: &RoundEvents<'_>, paused_for_s: Option<u64>) {
    if let Some(paused_for_s) = paused_for_s {
        events.emit(
            &format!("a schedule window opened after {paused_for_s}s: the loop resumes"),
            ScheduleResumed { paused_for_s },
        );
    }
}
