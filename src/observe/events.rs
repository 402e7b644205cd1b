//! `agent-runner events NAME`: the events of a project from the journal or the JSON mirror,
//! past and (with `--follow`) to come. Reading them back is [`crate::events::read`]'s; this is
//! how they are shown.

use std::io::{self, Write};

use serde_json::Value;

use crate::config::{Project, ProjectRef};
use crate::context::Context;
use crate::error::{Result, exit};
use crate::events::KindName;
use crate::events::read::{self, JournalStart, Query, Record, Source};
use crate::output;
use crate::time::now_us;

/// Options of `agent-runner events`.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventsOptions {
    /// Keep printing new events.
    pub follow: bool,
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
    /// journalctl-style start time.
    pub since: Option<String>,
    /// At most this many past events.
    pub lines: Option<usize>,
    /// One JSON object a line.
    pub json: bool,
}

/// One event as a human line: `2026-11-22 10:00:00  round 7  round_end  <message or payload>`.
/// Everything shown is as stored, so that a kind this version does not know shows as well.
pub(crate) fn human_line(event: &Record) -> String {
    let ts = event
        .get("ts")
        .and_then(Value::as_str)
        .map(|t| t.replace('T', " ").chars().take(19).collect::<String>())
        .unwrap_or_default();
    let kind = event.name().unwrap_or("?");
    let round = event
        .get("round")
        .map(|r| match r {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .map_or_else(String::new, |r| format!("round {r}"));
    let detail = match event.get("message").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => event
            .fields()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "ts" | "event" | "project" | "round"))
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
    };
    format!("{ts}  {round:<9} {kind:<24} {detail}")
}

fn present_event(out: &mut dyn Write, event: &Record, json: bool) -> io::Result<()> {
    if json {
        writeln!(out, "{}", event.to_json())
    } else {
        writeln!(out, "{}", human_line(event))
    }
}

/// Prints one followed event at once; `false` when stdout is gone.
fn present_followed(event: &Record, json: bool) -> bool {
    output::to_stdout(|out| present_event(out, event, json)).is_ok()
}

/// `agent-runner events NAME`.
pub(crate) fn events(ctx: &Context, project: &ProjectRef, options: &EventsOptions) -> Result<u8> {
    let project = crate::config::load_for_reading_said(project, ctx.scope)?;
    // Following starts from here when no past event gives a cursor: nothing that happens while
    // the history is read may fall between the read and the follow.
    let started = now_us() / 1_000_000;
    let query = Query {
        // Any name is accepted: a kind this version does not know may be in the journal.
        kinds: options.kinds.iter().map(|k| KindName::parse(k)).collect(),
        round: None,
        since: options.since.clone(),
        limit: if options.follow {
            Some(options.lines.unwrap_or(10))
        } else {
            options.lines
        },
        scan: None,
    };
    let (events, source) = if query.limit == Some(0) {
        // Only what happens from now on: no history to read, only where to follow it.
        (Vec::new(), read::answering_source(&project, &query)?)
    } else {
        read::read(&project, &query)?
    };
    output::to_stdout(|out| {
        events
            .iter()
            .try_for_each(|event| present_event(out, event, options.json))
    })?;
    if options.follow {
        let start = match events.last().and_then(Record::cursor) {
            Some(cursor) => JournalStart::AfterCursor(cursor.to_string()),
            None => JournalStart::Since(started),
        };
        follow(&project, &query, source, &start, options.json)?;
    }
    Ok(exit::OK)
}

/// Prints the events of `query` as they come, from where the history ended, until stdout is gone.
fn follow(
    project: &Project,
    query: &Query,
    source: Source,
    start: &JournalStart,
    json: bool,
) -> Result<()> {
    match source {
        Source::Journal => {
            read::follow_journal(&project.name, &query.kinds, start, |e| {
                present_followed(e, json)
            })?;
        }
        Source::Mirror => {
            read::follow_mirror(&project.runtime.log_dir, query, |e| {
                present_followed(e, json)
            });
        }
    }
    Ok(())
}
