//! `agent-runner diagnose NAME`: the layered check an operator would otherwise run by hand.
//!
//! Layers run top-down — systemd reachable → units generated and in sync → unit states →
//! startup battery → recent error events → last rounds → disk space — and the first failing
//! one stops the run with its evidence and the command that fixes it. Exit 0 when healthy (a
//! warning does not count), 69 when systemd is unreachable, 1 otherwise. A layer that cannot
//! read what it judges from (no permission, a planted link) fails: silence is not health.

mod probe;
mod project;
mod report;
mod units;

use self::probe::Probe;
use self::project::{layer_battery, layer_disk, layer_events, layer_rounds};
use self::report::{Layer, Report, Status, present};
use self::units::{layer_systemd, layer_unit_state, layer_units};
use crate::config::{Project, ProjectRef};
use crate::context::Context;
use crate::error::{Result, exit};
use crate::observe::partial;
use crate::output;

/// One layer's check: its verdict, from what the layers above left in the probe.
type Check = fn(&mut Probe) -> Layer;

/// The layers in the order they run, each with its stable name.
const LAYERS: [(&str, Check); 7] = [
    ("systemd", layer_systemd),
    ("units", layer_units),
    ("unit_state", layer_unit_state),
    ("battery", layer_battery),
    ("events", layer_events),
    ("rounds", layer_rounds),
    ("disk", layer_disk),
];

/// Runs the layers top-down and stops at the first failing one.
pub(crate) fn run(ctx: &Context, reference: &ProjectRef, json: bool) -> Result<u8> {
    let project = crate::config::load_project(reference, ctx.scope)?;
    let (report, unreachable) = diagnose(&project);
    output::to_stdout(|out| {
        if json {
            output::json(out, &report)
        } else {
            present(out, &report)
        }
    })?;
    partial::finish(&report.unreadable)?;
    Ok(if report.healthy {
        exit::OK
    } else if unreachable {
        exit::UNAVAILABLE
    } else {
        exit::FAILURE
    })
}

/// Builds the report; the flag says the failure is systemd being unreachable.
fn diagnose(project: &Project) -> (Report, bool) {
    let mut layers = Vec::new();
    let mut probe = Probe {
        project,
        bus: None,
        snapshot: None,
        unseen: Vec::new(),
    };
    for (i, (_, layer)) in LAYERS.iter().enumerate() {
        let result = layer(&mut probe);
        let failed = result.status == Status::Fail;
        layers.push(result);
        if failed {
            layers.extend(LAYERS[i + 1..].iter().map(|(name, _)| {
                Layer::new(name, Status::Skipped, "not checked (a layer above failed)")
            }));
            break;
        }
    }
    let failed_layer = layers
        .iter()
        .find(|l| l.status == Status::Fail)
        .map(|l| l.name);
    let report = Report {
        project: project.name.clone(),
        healthy: failed_layer.is_none(),
        failed_layer,
        layers,
        unreadable: probe.unseen,
    };
    (report, failed_layer == Some("systemd"))
}
