//! The layers about systemd and the units: the manager answers, the units are generated, in
//! sync with the TOML and loaded, and their state is one the loop can go on from.

use super::probe::Probe;
use super::report::{Layer, Status};
use crate::observe::loop_state::LoopState;
use crate::observe::snapshot::{Snapshot, snapshot};
use crate::render::drift::{Drift, drift};
use crate::render::features::Features;
use crate::systemd::bus::Bus;
use crate::systemd::version;
use crate::units::{Unit, Units};

/// systemd answers on the bus (the layer keeps the bus for those below).
pub(crate) fn layer_systemd(p: &mut Probe) -> Layer {
    let scope = p.project.scope;
    match Bus::connect(scope, None).and_then(|bus| bus.version().map(|v| (bus, v))) {
        Ok((bus, version)) => {
            p.bus = Some(bus);
            let renders_for = version::parse_major(&version)
                .map(|major| Features::of(major).summary())
                .unwrap_or_default();
            Layer::new(
                "systemd",
                Status::Ok,
                format!("systemd {version} answers on the bus; {renders_for}"),
            )
        }
        Err(e) => {
            let text = e.to_string();
            let mut lines = text.lines();
            let summary = lines.next().unwrap_or("systemd is unreachable").to_string();
            let fix = lines
                .next()
                .map(|h| h.trim().trim_start_matches("hint: ").to_string())
                .unwrap_or_default();
            Layer::new("systemd", Status::Fail, summary).fix(fix)
        }
    }
}

/// The units are generated, carry the TOML's hash, and systemd has loaded what is on disk.
pub(crate) fn layer_units(p: &mut Probe) -> Layer {
    let drift = drift(p.project, p.project.scope);
    if let Some(failed) = drift_layer(p, &drift) {
        return failed;
    }
    let Some(bus) = &p.bus else {
        return Layer::new("units", Status::Skipped, "no bus");
    };
    loaded_layer(p, bus)
}

/// The units layer when the drop-ins are missing or older than the TOML.
fn drift_layer(p: &Probe, drift: &Drift) -> Option<Layer> {
    let generate = p.cmd("generate");
    if !drift.generated {
        let missing = drift
            .drop_ins
            .iter()
            .filter(|d| d.hash.is_none())
            .map(|d| format!("missing: {}", d.path.display()));
        return Some(
            Layer::new(
                "units",
                Status::Fail,
                "the units of this project were never generated",
            )
            .evidence(missing)
            .fix(generate),
        );
    }
    if drift.in_sync {
        return None;
    }
    let drifted = drift.drop_ins.iter().filter(|d| !d.in_sync).map(|d| {
        format!(
            "{}: inputs {} ≠ TOML {}",
            d.path.display(),
            d.hash
                .as_deref()
                .map_or("missing", |h| h.get(..12).unwrap_or(h)),
            &drift.config_sha256[..12]
        )
    });
    Some(
        Layer::new(
            "units",
            Status::Fail,
            "the TOML changed after the units were generated (drift)",
        )
        .evidence(drifted)
        .fix(generate),
    )
}

/// The units layer once the drop-ins match: systemd loads every unit, from the files on disk.
fn loaded_layer(p: &Probe, bus: &Bus) -> Layer {
    let generate = p.cmd("generate");
    let mut evidence = Vec::new();
    for unit in Units::of(&p.project.name).all() {
        match bus.unit(unit) {
            Ok(info) if info.load_state != "loaded" => {
                return Layer::new(
                    "units",
                    Status::Fail,
                    format!("systemd cannot load {unit}: {}", info.load_state),
                )
                .evidence([format!(
                    "load state {} (is the agent-runner package, or its template units, installed?)",
                    info.load_state
                )])
                .fix(generate);
            }
            Ok(info) if info.need_daemon_reload => evidence.push(format!(
                "{unit}: changed on disk since the last daemon-reload"
            )),
            Ok(_) => {}
            Err(e) => {
                return Layer::new("units", Status::Fail, format!("cannot load {unit}"))
                    .evidence([e.to_string()])
                    .fix(generate);
            }
        }
    }
    if !evidence.is_empty() {
        return Layer::new(
            "units",
            Status::Fail,
            "systemd still runs the old unit files",
        )
        .evidence(evidence)
        .fix(format!("systemctl{} daemon-reload", p.project.scope.flag()));
    }
    if let Some(failed) = failed_after_round(p, bus) {
        return failed;
    }
    Layer::new(
        "units",
        Status::Ok,
        "generated, in sync with the TOML, loaded",
    )
}

/// A warning when the step after the last round failed: a back-off, a halt or an alert that
/// round called for may not have happened. Its next run (after the next round) clears it.
fn failed_after_round(p: &Probe, bus: &Bus) -> Option<Layer> {
    let units = Units::of(&p.project.name);
    let failed: Vec<_> = units
        .after_round
        .iter()
        .filter_map(|unit| bus.unit(unit).ok())
        .filter(|info| info.active_state == "failed")
        .collect();
    let first = failed.first()?.name.clone();
    Some(
        Layer::new(
            "units",
            Status::Warn,
            "the step after the last round failed: a back-off, halt or alert it called for may not have happened",
        )
        .evidence(
            failed
                .iter()
                .map(|info| format!("{}: failed, result {}", info.name, info.result)),
        )
        .fix(format!(
            "read `journalctl{} -u {first} -n 50`; `{}` clears it",
            p.project.scope.flag(),
            p.cmd("restart")
        )),
    )
}

/// The loop is in a state it can go on from (the layer keeps the snapshot for those below).
pub(crate) fn layer_unit_state(p: &mut Probe) -> Layer {
    let Some(bus) = &p.bus else {
        return Layer::new("unit_state", Status::Skipped, "no bus");
    };
    let snap = match snapshot(p.project, bus, None) {
        Ok(s) => s,
        Err(e) => return Layer::new("unit_state", Status::Fail, e.to_string()),
    };
    let layer = if snap.unreadable.is_empty() {
        state_layer(p, &snap)
    } else {
        unseen_layer(&snap)
    };
    let layer = layer.evidence(unit_evidence(&snap));
    p.unseen.extend(snap.unreadable.iter().cloned());
    p.snapshot = Some(snap);
    layer
}

/// The verdict when part of what the loop's state is decided from could not be read: the
/// state word is then a guess, and no verdict can rest on it.
fn unseen_layer(snap: &Snapshot) -> Layer {
    let reason = snap
        .reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    Layer::new(
        "unit_state",
        Status::Fail,
        format!(
            "cannot read all the loop's state is decided from; it looks {}{reason}",
            snap.state.as_str()
        ),
    )
    .evidence(snap.unreadable.iter().map(ToString::to_string))
    .fix(Probe::unseen_fix(&snap.unreadable))
}

/// The verdict on the loop's state, with the command that gets it going again.
fn state_layer(p: &Probe, snap: &Snapshot) -> Layer {
    let journal = format!("journalctl -u {} -n 50", Unit::Round.short(&p.project.name));
    match (snap.state, snap.reason.as_deref()) {
        (LoopState::StartLimitHit, _) => Layer::new(
            "unit_state",
            Status::Fail,
            "systemd refused to start another round (start-limit-hit)",
        )
        .fix(p.cmd("restart")),
        (LoopState::Failed, reason) => Layer::new(
            "unit_state",
            Status::Fail,
            format!("the round service failed ({})", reason.unwrap_or("?")),
        )
        .fix(format!(
            "read `{journal}`, fix the cause, then `{}`",
            p.cmd("restart")
        )),
        (LoopState::Offline, _) => Layer::new(
            "unit_state",
            Status::Fail,
            "the project is offline: the agent did not check in",
        )
        .fix(format!(
            "check that the agent starts and prints within checkin_timeout_s ({}s), then `{}`",
            p.project.runtime.checkin_timeout_s,
            p.cmd("start")
        )),
        (LoopState::Halted, Some(r @ ("crash_loop" | "config_broken" | "auth_failed"))) => {
            Layer::new(
                "unit_state",
                Status::Fail,
                format!("the loop halted itself: {r}"),
            )
            .fix(format!(
                "`{}` shows the failing rounds; fix the cause, then `{}`",
                p.cmd("peek"),
                p.cmd("start")
            ))
        }
        (LoopState::Halted, reason) => Layer::new(
            "unit_state",
            Status::Warn,
            format!(
                "the loop was stopped by a stop trigger ({})",
                reason.unwrap_or("?")
            ),
        )
        .fix(p.cmd("start")),
        (LoopState::Stopped, _) => {
            Layer::new("unit_state", Status::Warn, "the loop is not running").fix(p.cmd("start"))
        }
        (LoopState::NotGenerated, _) => {
            Layer::new("unit_state", Status::Fail, "the units are not generated")
                .fix(p.cmd("generate"))
        }
        (state @ (LoopState::Running | LoopState::Waiting | LoopState::Throttled), _) => {
            Layer::new(
                "unit_state",
                Status::Ok,
                format!("the loop is {}", state.as_str()),
            )
        }
    }
}

/// The service, timer and path as the evidence of the unit_state layer, and the last error.
fn unit_evidence(s: &Snapshot) -> Vec<String> {
    let mut lines: Vec<String> = [&s.units.service, &s.units.timer, &s.units.path]
        .into_iter()
        .flatten()
        .map(|u| {
            let result = if u.result.is_empty() {
                String::new()
            } else {
                format!(", result {}", u.result)
            };
            let status = u
                .exec_main_status
                .filter(|c| *c != 0)
                .map(|code| format!(", exit status {code}"))
                .unwrap_or_default();
            format!(
                "{}: {}/{}{result}{status}",
                u.name, u.active_state, u.sub_state
            )
        })
        .collect();
    if let Some(e) = &s.last_error {
        lines.push(format!("last_error: {e}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::error::Unseen;
    use crate::observe::snapshot::example;

    #[test]
    fn a_loop_state_read_in_part_fails_the_layer_whatever_it_looks_like() {
        let journal_hint = "run it with sudo, or join group systemd-journal (or adm)";
        let unseen = vec![Unseen {
            source: "events",
            path: PathBuf::from("/var/log/agent-runner/t/events.jsonl"),
            reason: "permission denied".into(),
            hint: journal_hint,
        }];
        let snap = example(LoopState::Waiting, None, unseen);
        let layer = unseen_layer(&snap);
        assert_eq!(layer.status, Status::Fail);
        assert_eq!(
            layer.summary,
            "cannot read all the loop's state is decided from; it looks waiting"
        );
        assert_eq!(
            layer.evidence,
            [format!(
                "cannot read /var/log/agent-runner/t/events.jsonl: permission denied — {journal_hint}"
            )]
        );
        assert_eq!(layer.fix.as_deref(), Some(journal_hint));
    }
}
