//! What the layers of `diagnose` share as they run top-down: the project, and what a layer above
//! found that a layer below reads (the bus, the snapshot).

use crate::config::Project;
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
}

impl Probe<'_> {
    /// `agent-runner [--user] VERB NAME`, for a fix.
    pub(crate) fn cmd(&self, verb: &str) -> String {
        format!(
            "agent-runner{} {verb} {}",
            self.project.scope.flag(),
            self.project.name
        )
    }
}
