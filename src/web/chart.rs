//! The timeline of a project's last rounds as inline SVG, drawn by the server: one bar per round,
//! its height the round's duration, its colour the outcome; tokens as a thin bar below when the
//! agent reported them. Each bar's tooltip says the numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::escape::esc;
use crate::events::read::Record;
use crate::observe::metrics::approx;

const WIDTH: f64 = 800.0;
const BARS_HEIGHT: f64 = 120.0;
const TOKENS_HEIGHT: f64 = 30.0;

/// The colour of an outcome.
fn colour(outcome: &str) -> &'static str {
    match outcome {
        "ok" => "#2e7d32",
        "transient" => "#ef6c00",
        "timeout" => "#6a1b9a",
        "stopped" | "grace_kill" => "#757575",
        _ => "#c62828",
    }
}

/// Tokens and cost the agent reported for one round.
#[derive(Default)]
struct Usage {
    tokens: u64,
    cost_usd: f64,
}

/// The usage events summed per round.
fn usage_by_round(usage: &[Record]) -> BTreeMap<u64, Usage> {
    let mut by_round: BTreeMap<u64, Usage> = BTreeMap::new();
    for e in usage {
        let Some(round) = e.round() else { continue };
        let u = by_round.entry(round).or_default();
        let n = |k: &str| e.get(k).and_then(Value::as_u64).unwrap_or(0);
        u.tokens += match e.get("total_tokens").and_then(Value::as_u64) {
            Some(total) => total,
            None => n("input_tokens") + n("output_tokens"),
        };
        u.cost_usd += e.get("cost_usd").and_then(Value::as_f64).unwrap_or(0.0);
    }
    by_round
}

/// The SVG of `rounds` (peek's `recent_rounds`, oldest first) with the usage of those rounds.
pub(crate) fn timeline(rounds: &[Value], usage: &[Record]) -> String {
    if rounds.is_empty() {
        return "<p class=\"muted\" id=\"timeline\">no round has ended yet</p>\n".into();
    }
    let usage = usage_by_round(usage);
    let duration = |r: &Value| r.get("duration_ms").and_then(Value::as_u64).unwrap_or(0);
    let longest = approx(rounds.iter().map(duration).max().unwrap_or(0).max(1));
    let most_tokens = approx(usage.values().map(|u| u.tokens).max().unwrap_or(0).max(1));
    let step = WIDTH / approx(rounds.len() as u64);
    let height = BARS_HEIGHT + TOKENS_HEIGHT + 4.0;
    let mut svg = format!(
        "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"durations and outcomes of the last {} rounds\">",
        rounds.len()
    );
    for (i, r) in rounds.iter().enumerate() {
        let outcome = r.get("outcome").and_then(Value::as_str).unwrap_or("?");
        let round = r.get("round").and_then(Value::as_u64);
        let ms = duration(r);
        let h = (approx(ms) / longest * BARS_HEIGHT).max(1.0);
        let x = approx(i as u64) * step;
        let w = (step - 1.0).max(1.0);
        let used = round.and_then(|n| usage.get(&n));
        let mut title = format!(
            "round {}: {outcome}, {:.1} s",
            round.map_or_else(|| "?".into(), |n| n.to_string()),
            approx(ms) / 1000.0
        );
        if let Some(u) = used {
            let _ = write!(title, ", {} tokens, ${:.4}", u.tokens, u.cost_usd);
        }
        let _ = write!(
            svg,
            "<rect class=\"round\" data-outcome=\"{o}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{c}\"><title>{t}</title></rect>",
            o = esc(outcome),
            y = BARS_HEIGHT - h,
            c = colour(outcome),
            t = esc(&title)
        );
        if let Some(u) = used.filter(|u| u.tokens > 0) {
            let th = (approx(u.tokens) / most_tokens * TOKENS_HEIGHT).max(1.0);
            let _ = write!(
                svg,
                "<rect class=\"tokens\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{th:.1}\" fill=\"#1565c0\"/>",
                BARS_HEIGHT + 4.0 + TOKENS_HEIGHT - th
            );
        }
    }
    svg.push_str("</svg>\n<p class=\"muted\">bar height: duration (longest ");
    let _ = writeln!(
        svg,
        "{:.1} s); colour: outcome (green ok, orange transient, purple timeout, grey stopped, red failure); blue: tokens</p>",
        longest / 1000.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bars_follow_duration_and_outcome() {
        let rounds = [
            json!({"round": 1, "outcome": "ok", "duration_ms": 1000}),
            json!({"round": 2, "outcome": "crash", "duration_ms": 500}),
        ];
        let usage = [Record::from_fields(
            json!({"event": "agent_usage_recorded", "round": 1, "input_tokens": 7, "output_tokens": 3, "cost_usd": 0.5})
                .as_object()
                .cloned()
                .unwrap(),
        )];
        let svg = timeline(&rounds, &usage);
        assert!(svg.contains("height=\"120.0\" fill=\"#2e7d32\""), "{svg}");
        assert!(svg.contains("height=\"60.0\" fill=\"#c62828\""), "{svg}");
        assert!(
            svg.contains("round 1: ok, 1.0 s, 10 tokens, $0.5000"),
            "{svg}"
        );
        assert_eq!(svg.matches("class=\"tokens\"").count(), 1);
    }
}
