//! The two HTML pages: every project at a glance, and one project. Everything a project can put
//! on them (its output, its narrative, its error texts, even its name) is hostile, so every text
//! goes through [`esc`]; the pages load nothing from elsewhere and work with scripts off (they
//! then refresh themselves).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use super::chart;
use super::escape::esc;
use crate::error::Error;
use crate::events::read::Record;
use crate::observe::loop_state::LoopState;
use crate::observe::snapshot::Snapshot;
use crate::time::{now_us, parse_iso_us, relative};

/// Seconds between refreshes of a page when scripts are off.
const REFRESH_S: u32 = 15;

/// The style of both pages, inline: no asset to fetch.
const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;max-height:30em}.bad{color:#b71c1c;font-weight:bold}.warn{color:#e65100}.ok{color:#2e7d32}.muted{color:#777}svg{max-width:100%}";

/// The page's frame around `body`.
fn frame(title: &str, body: &str, script: bool) -> String {
    let script = if script {
        "<script src=\"/live.js\" defer></script>"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><noscript><meta http-equiv=\"refresh\" content=\"{REFRESH_S}\"></noscript><style>{STYLE}</style>{script}</head>\n<body>{body}</body></html>\n",
        esc(title)
    )
}

/// How urgent a state is: problems first on the overview.
fn urgency(s: &Snapshot) -> u8 {
    let base = match s.state {
        LoopState::Failed | LoopState::StartLimitHit => 0,
        LoopState::Offline | LoopState::Halted => 1,
        LoopState::Throttled => 2,
        LoopState::Running | LoopState::Waiting => 4,
        LoopState::Stopped | LoopState::NotGenerated => 5,
    };
    if base > 2 && (!s.unreadable.is_empty() || s.drifted) {
        3
    } else {
        base
    }
}

/// The CSS class of a state word.
fn state_class(state: &str) -> &'static str {
    match state {
        "failed" | "start-limit-hit" | "offline" | "halted" | "config-error" => "bad",
        "throttled" => "warn",
        "running" | "waiting" => "ok",
        _ => "muted",
    }
}

/// Every project at a glance, problems first.
pub(crate) fn index(snaps: &[Snapshot], broken: &[(PathBuf, Error)]) -> String {
    let mut rows: Vec<&Snapshot> = snaps.iter().collect();
    rows.sort_by_key(|s| (urgency(s), s.project.clone()));
    let mut body = String::from(
        "<h1>agent-runner</h1>\n<table id=\"projects\"><thead><tr><th>project</th><th>state</th><th>round</th><th>phase</th><th>last round</th><th>next round</th><th>why</th><th>spend today</th></tr></thead><tbody>\n",
    );
    for (file, e) in broken {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let first = e.to_string();
        let _ = writeln!(
            body,
            "<tr class=\"project\" data-state=\"config-error\"><td>{}</td><td class=\"bad\">config-error</td><td></td><td></td><td></td><td></td><td>{}</td><td></td></tr>",
            esc(&name),
            esc(first.lines().next().unwrap_or(""))
        );
    }
    let now = now_us();
    for s in rows {
        index_row(&mut body, s, now);
    }
    body.push_str("</tbody></table>\n");
    if snaps.is_empty() && broken.is_empty() {
        body.push_str("<p>No projects yet: <code>agent-runner init --preset shell NAME</code> makes one.</p>\n");
    }
    frame("agent-runner", &body, false)
}

/// One row of the overview.
fn index_row(body: &mut String, s: &Snapshot, now: u64) {
    let state = s.state.as_str();
    let mut marks = String::new();
    if s.drifted {
        marks.push_str(" <span class=\"warn\">drifted</span>");
    }
    if !s.unreadable.is_empty() {
        marks.push_str(" <span class=\"warn\">partial view</span>");
    }
    let last = s.last_outcome.as_ref().map_or_else(String::new, |o| {
        let what = o.outcome.clone().unwrap_or_else(|| "?".into());
        match o.duration_ms {
            Some(ms) => format!("{what} {}", seconds(ms)),
            None => what,
        }
    });
    let next = match (
        &s.throttle_until,
        s.next_round_at.as_deref().and_then(parse_iso_us),
    ) {
        (Some(until), _) => format!(
            "after back-off, {}",
            relative(parse_iso_us(until).unwrap_or(now), now)
        ),
        (None, Some(at)) => relative(at, now),
        (None, None) if s.state == LoopState::Running => "running now".into(),
        _ => String::new(),
    };
    let why = match (&s.reason, &s.throttle_class) {
        (Some(r), _) => r.clone(),
        (None, Some(class)) if s.state == LoopState::Throttled => class.clone(),
        _ => s.last_error.clone().unwrap_or_default(),
    };
    let _ = writeln!(
        body,
        "<tr class=\"project\" data-project=\"{p}\" data-state=\"{st}\"><td><a href=\"/p/{p}\">{p}</a></td><td><span class=\"{class}\">{st}</span>{marks}</td><td>{round}</td><td>{phase}</td><td>{last}</td><td>{next}</td><td>{why}</td><td>{spend}</td></tr>",
        p = esc(&s.project),
        st = esc(state),
        class = state_class(state),
        round = s.round.map_or_else(String::new, |r| r.to_string()),
        phase = esc(s.phase.as_deref().unwrap_or("")),
        last = esc(&last),
        next = esc(&next),
        why = esc(&why),
        spend = esc(&spend_today(s)),
    );
}

/// Today's spend, against daily_usd when the project sets it: `$0.04 / $0.05`; empty before
/// the first priced round.
fn spend_today(snap: &Snapshot) -> String {
    let Some(spend) = &snap.spend else {
        return String::new();
    };
    match spend.daily_usd {
        Some(limit) => format!("${:.2} / ${limit:.2}", spend.day_usd),
        None => format!("${:.2}", spend.day_usd),
    }
}

/// "12.3 s" for milliseconds.
fn seconds(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
}

/// What one project's page shows.
pub(crate) struct ProjectPage<'a> {
    /// `peek --json --log` of the project.
    pub doc: &'a Value,
    /// Its newest `agent_usage_recorded` events (tokens and cost per round).
    pub usage: &'a [Record],
    /// Its newest events as lines, oldest first; `None` when they could not be read.
    pub events: Option<&'a [String]>,
    /// The stop triggers present on disk.
    pub triggers: &'a [(&'static str, PathBuf)],
}

/// A string field of the document ("" when absent).
fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// One project: state and units, the timeline, events, the log tail, the narrative, triggers.
pub(crate) fn project(p: &ProjectPage<'_>) -> String {
    let doc = p.doc;
    let name = text(doc, "project");
    let state = text(doc, "state");
    let mut body = format!(
        "<p><a href=\"/\">all projects</a></p>\n<h1>{}</h1>\n<p id=\"state\">state: <span class=\"{}\">{}</span> {}</p>\n",
        esc(name),
        state_class(state),
        esc(state),
        esc(text(doc, "reason"))
    );
    if let Some(error) = doc.get("last_error").and_then(Value::as_str) {
        let _ = writeln!(body, "<p>last error: <code>{}</code></p>", esc(error));
    }
    units_table(&mut body, doc);
    let _ = writeln!(body, "<h2>last rounds</h2>");
    let rounds = doc
        .get("recent_rounds")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    body.push_str(&chart::timeline(rounds, p.usage));
    let _ = writeln!(
        body,
        "<h2>events</h2>\n<ul id=\"events\" data-src=\"/p/{}/events\">",
        esc(name)
    );
    match p.events {
        Some(lines) => lines.iter().rev().for_each(|l| {
            let _ = writeln!(body, "<li><code>{}</code></li>", esc(l));
        }),
        None => body.push_str("<li class=\"warn\">the events could not be read</li>"),
    }
    body.push_str("</ul>\n");
    let log = doc.get("log").unwrap_or(&Value::Null);
    let _ = writeln!(
        body,
        "<h2>round log {}</h2>\n<pre id=\"log\">{}</pre>",
        esc(&log.get("round").map(Value::to_string).unwrap_or_default()),
        esc(&lines_of(log.get("tail")))
    );
    let _ = writeln!(
        body,
        "<h2>narrative</h2>\n<pre id=\"narrative\">{}</pre>",
        esc(&lines_of(doc.get("narrative")))
    );
    body.push_str("<h2>stop triggers</h2>\n<ul id=\"triggers\">");
    if p.triggers.is_empty() {
        body.push_str("<li class=\"muted\">none present</li>");
    }
    for (what, path) in p.triggers {
        let _ = write!(
            body,
            "<li>{}: <code>{}</code></li>",
            esc(what),
            esc(&path.display().to_string())
        );
    }
    body.push_str("</ul>\n");
    open_alerts(&mut body, doc);
    frame(&format!("{name} · agent-runner"), &body, true)
}

/// The open alerts of the project, once the snapshot carries them (`alerts`: objects with a
/// kind and evidence); nothing while it does not.
fn open_alerts(body: &mut String, doc: &Value) {
    let Some(alerts) = doc.get("alerts").and_then(Value::as_array) else {
        return;
    };
    body.push_str("<h2>open alerts</h2>\n<ul id=\"alerts\">");
    for a in alerts {
        let _ = write!(
            body,
            "<li class=\"bad\">{} {}</li>",
            esc(text(a, "kind")),
            esc(&a.get("evidence").map(Value::to_string).unwrap_or_default())
        );
    }
    body.push_str("</ul>\n");
}

/// The units and their health.
fn units_table(body: &mut String, doc: &Value) {
    body.push_str("<table id=\"units\"><tr><th>unit</th><th>state</th><th>result</th></tr>");
    if let Some(units) = doc.get("units").and_then(Value::as_object) {
        for (label, unit) in units {
            if unit.is_null() {
                continue;
            }
            let result = text(unit, "result");
            let class = if result.is_empty() || result == "success" {
                ""
            } else {
                "bad"
            };
            let _ = write!(
                body,
                "<tr><td title=\"{}\">{}</td><td>{}/{}</td><td class=\"{class}\">{}</td></tr>",
                esc(text(unit, "name")),
                esc(label),
                esc(text(unit, "active_state")),
                esc(text(unit, "sub_state")),
                esc(result)
            );
        }
    }
    body.push_str("</table>\n");
}

/// An array of lines as one text.
fn lines_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::snapshot::example;
    use serde_json::json;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'&";

    #[test]
    fn the_row_shows_today_s_spend_against_the_daily_budget() {
        let mut snap = example(LoopState::Throttled, None, Vec::new());
        assert_eq!(spend_today(&snap), "");
        snap.spend = Some(crate::observe::spend::SpendView {
            day_usd: 0.04,
            daily_usd: Some(0.05),
            ..Default::default()
        });
        assert_eq!(spend_today(&snap), "$0.04 / $0.05");
        let page = index(&[snap], &[]);
        assert!(page.contains("<td>$0.04 / $0.05</td>"), "{page}");
    }

    fn escaped(page: &str) {
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img"),
            "{page}"
        );
    }

    #[test]
    fn what_a_project_wrote_is_escaped_on_both_pages() {
        let mut snap = example(LoopState::Halted, Some(HOSTILE), Vec::new());
        snap.last_error = Some(HOSTILE.into());
        escaped(&index(&[snap], &[]));
        let doc = json!({
            "project": "p", "state": "halted", "reason": HOSTILE, "last_error": HOSTILE,
            "units": {"service": {"name": HOSTILE, "active_state": "inactive", "sub_state": "dead", "result": HOSTILE}},
            "recent_rounds": [{"round": 1, "outcome": HOSTILE, "duration_ms": 10, "ended_at": HOSTILE}],
            "log": {"round": 1, "tail": [HOSTILE]},
            "narrative": [HOSTILE],
        });
        let events = [HOSTILE.to_string()];
        let page = project(&ProjectPage {
            doc: &doc,
            usage: &[],
            events: Some(&events),
            triggers: &[("stop_file", PathBuf::from(HOSTILE))],
        });
        escaped(&page);
        // reason, last error, unit name and result, the round's outcome, the event, the log,
        // the narrative and the trigger's path: each there, each escaped.
        assert!(page.matches("&lt;script&gt;").count() >= 9, "{page}");
    }

    #[test]
    fn problems_come_first() {
        let snaps = [
            example(LoopState::Waiting, None, Vec::new()),
            example(LoopState::Failed, Some("exit-code"), Vec::new()),
        ];
        let page = index(&snaps, &[]);
        let failed = page.find("data-state=\"failed\"").unwrap();
        let waiting = page.find("data-state=\"waiting\"").unwrap();
        assert!(failed < waiting);
    }
}
