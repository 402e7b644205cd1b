//! The detectors' two callers: the after-round step (root, in the round service's sandbox) after
//! every round, and `agent-runner watch` (agent-runner-watch.service, started by its
//! timer) for what only shows between rounds — a loop whose rounds stopped ending, a disk that
//! filled while the loop waited. Both update the store of open alerts and start the halt unit
//! when an open alert halts the loop.

use crate::alerts::evidence::Liveness;
use crate::alerts::{self, Alert};
use crate::config::{Project, ProjectRef};
use crate::context::Context;
use crate::error::{Result, exit};
use crate::events::alert::{Detector, Severity};
use crate::systemd::bus::Bus;
use crate::units::Units;

/// Runs the detectors after a round; returns the open alert the loop must halt for, if any. A
/// failure is reported and taken for "no alert": the round is over either way.
pub(crate) fn after_round(project: &Project) -> Option<Alert> {
    let inputs = alerts::evidence::gather(project, crate::time::now_epoch());
    match alerts::evaluate(project, &inputs, &alerts::emitter(project)) {
        Ok(open) => alerts::halting(&open).cloned(),
        Err(e) => {
            crate::output::stderr_line(format_args!(
                "agent-runner: alerts of {}: {e}",
                project.name
            ));
            None
        }
    }
}

/// The open alert that halts `project`'s loop, for the halt step to name as its reason.
pub(crate) fn halting_alert(project: &Project) -> Option<Alert> {
    let open = alerts::store::load(project.scope, &project.name).ok()?;
    alerts::halting(&open).cloned()
}

/// `agent-runner watch [NAME]`: the detectors of one project or of every project of the config
/// directory, with the loop's units asked over D-Bus. A project that fails is reported and the
/// others are still watched; the exit status says whether any failed.
pub(crate) fn run(ctx: &Context, reference: Option<ProjectRef>) -> Result<u8> {
    let projects = match reference {
        Some(reference) => vec![crate::config::load_project(&reference, ctx.scope)],
        None => crate::config::discover(ctx.scope)?
            .iter()
            .map(|file| crate::config::load(file, ctx.scope))
            .collect(),
    };
    let bus = Bus::connect(ctx.scope, None)?;
    let mut failed = false;
    for project in projects {
        if let Err(e) = project.and_then(|p| watch_one(&bus, &p)) {
            crate::output::stderr_line(format_args!("agent-runner: watch: {e}"));
            failed = true;
        }
    }
    Ok(if failed { exit::FAILURE } else { exit::OK })
}

fn watch_one(bus: &Bus, project: &Project) -> Result<()> {
    let units = Units::of(&project.name);
    let mut inputs = alerts::evidence::gather(project, crate::time::now_epoch());
    inputs.liveness = Some(liveness(bus, &units)?);
    let before = alerts::store::load(project.scope, &project.name).map(|o| raised(&o));
    let open = alerts::evaluate(project, &inputs, &alerts::emitter(project))?;
    // Only a raise or a clear has something to deliver: an unchanged watch starts nothing.
    if before.ok() != Some(raised(&open))
        && let Err(e) = super::notifier::start_between_rounds(bus, project)
    {
        crate::output::stderr_line(format_args!(
            "agent-runner: cannot start the notifier of {}: {e}",
            project.name
        ));
    }
    let (loop_state, stopping) = bus.activity(&units.loop_unit)?;
    if let Some(alert) = alerts::halting(&open)
        && loop_state == "active"
        && !stopping
    {
        crate::output::line(format_args!(
            "alert {}: halting the loop of {}: {}",
            alert.detector.name(),
            project.name,
            alert.evidence.summary
        ))?;
        bus.start_nowait(&units.halt)?;
    }
    Ok(())
}

/// The open alerts as raised and cleared events tell them: which detector, how bad.
fn raised(open: &alerts::store::OpenAlerts) -> Vec<(Detector, Severity)> {
    open.alerts
        .iter()
        .map(|a| (a.detector, a.severity))
        .collect()
}

/// The loop's units as the stale-loop detector needs them.
fn liveness(bus: &Bus, units: &Units) -> Result<Liveness> {
    let up = |unit: &str| -> Result<bool> {
        Ok(matches!(
            bus.activity(unit)?.0.as_str(),
            "active" | "activating" | "deactivating" | "reloading"
        ))
    };
    let loop_unit = bus.unit(&units.loop_unit)?;
    Ok(Liveness {
        loop_active: loop_unit.active_state == "active",
        loop_since: (loop_unit.active_enter_us > 0)
            .then_some(loop_unit.active_enter_us / 1_000_000),
        round_running: up(&units.service)?,
        timer_waiting: up(&units.timer)? || up(&units.backoff)?,
    })
}
