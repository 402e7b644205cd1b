//! The layers about the project itself: its startup battery, its recent events and rounds, and
//! the room left on the file systems it writes.

use std::path::{Path, PathBuf};

use super::probe::Probe;
use super::report::{Layer, Status};
use crate::config::battery::{self, Severity};
use crate::error::Error;
use crate::events::read::{self, Query, Record};
use crate::events::{Event, Priority};
use crate::observe::events::human_line;
use crate::observe::partial;
use crate::observe::state_file::state_dir;

/// Below this much free space (or 2 %) a file system counts as full.
const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;
/// Events looked at by the error layer.
const RECENT_EVENTS: usize = 50;

/// The startup battery passes: else every round would end as config_broken.
pub(crate) fn layer_battery(p: &mut Probe) -> Layer {
    let findings = battery::run(p.project);
    let errors: Vec<&battery::Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if errors.is_empty() {
        let warnings = findings.len();
        let (status, summary) = if warnings == 0 {
            (Status::Ok, "the startup battery passes".to_string())
        } else {
            (
                Status::Warn,
                format!("the startup battery passes with {warnings} warning(s)"),
            )
        };
        return Layer::new("battery", status, summary).evidence(
            findings
                .iter()
                .map(|f| format!("{}: {}", f.check, f.message)),
        );
    }
    let fix = errors
        .iter()
        .find_map(|f| f.hint.clone())
        .unwrap_or_else(|| format!("fix the TOML, then `{}`", p.cmd("check")));
    Layer::new(
        "battery",
        Status::Fail,
        "the startup battery fails: rounds end with config_broken (exit 78)",
    )
    .evidence(errors.iter().map(|f| format!("{}: {}", f.check, f.message)))
    .fix(fix)
}

/// An event of error priority: from the journal's PRIORITY, else from the kind's declared
/// priority (the mirror carries no priority).
fn is_error_event(e: &Record) -> bool {
    if let Some(p) = e.priority() {
        return p <= 3;
    }
    e.kind().is_some_and(|k| k.priority() == Priority::Error)
}

fn is_ok_round_end(e: &Record) -> bool {
    matches!(e.event(), Some(Event::RoundEnd(end)) if end.outcome == "ok")
}

/// No error event since the last successful round.
pub(crate) fn layer_events(p: &mut Probe) -> Layer {
    let events = match read::read(
        p.project,
        &Query {
            limit: Some(RECENT_EVENTS),
            ..Query::default()
        },
    ) {
        Ok((events, _)) => events,
        Err(e) => return events_unseen(p, e),
    };
    // Errors that a later successful round has put behind us do not count.
    let since_ok = events
        .iter()
        .rposition(is_ok_round_end)
        .map_or(0, |i| i + 1);
    let errors: Vec<&Record> = events[since_ok..]
        .iter()
        .filter(|e| is_error_event(e))
        .collect();
    if errors.is_empty() {
        let summary = if events.is_empty() {
            "no events yet".to_string()
        } else {
            format!("no error among the last {} events", events.len())
        };
        return Layer::new("events", Status::Ok, summary);
    }
    Layer::new(
        "events",
        Status::Fail,
        format!(
            "{} error event(s) since the last successful round",
            errors.len()
        ),
    )
    .evidence(errors.iter().rev().take(5).map(|e| human_line(e)))
    .fix(format!(
        "`agent-runner{} events {} --since \"1h ago\"` for context; fix the cause, then `{}`",
        p.project.scope.flag(),
        p.project.name,
        p.cmd("restart")
    ))
}

/// The events layer when the events could not be read: a failure when the journal and the
/// mirror are out of sight (no error seen would be no news), a warning for anything else.
fn events_unseen(p: &mut Probe, error: Error) -> Layer {
    match partial::unseen_in("events", error) {
        Ok(unseen) => {
            let layer = Layer::new("events", Status::Fail, "cannot read the events")
                .evidence(unseen.iter().map(ToString::to_string))
                .fix(Probe::unseen_fix(&unseen));
            p.unseen.extend(unseen);
            layer
        }
        Err(e) => Layer::new("events", Status::Warn, format!("cannot read events: {e}")),
    }
}

/// The last rounds authenticate, do not crash, and are not backing off.
pub(crate) fn layer_rounds(p: &mut Probe) -> Layer {
    let Some(state) = p.snapshot.as_ref().and_then(|s| s.state_file.clone()) else {
        return Layer::new("rounds", Status::Ok, "no round has run yet");
    };
    let threshold = p.project.runtime.crash_loop_threshold;
    let crashes = state.consecutive_short_crashes.unwrap_or(0);
    let outcome = state
        .last_outcome
        .as_ref()
        .and_then(|o| o.outcome.clone())
        .unwrap_or_default();
    if outcome == "auth_fail" {
        return Layer::new(
            "rounds",
            Status::Fail,
            "the last round failed to authenticate with the model provider",
        )
        .evidence(state.last_error.clone())
        .fix(format!(
            "{}, then `{}`",
            p.project.agent.auth_hint(),
            p.cmd("restart")
        ));
    }
    if crashes > 0 {
        return Layer::new(
            "rounds",
            Status::Fail,
            format!(
                "crash streak: {crashes} short crash(es) in a row (the loop halts at {threshold})"
            ),
        )
        .evidence(state.last_error.clone())
        .fix(format!(
            "`agent-runner{} logs {}` shows the last round's output",
            p.project.scope.flag(),
            p.project.name
        ));
    }
    if let Some(until) = p.snapshot.as_ref().and_then(|s| s.throttle_until.clone()) {
        return Layer::new(
            "rounds",
            Status::Warn,
            format!(
                "backing off after a transient error ({}) until {until}; it resumes on its own",
                state.throttle_class.as_deref().unwrap_or("transient")
            ),
        );
    }
    let last = if outcome.is_empty() {
        "unknown"
    } else {
        &outcome
    };
    Layer::new("rounds", Status::Ok, format!("last round: {last}"))
}

/// (free, total) bytes of the file system holding `dir`, or its nearest existing parent.
fn free_space(dir: &Path) -> Option<(u64, u64)> {
    let mut probe = dir;
    while !probe.exists() {
        probe = probe.parent()?;
    }
    let st = nix::sys::statvfs::statvfs(probe).ok()?;
    let frsize = st.fragment_size();
    Some((
        st.blocks_available().saturating_mul(frsize),
        st.blocks().saturating_mul(frsize),
    ))
}

/// "round 7's log is incomplete: …" when the state says the last round could not write all of its
/// output (the round records why: a full disk, an I/O error).
fn lost_log(p: &Probe) -> Option<String> {
    let state = p.snapshot.as_ref()?.state_file.as_ref()?;
    let last = state.last_outcome.as_ref()?;
    (last.log_complete == Some(false)).then(|| {
        format!(
            "round {}'s log is incomplete: {}",
            last.round.map_or_else(|| "?".into(), |r| r.to_string()),
            last.log_error.as_deref().unwrap_or("no reason recorded")
        )
    })
}

/// The file systems of the log, state and work directories have room left, and the last round
/// could write all of its output.
pub(crate) fn layer_disk(p: &mut Probe) -> Layer {
    let dirs: [(&str, PathBuf); 3] = [
        ("log_dir", p.project.runtime.log_dir.clone()),
        ("state dir", state_dir(p.project)),
        ("work_dir", p.project.runtime.work_dir.clone()),
    ];
    let mut evidence = Vec::new();
    let mut full = None;
    for (label, dir) in &dirs {
        let Some((free, total)) = free_space(dir) else {
            continue;
        };
        let mb = free / (1024 * 1024);
        evidence.push(format!("{label} {}: {mb} MiB free", dir.display()));
        if free < MIN_FREE_BYTES || free.saturating_mul(50) < total {
            full.get_or_insert((*label, dir.clone()));
        }
    }
    let lost = lost_log(p);
    evidence.extend(lost.clone());
    match full {
        None if lost.is_some() => Layer::new(
            "disk",
            Status::Fail,
            "the last round's output did not all reach its round log",
        )
        .evidence(evidence)
        .fix(format!(
            "look at the disk of {} (`df`, `journalctl -k` for I/O errors)",
            p.project.runtime.log_dir.display()
        )),
        Some((label, dir)) => Layer::new(
            "disk",
            Status::Fail,
            format!("the file system of the {label} is (nearly) full"),
        )
        .evidence(evidence)
        .fix(format!(
            "free space under {} (old round logs: lower runtime.round_log_retention)",
            dir.display()
        )),
        None => Layer::new("disk", Status::Ok, "enough free space").evidence(evidence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::loop_state::LoopState;
    use crate::observe::snapshot::{example, example_project};
    use crate::observe::state_file::{LastOutcome, StateView};

    #[test]
    fn a_round_log_cut_short_points_at_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let project = example_project(dir.path());
        let mut snapshot = example(LoopState::Waiting, None, Vec::new());
        let last = LastOutcome {
            round: Some(7),
            outcome: Some("ok".into()),
            log_complete: Some(false),
            log_error: Some("No space left on device (os error 28)".into()),
            ..LastOutcome::default()
        };
        snapshot.state_file = Some(StateView {
            last_outcome: Some(last),
            ..StateView::default()
        });
        let mut probe = Probe {
            project: &project,
            bus: None,
            snapshot: Some(snapshot),
            unseen: Vec::new(),
        };
        let layer = layer_disk(&mut probe);
        assert_eq!(layer.status, Status::Fail, "{layer:?}");
        assert!(
            layer
                .evidence
                .iter()
                .any(|e| e == "round 7's log is incomplete: No space left on device (os error 28)"),
            "{layer:?}"
        );

        let state = probe
            .snapshot
            .as_mut()
            .unwrap()
            .state_file
            .as_mut()
            .unwrap();
        state.last_outcome.as_mut().unwrap().log_complete = Some(true);
        assert_eq!(layer_disk(&mut probe).status, Status::Ok);
    }
}
