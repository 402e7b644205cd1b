//! `agent-runner diagnose NAME`: the layered check an operator would otherwise run by hand.
//!
//! Layers run top-down — systemd reachable → units generated and in sync → unit states →
//! startup battery → recent error events → last rounds → disk space — and the first failing
//! one stops the run with its evidence and the command that fixes it. Exit 0 when healthy (a
//! warning does not count), 69 when systemd is unreachable, 1 otherwise. A layer that cannot
//! read what it judges from (no permission, a planted link) fails: silence is not health.
//!
//! A project named whose file does not load is diagnosed all the same, as `status` shows it:
//! a first layer, `config`, fails with the file's first problem, the battery (which needs the
//! file) is skipped, and the other layers look where the name and scope put the project's units,
//! state and logs. It is unhealthy (exit 1, or 69 when systemd is unreachable too); only a file
//! given with `--config` that does not load stays the configuration error (78).

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
    let (project, config_error) = crate::config::load_for_reading(reference, ctx.scope)?;
    let (report, unreachable) = diagnose(&project, config_error.as_deref());
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

/// Builds the report (`config_error`: why the project's file does not load, when it does not);
/// the flag says systemd is unreachable.
fn diagnose(project: &Project, config_error: Option<&str>) -> (Report, bool) {
    let mut layers = Vec::new();
    let mut probe = Probe {
        project,
        bus: None,
        snapshot: None,
        unseen: Vec::new(),
    };
    if let Some(error) = config_error {
        layers.push(Layer::new("config", Status::Fail, error).fix(format!(
            "fix the file; `{}` lists every problem",
            probe.cmd("check")
        )));
    }
    for (i, (name, layer)) in LAYERS.iter().enumerate() {
        let result = if config_error.is_some() && *name == "battery" {
            Layer::new(
                name,
                Status::Skipped,
                "not checked (the project file does not load)",
            )
        } else {
            layer(&mut probe)
        };
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
    let unreachable = report
        .layers
        .iter()
        .any(|l| l.name == "systemd" && l.status == Status::Fail);
    (report, unreachable)
}
