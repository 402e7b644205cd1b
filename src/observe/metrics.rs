//! The projects as Prometheus metrics (text exposition format 0.0.4): what `status` shows as
//! numbers, plus outcome, duration and usage counts over each project's recent rounds. The web
//! service serves them on `/metrics`; the after-round step writes them for node-exporter's
//! textfile collector, so an existing Prometheus sees every project with no process of ours.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::loop_state::LoopState;
use super::snapshot::Snapshot;
use super::status::every_project;
use crate::config::Project;
use crate::error::Result;
use crate::events::Kind;
use crate::events::read::{self, Query, Record};
use crate::paths::Scope;
use crate::time::parse_iso_us;

/// How many of a project's newest rounds the outcome, duration and usage metrics count: a window,
/// so that the cost of a scrape does not grow with the history.
pub(crate) const RECENT_ROUNDS: usize = 200;

/// Every state a loop can be in, for the one-hot `agent_runner_state`.
const STATES: [LoopState; 9] = [
    LoopState::Running,
    LoopState::Waiting,
    LoopState::Throttled,
    LoopState::Halted,
    LoopState::Offline,
    LoopState::Failed,
    LoopState::StartLimitHit,
    LoopState::Stopped,
    LoopState::NotGenerated,
];

/// One project's rows: its snapshot and its newest `round_end` and `agent_usage_recorded` events.
pub(crate) struct ProjectRows<'a> {
    /// The snapshot `status` shows.
    pub snap: &'a Snapshot,
    /// The newest events, any order; `None` when they could not be read.
    pub events: Option<Vec<Record>>,
}

/// The metrics text of every project of `scope`, read as `status` reads them.
pub(crate) fn collect(scope: Scope) -> Result<String> {
    let (projects, broken) = every_project(scope)?;
    let events: Vec<Option<Vec<Record>>> = projects.iter().map(|(p, _)| recent(p)).collect();
    let rows: Vec<ProjectRows<'_>> = projects
        .iter()
        .zip(events)
        .map(|((_, snap), events)| ProjectRows { snap, events })
        .collect();
    Ok(render(&rows, broken.len()))
}

/// The newest round ends and usage records of `project`, in one read of its JSON mirror, as
/// `status` reads it: the journal would cost a journalctl per project on every scrape (measured:
/// 50 projects made /metrics 0.6 s slower than `/`). The journal answers when the mirror cannot
/// be read.
fn recent(project: &Project) -> Option<Vec<Record>> {
    let query = Query {
        kinds: vec![Kind::RoundEnd.into(), Kind::AgentUsageRecorded.into()],
        limit: Some(RECENT_ROUNDS * 3),
        ..Query::default()
    };
    read::read_mirror_only(project, &query)
        .or_else(|_| read::read(project, &query).map(|(events, _)| events))
        .ok()
}

/// A count or a size as a sample value. Counts of rounds, tokens and milliseconds stay far below
/// 2^52, where an f64 holds them exactly.
#[allow(clippy::cast_precision_loss)] // see above: the values are exact below 2^52
pub(crate) fn approx(n: u64) -> f64 {
    n as f64
}

/// One metric family: its name, type, help, and samples.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<Sample>,
}

/// One sample line of a family.
struct Sample {
    /// What follows the family's name: `_sum` or `_count` for a summary, else nothing. Kept
    /// apart from the labels, whose values the agent writes (outcomes, models, halt reasons),
    /// so that no character in them can change which metric a line is.
    suffix: &'static str,
    /// The label set, escaped ([`label_set`]).
    labels: String,
    value: f64,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind,
            help,
            samples: Vec::new(),
        }
    }

    /// A sample of this family.
    fn add(&mut self, labels: &[(&str, &str)], value: f64) {
        self.add_part("", labels, value);
    }

    /// A sample of this family named with `suffix` (`_sum`, `_count` of a summary).
    fn add_part(&mut self, suffix: &'static str, labels: &[(&str, &str)], value: f64) {
        self.samples.push(Sample {
            suffix,
            labels: label_set(labels),
            value,
        });
    }
}

/// `{a="x",b="y"}` with the values escaped as the format asks (backslash, quote, newline);
/// nothing for no labels.
fn label_set(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The text of all families.
pub(crate) fn render(rows: &[ProjectRows<'_>], broken: usize) -> String {
    let mut families = snapshot_families(rows);
    families.extend(round_families(rows));
    let mut config = Family::new(
        "agent_runner_config_errors",
        "gauge",
        "Project files that do not load.",
    );
    config.add(&[], approx(broken as u64));
    families.push(config);
    let mut out = String::new();
    for f in &families {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for s in &f.samples {
            let _ = writeln!(
                out,
                "{}{}{} {}",
                f.name,
                s.suffix,
                s.labels,
                number(s.value)
            );
        }
    }
    out
}

/// A sample value: integers without a fraction.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// What the snapshot holds: state, halt, back-off, round, last round.
fn snapshot_families(rows: &[ProjectRows<'_>]) -> Vec<Family> {
    let mut state = Family::new(
        "agent_runner_state",
        "gauge",
        "The loop's state (1 for the current one).",
    );
    let mut halted = Family::new(
        "agent_runner_halted",
        "gauge",
        "Whether the loop is halted, with the reason.",
    );
    let mut back_off = Family::new(
        "agent_runner_back_off_until_timestamp_seconds",
        "gauge",
        "End of the back-off in force (0: none).",
    );
    let mut round = Family::new("agent_runner_round", "gauge", "The last round started.");
    let mut last_end = Family::new(
        "agent_runner_last_round_end_timestamp_seconds",
        "gauge",
        "When the last round ended.",
    );
    let mut last_duration = Family::new(
        "agent_runner_last_round_duration_seconds",
        "gauge",
        "How long the last round took.",
    );
    let mut partial = Family::new(
        "agent_runner_partial_view",
        "gauge",
        "1 when a source of the project could not be read.",
    );
    for row in rows {
        let s = row.snap;
        let p = s.project.as_str();
        for st in STATES {
            let on = f64::from(u8::from(st == s.state));
            state.add(&[("project", p), ("state", st.as_str())], on);
        }
        let reason = s.reason.as_deref().unwrap_or("");
        let is_halted = matches!(s.state, LoopState::Halted | LoopState::Offline);
        halted.add(
            &[
                ("project", p),
                ("reason", if is_halted { reason } else { "" }),
            ],
            f64::from(u8::from(is_halted)),
        );
        let until = s.throttle_until.as_deref().and_then(parse_iso_us);
        back_off.add(&[("project", p)], until.map_or(0.0, |us| approx(us) / 1e6));
        round.add(&[("project", p)], approx(s.round.unwrap_or(0)));
        if let Some(o) = &s.last_outcome {
            if let Some(us) = o.ended_at.as_deref().and_then(parse_iso_us) {
                last_end.add(&[("project", p)], approx(us) / 1e6);
            }
            if let Some(ms) = o.duration_ms {
                last_duration.add(&[("project", p)], approx(ms) / 1e3);
            }
        }
        partial.add(
            &[("project", p)],
            f64::from(u8::from(!s.unreadable.is_empty())),
        );
    }
    vec![
        state,
        halted,
        back_off,
        round,
        last_end,
        last_duration,
        partial,
    ]
}

/// The counts over the recent rounds: outcomes, durations, tokens and cost by model.
fn round_families(rows: &[ProjectRows<'_>]) -> Vec<Family> {
    let mut outcomes = Family::new(
        "agent_runner_recent_rounds",
        "gauge",
        "Rounds among the project's newest 200, by outcome and classification.",
    );
    let mut duration = Family::new(
        "agent_runner_recent_round_duration_seconds",
        "summary",
        "Duration of the project's newest 200 rounds.",
    );
    let mut tokens = Family::new(
        "agent_runner_recent_tokens",
        "gauge",
        "Tokens the agent reported over the project's newest 200 rounds, by model and type.",
    );
    let mut cost = Family::new(
        "agent_runner_recent_cost_usd",
        "gauge",
        "Cost in USD the agent reported over the project's newest 200 rounds, by model.",
    );
    for row in rows {
        let Some(events) = &row.events else { continue };
        let p = row.snap.project.as_str();
        let window = Window::of(events);
        for ((outcome, class), n) in &window.outcomes {
            let labels = [
                ("project", p),
                ("outcome", outcome),
                ("classification", class),
            ];
            outcomes.add(&labels, approx(*n));
        }
        // A summary without quantiles: its samples are `_sum` and `_count`.
        duration.add_part("_sum", &[("project", p)], window.duration_s);
        duration.add_part("_count", &[("project", p)], approx(window.rounds));
        for ((model, kind), n) in &window.tokens {
            tokens.add(&[("project", p), ("model", model), ("type", kind)], *n);
        }
        for (model, usd) in &window.cost {
            cost.add(&[("project", p), ("model", model)], *usd);
        }
    }
    vec![outcomes, duration, tokens, cost]
}

/// The sums over one project's recent rounds.
#[derive(Default)]
struct Window {
    rounds: u64,
    duration_s: f64,
    outcomes: BTreeMap<(String, String), u64>,
    tokens: BTreeMap<(String, &'static str), f64>,
    cost: BTreeMap<String, f64>,
}

/// The token fields of `agent_usage_recorded` and their `type` label.
const TOKEN_FIELDS: [(&str, &str); 5] = [
    ("input_tokens", "input"),
    ("output_tokens", "output"),
    ("cache_read_tokens", "cache_read"),
    ("cache_creation_tokens", "cache_creation"),
    ("total_tokens", "total"),
];

impl Window {
    /// Sums the newest [`RECENT_ROUNDS`] round ends and the usage of those rounds.
    fn of(events: &[Record]) -> Self {
        let mut w = Self::default();
        let mut ends: Vec<&Record> = events
            .iter()
            .filter(|e| e.kind() == Some(Kind::RoundEnd))
            .collect();
        ends.sort_by_key(|e| std::cmp::Reverse(e.round()));
        ends.truncate(RECENT_ROUNDS);
        let oldest = ends.last().and_then(|e| e.round()).unwrap_or(0);
        for e in &ends {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            *w.outcomes
                .entry((text("outcome"), text("classification")))
                .or_default() += 1;
            w.rounds += 1;
            let ms = e.get("duration_ms").and_then(Value::as_u64).unwrap_or(0);
            w.duration_s += approx(ms) / 1e3;
        }
        let usage = events
            .iter()
            .filter(|e| e.kind() == Some(Kind::AgentUsageRecorded))
            .filter(|e| e.round().is_some_and(|r| r >= oldest));
        for e in usage {
            let model = e.get("model").and_then(Value::as_str).unwrap_or("unknown");
            for (field, kind) in TOKEN_FIELDS {
                if let Some(n) = e.get(field).and_then(Value::as_u64) {
                    *w.tokens.entry((model.to_string(), kind)).or_default() += approx(n);
                }
            }
            if let Some(usd) = e.get("cost_usd").and_then(Value::as_f64) {
                *w.cost.entry(model.to_string()).or_default() += usd;
            }
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::snapshot::example;
    use serde_json::json;

    fn record(v: &Value) -> Record {
        Record::from_fields(v.as_object().cloned().unwrap())
    }

    #[test]
    fn metrics_count_outcomes_usage_and_escape_labels() {
        let mut snap = example(LoopState::Halted, Some("stop_file"), Vec::new());
        snap.project = "we\"ird\\name\nx".into();
        let events = vec![
            record(
                &json!({"event": "round_end", "round": 1, "outcome": "ok", "duration_ms": 1500}),
            ),
            record(
                &json!({"event": "round_end", "round": 2, "outcome": "transient",
                "classification": "rate_limit", "duration_ms": 500}),
            ),
            record(
                &json!({"event": "agent_usage_recorded", "round": 2, "model": "m1",
                "input_tokens": 10, "cost_usd": 0.25}),
            ),
        ];
        let rows = [ProjectRows {
            snap: &snap,
            events: Some(events),
        }];
        let text = render(&rows, 1);
        let p = r#"project="we\"ird\\name\nx""#;
        for line in [
            format!("agent_runner_state{{{p},state=\"halted\"}} 1"),
            format!("agent_runner_state{{{p},state=\"running\"}} 0"),
            format!("agent_runner_halted{{{p},reason=\"stop_file\"}} 1"),
            format!(
                "agent_runner_recent_rounds{{{p},outcome=\"transient\",classification=\"rate_limit\"}} 1"
            ),
            format!("agent_runner_recent_round_duration_seconds_sum{{{p}}} 2"),
            format!("agent_runner_recent_round_duration_seconds_count{{{p}}} 2"),
            format!("agent_runner_recent_tokens{{{p},model=\"m1\",type=\"input\"}} 10"),
            format!("agent_runner_recent_cost_usd{{{p},model=\"m1\"}} 0.25"),
            "agent_runner_config_errors 1".to_string(),
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line} in\n{text}");
        }
    }

    #[test]
    fn a_bar_in_an_agent_written_value_stays_inside_its_label() {
        let hostile = "crash|_x\"y\\z\nw";
        let escaped = r#"crash|_x\"y\\z\nw"#;
        let mut snap = example(LoopState::Halted, Some(hostile), Vec::new());
        snap.project = "p|q".into();
        let events = vec![
            record(
                &json!({"event": "round_end", "round": 1, "outcome": hostile,
                "classification": "|", "duration_ms": 2000}),
            ),
            record(
                &json!({"event": "agent_usage_recorded", "round": 1, "model": hostile,
                "output_tokens": 3}),
            ),
        ];
        let rows = [ProjectRows {
            snap: &snap,
            events: Some(events),
        }];
        let text = render(&rows, 0);
        let p = r#"project="p|q""#;
        for line in [
            format!("agent_runner_halted{{{p},reason=\"{escaped}\"}} 1"),
            format!(
                "agent_runner_recent_rounds{{{p},outcome=\"{escaped}\",classification=\"|\"}} 1"
            ),
            format!("agent_runner_recent_tokens{{{p},model=\"{escaped}\",type=\"output\"}} 3"),
            format!("agent_runner_recent_round_duration_seconds_sum{{{p}}} 2"),
            format!("agent_runner_recent_round_duration_seconds_count{{{p}}} 1"),
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line} in\n{text}");
        }
        // Every sample line is one of the families declared above it, named by its `# TYPE`.
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                families.push(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = &line[..line.find(['{', ' ']).unwrap()];
                let family = families.last().unwrap();
                assert!(
                    name == family
                        || name == format!("{family}_sum")
                        || name == format!("{family}_count"),
                    "{line}"
                );
            }
        }
    }
}
