//! Starting a project's notifier (agent-runner-notify@NAME.service) at the end of a round: the
//! after-round step only asks systemd to start it and does not wait, so that delivering, however
//! slow the receiver, never delays the round or the next one. The notifier finds for itself what
//! there is to deliver; a start when nothing is new costs one journal query.

use crate::config::Project;
use crate::paths::Scope;
use crate::systemd::bus::Bus;

/// Starts the notifier of `project`, when it has notifications (system manager only: the
/// notifier's user and store are the system's). Failures are only said.
pub(crate) fn start_after_round(scope: Scope, project: &Project) {
    if scope != Scope::System {
        return;
    }
    if let Err(e) = start(scope, project) {
        crate::output::stderr_line(format_args!(
            "agent-runner: cannot start the notifier of {}: {e}",
            project.name
        ));
    }
}

fn start(scope: Scope, project: &Project) -> crate::error::Result<()> {
    if crate::config::notify_load::settings(project)?.is_none() {
        return Ok(());
    }
    start_on(&Bus::connect(scope, None)?, project)
}

/// Starts the notifier of `project` over `bus` when it has notifications (system manager only),
/// without waiting: what `agent-runner watch` does, so that an alert raised between rounds (a
/// stale loop has no round end to carry it) is delivered now.
pub(crate) fn start_between_rounds(bus: &Bus, project: &Project) -> crate::error::Result<()> {
    if project.scope != Scope::System || crate::config::notify_load::settings(project)?.is_none() {
        return Ok(());
    }
    start_on(bus, project)
}

fn start_on(bus: &Bus, project: &Project) -> crate::error::Result<()> {
    let unit = crate::units::notify_service(&project.name);
    // A notifier that gave up (its start limit hit) gets a fresh start with every round: the
    // rounds themselves pace its retries then.
    let _ = bus.reset_failed(&unit);
    bus.start_nowait(&unit)
}
