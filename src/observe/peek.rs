//! `agent-runner peek NAME`: the full snapshot of one project — units, state file, recent
//! rounds, config digest and drift between the TOML and the generated units.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::events::human_line;
use super::logs::{last_lines, open_round_log};
use super::partial;
use super::snapshot::{Snapshot, snapshot};
use super::state_file::state_dir;
use crate::config::{Project, ProjectRef};
use crate::context::Context;
use crate::error::{Error, Result, Unseen};
use crate::events::Kind;
use crate::events::read::{self, Query, Record, Source};
use crate::fsutil::tail_agent_file;
use crate::output;
use crate::paths::Scope;
use crate::render::drift::{Drift, drift};
use crate::systemd::bus::{Bus, UnitInfo};

/// How many recent rounds `peek` lists.
const RECENT_ROUNDS: usize = 10;
/// How many log lines `peek --log` shows.
const LOG_TAIL_LINES: usize = 40;
/// How many lines of the narrative file `peek` shows.
const NARRATIVE_LINES: usize = 10;
/// The most of the narrative file read for them.
const NARRATIVE_BYTES: u64 = 64 * 1024;

/// Everything `peek` shows of one project.
struct Peek {
    /// The snapshot; its `unreadable` also names what peek itself could not read.
    snap: Snapshot,
    drift: Drift,
    /// The newest `round_end` events, oldest first.
    recent: Vec<Record>,
    /// Where the events were read from (`None`: they could not be read).
    source: Option<Source>,
    /// With `--round N`: that round's events and log.
    round_detail: Option<RoundDetail>,
    /// The round log shown: round N's, else the current or newest.
    log_path: Option<PathBuf>,
    /// With `--log`: the last lines of that log.
    log_tail: Option<Vec<String>>,
    /// The last lines of `runtime.narrative_file`.
    narrative: Option<Vec<String>>,
}

/// The events and the log of one round.
struct RoundDetail {
    round: u64,
    events: Vec<Record>,
    log: Option<PathBuf>,
}

/// `agent-runner peek NAME [--round N [--log]] [--json]`.
pub(crate) fn run(
    ctx: &Context,
    reference: &ProjectRef,
    round: Option<u64>,
    log: bool,
    json_out: bool,
) -> Result<u8> {
    let (project, config_error) = crate::config::load_for_reading(reference, ctx.scope)?;
    let bus = Bus::connect(ctx.scope, None)?;
    let mut peek = gather(&project, &bus, ctx.scope, round, log, RECENT_ROUNDS)?;
    peek.snap.config_error = config_error;
    if json_out {
        let doc = json_document(&project, &peek, round)?;
        output::to_stdout(|out| output::json(out, &doc))?;
    } else {
        output::to_stdout(|out| present(out, &project, &peek, ctx.scope))?;
    }
    partial::finish(&peek.snap.unreadable)
}

fn gather(
    project: &Project,
    bus: &Bus,
    scope: Scope,
    round: Option<u64>,
    log: bool,
    rounds: usize,
) -> Result<Peek> {
    let mut snap = snapshot(project, bus, None)?;
    let unseen = &mut snap.unreadable;
    let drift = drift(project, scope);
    let recent_query = Query {
        kinds: vec![Kind::RoundEnd.into()],
        limit: Some(rounds),
        ..Query::default()
    };
    let (recent, source) = seen_or(read::read(project, &recent_query), "events", unseen)?
        .map_or((Vec::new(), None), |(events, source)| {
            (events, Some(source))
        });
    let round_detail = match round {
        Some(n) => Some(round_detail(project, n, scope, unseen)?),
        None => None,
    };
    let shown = open_round_log(&project.runtime.log_dir, round);
    let shown = seen_or(shown, "log", unseen)?.flatten();
    let log_tail = match (&shown, log) {
        (Some(l), true) => seen_or(l.last_lines(LOG_TAIL_LINES), "log", unseen)?,
        _ => None,
    };
    let narrative = match &project.runtime.narrative_file {
        Some(path) => narrative(path, &project.runtime.work_dir, unseen)?,
        None => None,
    };
    partial::dedup(&mut snap.unreadable);
    Ok(Peek {
        snap,
        drift,
        recent,
        source,
        round_detail,
        log_path: shown.map(|l| l.path),
        log_tail,
        narrative,
    })
}

/// `peek --json --log` of `project` with its last `rounds` rounds, and what could not be read:
/// the page of one project shows this document.
pub(crate) fn document(
    project: &Project,
    bus: &Bus,
    scope: Scope,
    rounds: usize,
) -> Result<(Value, Vec<Unseen>)> {
    let peek = gather(project, bus, scope, None, true, rounds)?;
    Ok((json_document(project, &peek, None)?, peek.snap.unreadable))
}

/// `result`'s value, or `None` with what could not be read (`source`) added to `unseen`.
fn seen_or<T>(
    result: Result<T>,
    source: &'static str,
    unseen: &mut Vec<Unseen>,
) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            unseen.extend(partial::unseen_in(source, e)?);
            Ok(None)
        }
    }
}

/// The last lines of the narrative file the agent keeps, read as it reads the agent's files
/// (no link followed below the work tree nor at the file); nothing when there is none.
fn narrative(
    path: &Path,
    work_dir: &Path,
    unseen: &mut Vec<Unseen>,
) -> Result<Option<Vec<String>>> {
    match tail_agent_file(path, work_dir, NARRATIVE_BYTES) {
        Ok(tail) => Ok(Some(last_lines(&tail, NARRATIVE_LINES))),
        Err(e) if e.is_missing() => Ok(None),
        Err(e) => {
            unseen.extend(partial::unseen_in("narrative", e)?);
            Ok(None)
        }
    }
}

/// The events and log of round `n`; an error when the round left neither.
fn round_detail(
    project: &Project,
    n: u64,
    scope: Scope,
    unseen: &mut Vec<Unseen>,
) -> Result<RoundDetail> {
    let query = Query {
        round: Some(n),
        ..Query::default()
    };
    let events = seen_or(
        read::read(project, &query).map(|(e, _)| e),
        "events",
        unseen,
    )?;
    let log = seen_or(
        open_round_log(&project.runtime.log_dir, Some(n)),
        "log",
        unseen,
    )?;
    let blind = events.is_none() || log.is_none();
    let events = events.unwrap_or_default();
    let log = log.flatten().map(|l| l.path);
    if events.is_empty() && log.is_none() && !blind {
        return Err(Error::Failed(format!(
            "no trace of round {n} of {} (no events, no log)\n  hint: the recent rounds are listed by `agent-runner{} peek {}`",
            project.name,
            scope.flag(),
            project.name
        )));
    }
    Ok(RoundDetail {
        round: n,
        events,
        log,
    })
}

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

/// `peek --json`: the snapshot's object with the rest of the peek added.
fn json_document(project: &Project, peek: &Peek, round: Option<u64>) -> Result<Value> {
    let mut doc = serde_json::to_value(&peek.snap).map_err(|e| Error::Failed(e.to_string()))?;
    let obj = doc.as_object_mut().expect("a snapshot is an object");
    obj.insert(
        "state_file".into(),
        peek.snap.state_raw.clone().unwrap_or(Value::Null),
    );
    obj.insert("state_dir".into(), json!(state_dir(project)));
    obj.insert("log_dir".into(), json!(project.runtime.log_dir));
    obj.insert(
        "config".into(),
        json!({
            "source": project.source,
            "sha256": peek.drift.config_sha256,
            "generated": peek.drift.generated,
            "in_sync": peek.drift.in_sync,
            "drop_ins": peek.drift.drop_ins,
        }),
    );
    obj.insert("events_source".into(), json!(peek.source));
    let recent_rounds: Vec<Value> = peek.recent.iter().rev().map(round_row).collect();
    obj.insert("recent_rounds".into(), Value::Array(recent_rounds));
    if let Some(detail) = &peek.round_detail {
        let events: Vec<Value> = detail.events.iter().map(Record::to_json).collect();
        obj.insert(
            "round_detail".into(),
            json!({"round": detail.round, "events": events, "log": detail.log}),
        );
    }
    let shown_round = round.or(peek.snap.round);
    obj.insert(
        "log".into(),
        json!({"path": peek.log_path, "round": shown_round, "tail": peek.log_tail}),
    );
    obj.insert("narrative".into(), json!(peek.narrative));
    Ok(doc)
}

/// `peek` as text.
fn present(out: &mut dyn Write, project: &Project, peek: &Peek, scope: Scope) -> io::Result<()> {
    let snap = &peek.snap;
    writeln!(out, "{}", project.name)?;
    if let Some(error) = &snap.config_error {
        writeln!(out, "  config:     does not load: {error}")?;
    }
    let reason = snap
        .reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    writeln!(
        out,
        "  state:      {}{reason}{}",
        snap.state.as_str(),
        partial::mark(&snap.unreadable)
    )?;
    for (label, unit) in snap.units.labelled() {
        // The back-off timer only exists during a long back-off: say nothing otherwise.
        if label == "backoff" && unit.is_none() {
            continue;
        }
        let text = unit.as_ref().map_or_else(|| "not loaded".into(), unit_text);
        writeln!(out, "  {label:<8}    {text}")?;
    }
    present_config(out, project, peek, scope)?;
    present_history(out, peek)?;
    present_logs(out, peek)?;
    partial::present(out, &snap.unreadable)
}

/// One unit: `NAME active/running result=exit-code restarts=2 invocation=…`.
fn unit_text(u: &UnitInfo) -> String {
    let details: String = [
        (!u.result.is_empty() && u.result != "success").then(|| format!(" result={}", u.result)),
        u.n_restarts
            .filter(|n| *n > 0)
            .map(|n| format!(" restarts={n}")),
        u.invocation_id
            .as_ref()
            .map(|id| format!(" invocation={id}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("{} {}/{}{details}", u.name, u.active_state, u.sub_state)
}

/// The TOML, whether the units match it, and the state.
fn present_config(
    out: &mut dyn Write,
    project: &Project,
    peek: &Peek,
    scope: Scope,
) -> io::Result<()> {
    writeln!(
        out,
        "  config:     {} sha256:{}",
        project.source.display(),
        &peek.drift.config_sha256[..16]
    )?;
    let units = if !peek.drift.generated {
        format!(
            "not generated (run `agent-runner{} generate {}`)",
            scope.flag(),
            project.name
        )
    } else if peek.drift.in_sync {
        "in sync with the TOML".into()
    } else {
        format!(
            "DRIFTED: the TOML changed after generate (run `agent-runner{} generate {}`)",
            scope.flag(),
            project.name
        )
    };
    writeln!(out, "  units:      {units}")?;
    writeln!(out, "  state dir:  {}", state_dir(project).display())?;
    match &peek.snap.state_raw {
        Some(raw) => {
            writeln!(out, "  state file:")?;
            super::state_file::summary_lines(raw)
                .iter()
                .try_for_each(|line| writeln!(out, "    {line}"))
        }
        None if peek.snap.unreadable.iter().any(|u| u.source == "state") => {
            writeln!(out, "  state file: unreadable")
        }
        None => writeln!(out, "  state file: none yet (no round has run)"),
    }
}

/// The recent rounds, and the events of the round asked for.
fn present_history(out: &mut dyn Write, peek: &Peek) -> io::Result<()> {
    let source = match peek.source {
        Some(Source::Journal) => "journal",
        Some(Source::Mirror) => "events.jsonl",
        None => "unreadable",
    };
    writeln!(out, "  recent rounds ({source}):")?;
    if peek.recent.is_empty() {
        writeln!(out, "    none")?;
    }
    for e in peek.recent.iter().rev() {
        writeln!(out, "    {}", human_line(e))?;
    }
    if let Some(detail) = &peek.round_detail {
        writeln!(out, "  round {}:", detail.round)?;
        for e in &detail.events {
            writeln!(out, "    {}", human_line(e))?;
        }
    }
    Ok(())
}

/// The round log, its tail, and the narrative.
fn present_logs(out: &mut dyn Write, peek: &Peek) -> io::Result<()> {
    if let Some(p) = &peek.log_path {
        writeln!(out, "  log:        {}", p.display())?;
    }
    if let Some(lines) = &peek.log_tail {
        writeln!(out, "  --- last {} lines ---", lines.len())?;
        for l in lines {
            writeln!(out, "  {l}")?;
        }
    }
    if let Some(lines) = &peek.narrative {
        writeln!(out, "  narrative:")?;
        for l in lines {
            writeln!(out, "    {l}")?;
        }
    }
    Ok(())
}
