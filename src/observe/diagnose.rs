//! `agent-runner diagnose NAME`: the layered check of DESIGN §6, after seed 003's runbook.
//!
//! Layers run top-down — systemd reachable → units generated and in sync → unit states →
//! startup battery → recent error events → last rounds → disk space — and the first failing
//! one stops the run with its evidence and the command that fixes it. Exit 0 when healthy (a
//! warning does not count), 69 when systemd is unreachable, 1 otherwise.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::config::Project;
use crate::config::ProjectRef;
use crate::config::battery::{self, Severity};
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::read::{self, Query, Record};
use crate::events::{Event, Priority};
use crate::observe::events as observe;
use crate::observe::status::{self, LoopState, Snapshot};
use crate::systemd::bus::Bus;
use crate::units::{Unit, Units};

/// Below this much free space (or 2 %) a file system counts as full.
const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;
/// Events looked at by the error layer.
const RECENT_EVENTS: usize = 50;

/// The verdict of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Nothing wrong here.
    Ok,
    /// Worth knowing; does not make the project unhealthy.
    Warn,
    /// This layer is broken: the diagnosis stops here.
    Fail,
    /// Not run, because a layer above failed.
    Skipped,
}

/// One layer's result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Layer {
    /// Stable identifier: systemd, units, unit_state, battery, events, rounds, disk.
    #[serde(rename = "layer")]
    pub name: &'static str,
    /// ok, warn, fail or skipped.
    pub status: Status,
    /// One sentence.
    pub summary: String,
    /// What was seen (unit states, event lines, file names).
    pub evidence: Vec<String>,
    /// The command (or action) that fixes it.
    pub fix: Option<String>,
}

impl Layer {
    fn new(name: &'static str, status: Status, summary: impl Into<String>) -> Self {
        Self {
            name,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    fn evidence(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(lines);
        self
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// The whole diagnosis.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// The project.
    pub project: String,
    /// No layer failed.
    pub healthy: bool,
    /// The first failing layer, if any.
    pub failed_layer: Option<&'static str>,
    /// Every layer, in order.
    pub layers: Vec<Layer>,
}

const LAYERS: &[&str] = &[
    "systemd",
    "units",
    "unit_state",
    "battery",
    "events",
    "rounds",
    "disk",
];

/// Runs the layers top-down and stops at the first failing one.
pub(crate) fn run(ctx: &Context, reference: &ProjectRef, json: bool) -> Result<u8> {
    let project = crate::config::load_project(reference, ctx.scope)?;
    let (report, unreachable) = diagnose(&project);
    if json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Failed(e.to_string()))?;
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    } else {
        print(&report);
    }
    Ok(if report.healthy {
        exit::OK
    } else if unreachable {
        exit::UNAVAILABLE
    } else {
        exit::FAILURE
    })
}

/// Builds the report; the flag says the failure is systemd being unreachable.
pub(crate) fn diagnose(project: &Project) -> (Report, bool) {
    let mut layers = Vec::new();
    let mut unreachable = false;
    let verdicts: [&dyn Fn(&mut Probe) -> Layer; 7] = [
        &layer_systemd,
        &layer_units,
        &layer_unit_state,
        &layer_battery,
        &layer_events,
        &layer_rounds,
        &layer_disk,
    ];
    let mut probe = Probe {
        project,
        bus: None,
        snapshot: None,
    };
    for (i, layer) in verdicts.iter().enumerate() {
        let result = layer(&mut probe);
        let failed = result.status == Status::Fail;
        if failed && result.name == "systemd" {
            unreachable = true;
        }
        layers.push(result);
        if failed {
            for name in &LAYERS[i + 1..] {
                layers.push(Layer::new(
                    name,
                    Status::Skipped,
                    "not checked (a layer above failed)",
                ));
            }
            break;
        }
    }
    let failed_layer = layers
        .iter()
        .find(|l| l.status == Status::Fail)
        .map(|l| l.name);
    (
        Report {
            project: project.name.clone(),
            healthy: failed_layer.is_none(),
            failed_layer,
            layers,
        },
        unreachable,
    )
}

struct Probe<'a> {
    project: &'a Project,
    bus: Option<Bus>,
    snapshot: Option<Snapshot>,
}

impl Probe<'_> {
    fn cmd(&self, verb: &str) -> String {
        format!(
            "agent-runner{} {verb} {}",
            self.project.scope.flag(),
            self.project.name
        )
    }
}

fn layer_systemd(p: &mut Probe) -> Layer {
    let scope = p.project.scope;
    match Bus::connect(scope, None).and_then(|bus| bus.version().map(|v| (bus, v))) {
        Ok((bus, version)) => {
            p.bus = Some(bus);
            Layer::new(
                "systemd",
                Status::Ok,
                format!("systemd {version} answers on the bus"),
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

fn layer_units(p: &mut Probe) -> Layer {
    let project = p.project;
    let drift = crate::render::drift::drift(project, project.scope);
    let units = Units::of(&project.name);
    let generate = p.cmd("generate");
    if !drift.generated {
        return Layer::new(
            "units",
            Status::Fail,
            "the units of this project were never generated",
        )
        .evidence(
            drift
                .drop_ins
                .iter()
                .filter(|d| d.hash.is_none())
                .map(|d| format!("missing: {}", d.path.display())),
        )
        .fix(generate);
    }
    if !drift.in_sync {
        return Layer::new(
            "units",
            Status::Fail,
            "the TOML changed after the units were generated (drift)",
        )
        .evidence(drift.drop_ins.iter().filter(|d| !d.in_sync).map(|d| {
            format!(
                "{}: inputs {} ≠ TOML {}",
                d.path.display(),
                d.hash
                    .as_deref()
                    .map_or("missing", |h| h.get(..12).unwrap_or(h)),
                &drift.config_sha256[..12]
            )
        }))
        .fix(generate);
    }
    let Some(bus) = &p.bus else {
        return Layer::new("units", Status::Skipped, "no bus");
    };
    let mut evidence = Vec::new();
    let mut reload = false;
    for unit in units.all() {
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
            Ok(info) => {
                if info.need_daemon_reload {
                    reload = true;
                    evidence.push(format!(
                        "{unit}: changed on disk since the last daemon-reload"
                    ));
                }
            }
            Err(e) => {
                return Layer::new("units", Status::Fail, format!("cannot load {unit}"))
                    .evidence([e.to_string()])
                    .fix(generate);
            }
        }
    }
    if reload {
        return Layer::new(
            "units",
            Status::Fail,
            "systemd still runs the old unit files",
        )
        .evidence(evidence)
        .fix(format!("systemctl{} daemon-reload", p.project.scope.flag()));
    }
    Layer::new(
        "units",
        Status::Ok,
        "generated, in sync with the TOML, loaded",
    )
}

fn unit_evidence(s: &Snapshot) -> Vec<String> {
    let mut lines: Vec<String> = [&s.units.service, &s.units.timer, &s.units.path]
        .into_iter()
        .flatten()
        .map(|u| {
            let mut t = format!("{}: {}/{}", u.name, u.active_state, u.sub_state);
            if !u.result.is_empty() {
                let _ = write!(t, ", result {}", u.result);
            }
            if let Some(code) = u.exec_main_status.filter(|c| *c != 0) {
                let _ = write!(t, ", exit status {code}");
            }
            t
        })
        .collect();
    if let Some(e) = &s.last_error {
        lines.push(format!("last_error: {e}"));
    }
    lines
}

fn layer_unit_state(p: &mut Probe) -> Layer {
    let Some(bus) = &p.bus else {
        return Layer::new("unit_state", Status::Skipped, "no bus");
    };
    let snap = match status::snapshot(p.project, bus, None) {
        Ok(s) => s,
        Err(e) => return Layer::new("unit_state", Status::Fail, e.to_string()),
    };
    let evidence = unit_evidence(&snap);
    let journal = format!("journalctl -u {} -n 50", Unit::Round.short(&p.project.name));
    let layer = match (snap.state, snap.reason.as_deref()) {
        (LoopState::StartLimitHit, _) => Layer::new(
            "unit_state",
            Status::Fail,
            "systemd refused to start another round (start-limit-hit)",
        )
        .fix(p.cmd("restart")),
        (LoopState::Failed, _) => Layer::new(
            "unit_state",
            Status::Fail,
            format!(
                "the round service failed ({})",
                snap.reason.as_deref().unwrap_or("?")
            ),
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
        (LoopState::Halted, Some(r @ ("crash_loop" | "config_broken"))) => Layer::new(
            "unit_state",
            Status::Fail,
            format!("the loop halted itself: {r}"),
        )
        .fix(format!(
            "`{}` shows the failing rounds; fix the cause, then `{}`",
            p.cmd("peek"),
            p.cmd("start")
        )),
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
    };
    p.snapshot = Some(snap);
    layer.evidence(evidence)
}

fn layer_battery(p: &mut Probe) -> Layer {
    let findings = battery::run(p.project);
    let errors: Vec<&battery::Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if errors.is_empty() {
        let warnings = findings.len();
        let layer = Layer::new(
            "battery",
            if warnings == 0 {
                Status::Ok
            } else {
                Status::Warn
            },
            if warnings == 0 {
                "the startup battery passes".to_string()
            } else {
                format!("the startup battery passes with {warnings} warning(s)")
            },
        );
        return layer.evidence(
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

fn layer_events(p: &mut Probe) -> Layer {
    let events = match read::read(
        p.project,
        &Query {
            limit: Some(RECENT_EVENTS),
            ..Query::default()
        },
    ) {
        Ok((events, _)) => events,
        Err(e) => return Layer::new("events", Status::Warn, format!("cannot read events: {e}")),
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
        return Layer::new(
            "events",
            Status::Ok,
            if events.is_empty() {
                "no events yet".to_string()
            } else {
                format!("no error among the last {} events", events.len())
            },
        );
    }
    Layer::new(
        "events",
        Status::Fail,
        format!(
            "{} error event(s) since the last successful round",
            errors.len()
        ),
    )
    .evidence(errors.iter().rev().take(5).map(|e| observe::human_line(e)))
    .fix(format!(
        "`agent-runner{} events {} --since \"1h ago\"` for context; fix the cause, then `{}`",
        p.project.scope.flag(),
        p.project.name,
        p.cmd("restart")
    ))
}

fn layer_rounds(p: &mut Probe) -> Layer {
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
            "log the agent CLI in again (as the user rounds run as), then `{}`",
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
    Layer::new(
        "rounds",
        Status::Ok,
        format!(
            "last round: {}",
            if outcome.is_empty() {
                "unknown"
            } else {
                &outcome
            }
        ),
    )
}

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

fn layer_disk(p: &mut Probe) -> Layer {
    let dirs = [
        ("log_dir", p.project.runtime.log_dir.clone()),
        ("state dir", status::state_dir(p.project)),
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
    match full {
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

fn print(report: &Report) {
    let mut out = std::io::stdout().lock();
    for layer in &report.layers {
        let tag = match layer.status {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skipped => "----",
        };
        let _ = writeln!(out, "[{tag}] {:<10} {}", layer.name, layer.summary);
        if layer.status == Status::Skipped {
            continue;
        }
        for line in &layer.evidence {
            let _ = writeln!(out, "         {line}");
        }
        if let Some(fix) = &layer.fix
            && layer.status != Status::Ok
        {
            let _ = writeln!(out, "       fix: {fix}");
        }
    }
    let _ = match report.failed_layer {
        None => writeln!(out, "{}: healthy", report.project),
        Some(layer) => writeln!(out, "{}: unhealthy (layer {layer})", report.project),
    };
}
