//! Alerts: detectors that watch a project's loop while nobody looks, and the open alerts they
//! leave for `status` (and the page) to show.
//!
//! * [`evidence`]: what the detectors look at, read through the bounded readers.
//! * [`detectors`]: one pure function per detector.
//! * [`store`]: the open alerts, root's, outside what the agent can write.
//!
//! [`evaluate`] runs every detector and turns its finding into a change of the store: a new
//! finding raises (`alert_raised`), a finding that went away clears (`alert_cleared`), a
//! detector that cannot tell leaves its alert as it is. Root's steps run it: the after-round step
//! of the round service, and the watch service for what only shows between rounds.

pub(crate) mod detectors;
pub(crate) mod evidence;
pub(crate) mod store;

use detectors::Finding;
pub(crate) use evidence::Inputs;
pub(crate) use store::{Alert, OpenAlerts};

use crate::config::Project;
use crate::error::Result;
use crate::events::Emitter;
use crate::events::alert::{Detector, Evidence, Severity};
use crate::events::payload::{AlertCleared, AlertRaised};
use crate::time::iso_utc_s;

/// A change the evaluation made, in the order it made them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// An alert opened or grew worse.
    Raised(Alert),
    /// An alert closed, with what its detector sees now.
    Cleared(Detector, Evidence),
}

/// Runs every detector over `inputs`, updates `open`, and returns what changed.
pub(crate) fn apply(project: &Project, inputs: &Inputs, open: &mut OpenAlerts) -> Vec<Change> {
    let round = inputs.state.as_ref().map(|s| s.round).filter(|r| *r > 0);
    let mut changes = Vec::new();
    for detector in Detector::ALL {
        let finding = detectors::check(detector, inputs, project);
        let index = open.alerts.iter().position(|a| a.detector == detector);
        match (finding, index) {
            (Finding::Firing(severity, evidence), Some(i)) => {
                let alert = &mut open.alerts[i];
                let worse = severity > alert.severity;
                alert.severity = alert.severity.max(severity);
                alert.evidence = evidence;
                if worse {
                    changes.push(Change::Raised(alert.clone()));
                }
            }
            (Finding::Firing(severity, evidence), None) => {
                let alert = Alert {
                    detector,
                    severity,
                    evidence,
                    since: iso_utc_s(inputs.now),
                    round,
                };
                open.alerts.push(alert.clone());
                changes.push(Change::Raised(alert));
            }
            (Finding::Clear(evidence), Some(i)) => {
                open.alerts.remove(i);
                changes.push(Change::Cleared(detector, evidence));
            }
            (Finding::Clear(_) | Finding::Unknown, None) | (Finding::Unknown, Some(_)) => {}
        }
    }
    open.alerts.sort_by_key(|a| a.detector);
    changes
}

/// Evaluates `project`'s detectors over `inputs` against its store: saves what changed and
/// emits one event per change. Returns the alerts open afterwards.
pub(crate) fn evaluate(
    project: &Project,
    inputs: &Inputs,
    emitter: &Emitter,
) -> Result<OpenAlerts> {
    let mut open = store::load(project.scope, &project.name)?;
    let before = open.clone();
    let changes = apply(project, inputs, &mut open);
    if open != before {
        store::save(project.scope, &project.name, &open)?;
    }
    let round = inputs.state.as_ref().map(|s| s.round).filter(|r| *r > 0);
    for change in changes {
        match change {
            Change::Raised(alert) => emitter.emit(
                round,
                None,
                &format!(
                    "{}: alert {} ({}): {}",
                    project.name,
                    alert.detector.name(),
                    alert.severity.name(),
                    alert.evidence.summary
                ),
                AlertRaised {
                    detector: alert.detector,
                    severity: alert.severity,
                    evidence: alert.evidence,
                },
            ),
            Change::Cleared(detector, evidence) => {
                emitter.emit(
                    round,
                    None,
                    &format!(
                        "{}: alert {} cleared: {}",
                        project.name,
                        detector.name(),
                        evidence.summary
                    ),
                    AlertCleared { detector, evidence },
                );
            }
        }
    }
    Ok(open)
}

/// The emitter of root's alert steps: the journal only in the system manager, where the mirror
/// is the agent's file (root's steps there hold no capability to write it, and should not
/// append to what the agent controls); the mirror too in a user manager, where both are the
/// operator's.
pub(crate) fn emitter(project: &Project) -> Emitter {
    let mirror = (project.scope == crate::paths::Scope::User).then_some(&project.runtime.log_dir);
    Emitter::new(&project.name, mirror.map(std::path::PathBuf::as_path))
}

/// The open alerts the loop must halt for that nothing else halts it for: a halt-severity alert
/// whose detector is not the round's own (the round halts the loop on an authentication streak
/// by itself).
pub(crate) fn halting(open: &OpenAlerts) -> Option<&Alert> {
    open.alerts
        .iter()
        .find(|a| a.severity == Severity::Halt && a.detector != Detector::AuthFailureStreak)
}

#[cfg(test)]
mod tests;
