//! The detectors' two callers: the after-round step (root, in the round service's sandbox) after
//! every round, and `agent-runner halt --step watch` (agent-runner-watch.service, started by its
//! timer) for what only shows between rounds — a loop whose rounds stopped ending, a disk that
//! filled while the loop waited. Both update the store of open alerts and start the halt unit
//! when an open alert halts the loop.

use crate::alerts::{self, Alert};
use crate::config::Project;

/// Runs the detectors after a round; returns the open alert the loop must halt for, if any. A
/// failure is reported and taken for "no alert": the round is over either way.
pub(crate) fn after_round(project: &Project) -> Option<Alert> {
    let inputs = alerts::evidence::gather(project, crate::time::now_epoch());
    match alerts::evaluate(project, &inputs, &alerts::emitter(project)) {
        Ok(open) => alerts::halting(&open).cloned(),
        Err(e) => {
            eprintln!("agent-runner: alerts of {}: {e}", project.name);
            None
        }
    }
}

/// The open alert that halts `project`'s loop, for the halt step to name as its reason.
pub(crate) fn halting_alert(project: &Project) -> Option<Alert> {
    let open = alerts::store::load(project.scope, &project.name).ok()?;
    alerts::halting(&open).cloned()
}
