//! `agent-runner peek NAME`: the full snapshot of one project — units, state file, recent
//! rounds, config digest and drift between the TOML and the generated units.

use std::fmt::Write as _;
use std::io::Write;

use serde_json::{Value, json};

use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::Kind;
use crate::events::read::{self, Query, Record, Source};
use crate::observe::events as observe;
use crate::render::drift::drift;
use crate::systemd::bus::Bus;

/// How many recent rounds `peek` lists.
const RECENT_ROUNDS: usize = 10;
/// How many log lines `peek --log` shows.
const LOG_TAIL_LINES: usize = 40;

/// One finished round, from its `round_end` event, with the values as they were stored.
fn round_row(event: &Record) -> Value {
    let pick = |k: &str| event.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "round": pick("round"),
        "ended_at": pick("ts"),
        "outcome": pick("outcome"),
        "exit_code": pick("exit_code"),
        "duration_ms": pick("duration_ms"),
        "phase": pick("phase"),
    })
}

/// `agent-runner peek NAME [--round N [--log]] [--json]`.
pub(crate) fn run(
    ctx: &Context,
    reference: &ProjectRef,
    round: Option<u64>,
    log: bool,
    json_out: bool,
) -> Result<u8> {
    let project = crate::config::load_project(reference, ctx.scope)?;
    let bus = Bus::connect(ctx.scope, None)?;
    let snap = crate::observe::status::snapshot(&project, &bus, None)?;
    let drift = drift(&project, ctx.scope);
    let (recent, source) = read::read(
        &project,
        &Query {
            kinds: vec![Kind::RoundEnd.into()],
            limit: Some(RECENT_ROUNDS),
            ..Query::default()
        },
    )?;
    let recent_rounds: Vec<Value> = recent.iter().rev().map(round_row).collect();
    let log_dir = &project.runtime.log_dir;
    let shown_round = round.or(snap.round);
    let round_detail = match round {
        Some(n) => {
            let (events, _) = read::read(
                &project,
                &Query {
                    round: Some(n),
                    ..Query::default()
                },
            )?;
            let log_path = observe::round_log_path(log_dir, Some(n));
            if events.is_empty() && log_path.is_none() {
                return Err(Error::Failed(format!(
                    "no trace of round {n} of {} (no events, no log)\n  hint: the recent rounds are listed by `agent-runner{} peek {}`",
                    project.name,
                    ctx.scope.flag(),
                    project.name
                )));
            }
            Some((n, events, log_path))
        }
        None => None,
    };
    let log_path = match &round_detail {
        Some((_, _, p)) => p.clone(),
        None => observe::round_log_path(log_dir, None),
    };
    let log_tail = if log {
        match &log_path {
            Some(p) => {
                Some(observe::tail(p, LOG_TAIL_LINES).map_err(|e| Error::io("cannot read", p, e))?)
            }
            None => None,
        }
    } else {
        None
    };
    let narrative = project
        .runtime
        .narrative_file
        .as_ref()
        .and_then(|p| observe::tail(p, 10).ok());

    if json_out {
        let mut doc = serde_json::to_value(&snap).map_err(|e| Error::Failed(e.to_string()))?;
        let obj = doc.as_object_mut().expect("a snapshot is an object");
        obj.insert(
            "state_file".into(),
            snap.state_raw.clone().unwrap_or(Value::Null),
        );
        obj.insert(
            "state_dir".into(),
            json!(crate::observe::status::state_dir(&project)),
        );
        obj.insert("log_dir".into(), json!(log_dir));
        obj.insert(
            "config".into(),
            json!({
                "source": project.source,
                "sha256": drift.config_sha256,
                "generated": drift.generated,
                "in_sync": drift.in_sync,
                "drop_ins": drift.drop_ins,
            }),
        );
        obj.insert("events_source".into(), json!(source));
        obj.insert("recent_rounds".into(), Value::Array(recent_rounds));
        if let Some((n, events, path)) = &round_detail {
            let events: Vec<Value> = events.iter().map(Record::to_json).collect();
            obj.insert(
                "round_detail".into(),
                json!({"round": n, "events": events, "log": path}),
            );
        }
        obj.insert(
            "log".into(),
            json!({"path": log_path, "round": shown_round, "tail": log_tail}),
        );
        obj.insert("narrative".into(), json!(narrative));
        let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Failed(e.to_string()))?;
        let _ = writeln!(std::io::stdout().lock(), "{text}");
        return Ok(exit::OK);
    }

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", project.name);
    let _ = writeln!(
        out,
        "  state:      {}{}",
        snap.state.as_str(),
        snap.reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    for (label, unit) in [
        ("service", &snap.units.service),
        ("timer", &snap.units.timer),
        ("path", &snap.units.path),
        ("halt", &snap.units.halt),
        ("loop", &snap.units.loop_unit),
        ("backoff", &snap.units.backoff),
    ] {
        // The back-off timer only exists during a long back-off: say nothing otherwise.
        if label == "backoff" && unit.is_none() {
            continue;
        }
        let text = unit.as_ref().map_or_else(
            || "not loaded".into(),
            |u| {
                let mut t = format!("{} {}/{}", u.name, u.active_state, u.sub_state);
                if !u.result.is_empty() && u.result != "success" {
                    let _ = write!(t, " result={}", u.result);
                }
                if let Some(n) = u.n_restarts.filter(|n| *n > 0) {
                    let _ = write!(t, " restarts={n}");
                }
                if let Some(id) = &u.invocation_id {
                    let _ = write!(t, " invocation={id}");
                }
                t
            },
        );
        let _ = writeln!(out, "  {label:<8}    {text}");
    }
    let _ = writeln!(
        out,
        "  config:     {} sha256:{}",
        project.source.display(),
        &drift.config_sha256[..16]
    );
    let _ = writeln!(
        out,
        "  units:      {}",
        if !drift.generated {
            format!(
                "not generated (run `agent-runner{} generate {}`)",
                ctx.scope.flag(),
                project.name
            )
        } else if drift.in_sync {
            "in sync with the TOML".into()
        } else {
            format!(
                "DRIFTED: the TOML changed after generate (run `agent-runner{} generate {}`)",
                ctx.scope.flag(),
                project.name
            )
        }
    );
    let _ = writeln!(
        out,
        "  state dir:  {}",
        crate::observe::status::state_dir(&project).display()
    );
    match &snap.state_raw {
        Some(raw) => {
            let _ = writeln!(
                out,
                "  state file: {}",
                serde_json::to_string(raw).unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(out, "  state file: none yet (no round has run)");
        }
    }
    let _ = writeln!(
        out,
        "  recent rounds ({}):",
        match source {
            Source::Journal => "journal",
            Source::Mirror => "events.jsonl",
        }
    );
    if recent.is_empty() {
        let _ = writeln!(out, "    none");
    }
    for e in recent.iter().rev() {
        let _ = writeln!(out, "    {}", observe::human_line(e));
    }
    if let Some((n, events, _)) = &round_detail {
        let _ = writeln!(out, "  round {n}:");
        for e in events {
            let _ = writeln!(out, "    {}", observe::human_line(e));
        }
    }
    if let Some(p) = &log_path {
        let _ = writeln!(out, "  log:        {}", p.display());
    }
    if let Some(lines) = &log_tail {
        let _ = writeln!(out, "  --- last {} lines ---", lines.len());
        for l in lines {
            let _ = writeln!(out, "  {l}");
        }
    }
    if let Some(lines) = &narrative {
        let _ = writeln!(out, "  narrative:");
        for l in lines {
            let _ = writeln!(out, "    {l}");
        }
    }
    Ok(exit::OK)
}
