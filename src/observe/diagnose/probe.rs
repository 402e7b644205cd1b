//! What the layers of `diagnose` share as they run top-down: the project, and what a layer above
//! found that a layer below reads (the bus, the snapshot).

use crate::config::Project;
use crate::error::Unseen;
use crate::observe::snapshot::Snapshot;
use crate::systemd::bus::Bus;

/// The state of one diagnosis between its layers.
pub(crate) struct Probe<'a> {
    /// The project diagnosed.
    pub project: &'a Project,
    /// The manager's bus, once the systemd layer reached it.
    pub bus: Option<Bus>,
    /// The project's snapshot, once the unit_state layer took it.
    pub snapshot: Option<Snapshot>,
    /// What the layers could not read: any of it makes the diagnosis unhealthy, since the
    /// layers would judge from silence.
    pub unseen: Vec<Unseen>,
}

impl Probe<'_> {
    /// The fix for what could not be read: the hint of its first source.
    pub(crate) fn unseen_fix(unseen: &[Unseen]) -> String {
        unseen
            .first()
            .map_or_else(String::new, |u| u.hint.to_string())
    }

    /// `agent-runner [--user] VERB NAME`, for a fix.
    pub(crate) fn cmd(&self, verb: &str) -> String {
        format!(
            "agent-runner{} {verb} {}",
            self.project.scope.flag(),
            self.project.name
        )
    }
}
