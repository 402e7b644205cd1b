//! Token usage and cost as the agent reports them, and the checks every reported number passes:
//! a count is a non-negative integer below 2^53, a cost finite, non-negative and below 1e6; anything
//! else is unknown. A failed request still prints a usage record of zeros (claude's, with model
//! `<synthetic>`), which is no usage at all.

use serde_json::Value;

use crate::events::payload::AgentUsageRecorded;

/// Names agents print where a model would be that are not a model.
const NOT_MODELS: [&str; 3] = ["<synthetic>", "auto", ""];

/// Token usage and cost from the agent's records. `None` fields were not reported (or reported as
/// nonsense).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Usage {
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Tokens read from the prompt cache.
    pub cache_read_tokens: Option<u64>,
    /// Tokens written to the prompt cache.
    pub cache_creation_tokens: Option<u64>,
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: Option<u64>,
    /// Total tokens, when the agent reports only that.
    pub total_tokens: Option<u64>,
    /// Cost in USD.
    pub cost_usd: Option<f64>,
    /// The agent's own duration.
    pub duration_ms: Option<u64>,
    /// Turns.
    pub num_turns: Option<u64>,
    /// Whether the agent reported an error.
    pub is_error: Option<bool>,
}

impl Usage {
    /// Whether it says anything was used: a token count or a cost above zero.
    pub(crate) fn shows_use(&self) -> bool {
        [
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_creation_tokens,
            self.reasoning_tokens,
            self.total_tokens,
        ]
        .into_iter()
        .flatten()
        .any(|n| n > 0)
            || self.cost_usd.is_some_and(|c| c > 0.0)
    }

    /// The `agent_usage_recorded` payload (only known fields).
    pub(crate) fn to_payload(&self, model: Option<&str>) -> AgentUsageRecorded {
        AgentUsageRecorded {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_tokens,
            cache_creation_tokens: self.cache_creation_tokens,
            reasoning_tokens: self.reasoning_tokens,
            total_tokens: self.total_tokens,
            cost_usd: self.cost_usd,
            agent_duration_ms: self.duration_ms,
            num_turns: self.num_turns,
            is_error: self.is_error,
            model: model.map(str::to_string),
        }
    }

    /// Adds aider's report of one message: `Tokens: 1.2k sent, 3.4k cache hit, 56 received.
    /// Cost: $0.0036 message, $0.0036 session.` Counts add up over the round; the session cost is
    /// already a running total. Returns false (and changes nothing) for a line of another shape.
    pub(crate) fn add_aider_line(&mut self, line: &str) -> bool {
        let Some(rest) = line.strip_prefix("Tokens: ") else {
            return false;
        };
        let (tokens, cost) = rest.split_once(". Cost: ").unwrap_or((rest, ""));
        let mut seen = Usage::default();
        for part in tokens.trim_end_matches('.').split(", ") {
            let Some((number, label)) = part.split_once(' ') else {
                return false;
            };
            let Some(n) = aider_count(number) else {
                return false;
            };
            let n = Some(n);
            match label {
                "sent" => seen.input_tokens = n,
                "received" => seen.output_tokens = n,
                "cache hit" => seen.cache_read_tokens = n,
                "cache write" => seen.cache_creation_tokens = n,
                _ => {}
            }
        }
        if seen.input_tokens.is_none() && seen.output_tokens.is_none() {
            return false;
        }
        let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.saturating_add(b).min(MAX_COUNT)),
            (a, b) => a.or(b),
        };
        self.input_tokens = add(self.input_tokens, seen.input_tokens);
        self.output_tokens = add(self.output_tokens, seen.output_tokens);
        self.cache_read_tokens = add(self.cache_read_tokens, seen.cache_read_tokens);
        self.cache_creation_tokens = add(self.cache_creation_tokens, seen.cache_creation_tokens);
        self.num_turns = add(self.num_turns, Some(1));
        if let Some(session) = cost
            .split(", ")
            .find_map(|p| p.trim_end_matches('.').strip_suffix(" session"))
            .and_then(|c| c.strip_prefix('$'))
            .and_then(|c| c.parse::<f64>().ok())
            .filter(|c| c.is_finite() && *c >= 0.0 && *c < MAX_COST)
        {
            self.cost_usd = Some(session);
        }
        true
    }
}

/// Counts at or above this are not believed (JSON numbers beyond it lose precision).
const MAX_COUNT: u64 = 1 << 53;
/// Costs at or above this are not believed.
const MAX_COST: f64 = 1e6;

/// A non-negative integer count; anything else is unknown.
pub(crate) fn count(v: &Value) -> Option<u64> {
    v.as_u64().filter(|n| *n < MAX_COUNT)
}

/// A cost in USD: finite, non-negative, below a sanity ceiling.
pub(crate) fn cost(v: &Value) -> Option<f64> {
    v.as_f64()
        .filter(|c| c.is_finite() && *c >= 0.0 && *c < MAX_COST)
}

/// A model name as reported, or `None` for a placeholder (`<synthetic>`, gemini's `auto`).
pub(crate) fn model_name(v: Option<&Value>) -> Option<String> {
    let name = v?.as_str()?.trim();
    (!NOT_MODELS.contains(&name)).then(|| super::failure::excerpt(name))
}

/// The model that did the work in a per-model usage map (`{MODEL: {…}}`): the one with the most
/// tokens (`weight` counts them), placeholders left out.
pub(crate) fn busiest_model(map: Option<&Value>, weight: impl Fn(&Value) -> u64) -> Option<String> {
    let (name, _) = map?
        .as_object()?
        .iter()
        .filter(|(name, _)| !NOT_MODELS.contains(&name.trim()))
        .map(|(name, stats)| (name, weight(stats)))
        .filter(|(_, w)| *w > 0)
        .max_by_key(|(_, w)| *w)?;
    model_name(Some(&Value::String(name.clone())))
}

/// Aider's abbreviated count: `56`, `1.2k`, `12k`, `1.5M`.
fn aider_count(text: &str) -> Option<u64> {
    let (digits, scale) = match text.as_bytes().last()? {
        b'k' => (&text[..text.len() - 1], 1_000),
        b'M' => (&text[..text.len() - 1], 1_000_000),
        _ => (text, 1),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || whole.len() > 9 || frac.len() > 3 {
        return None;
    }
    if !whole
        .bytes()
        .chain(frac.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac_value: u64 = format!("{frac:0<3}").parse().ok()?;
    let n = whole * scale + frac_value * scale / 1000;
    (n < MAX_COUNT).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aider_lines_add_up() {
        let mut u = Usage::default();
        assert!(u.add_aider_line(
            "Tokens: 1.2k sent, 56 received. Cost: $0.0036 message, $0.0036 session."
        ));
        assert!(u.add_aider_line(
            "Tokens: 12k sent, 1.1k cache write, 3.4k cache hit, 1.5M received. Cost: $0.12 message, $0.1236 session."
        ));
        assert_eq!(u.input_tokens, Some(13_200));
        assert_eq!(u.output_tokens, Some(1_500_056));
        assert_eq!(u.cache_creation_tokens, Some(1_100));
        assert_eq!(u.cache_read_tokens, Some(3_400));
        assert_eq!(u.cost_usd, Some(0.1236));
        assert_eq!(u.num_turns, Some(2));
        // Without a cost (a local model), and garbage.
        let mut v = Usage::default();
        assert!(v.add_aider_line("Tokens: 300 sent, 20 received."));
        assert_eq!(v.cost_usd, None);
        for bad in [
            "Tokens: lots sent, 5 received.",
            "Tokens: 1.2345k sent, 1 received.",
            "Tokens: 99999999999M sent, 1 received.",
            "Tokens: -5 sent, 1 received.",
            "Tokens:",
            "Tokens: 5 apples",
        ] {
            assert!(!v.add_aider_line(bad), "{bad}");
        }
        assert_eq!(v.input_tokens, Some(300));
        let mut w = Usage::default();
        w.add_aider_line("Tokens: 5 sent, 1 received. Cost: $NaN message, $inf session.");
        assert_eq!(w.cost_usd, None);
    }

    #[test]
    fn zeros_and_placeholders_are_nothing() {
        let zeros = Usage {
            input_tokens: Some(0),
            output_tokens: Some(0),
            cost_usd: Some(0.0),
            is_error: Some(true),
            ..Usage::default()
        };
        assert!(!zeros.shows_use());
        assert!(
            Usage {
                output_tokens: Some(1),
                ..Usage::default()
            }
            .shows_use()
        );
        for placeholder in ["<synthetic>", "auto", " "] {
            assert_eq!(model_name(Some(&Value::from(placeholder))), None);
        }
        let map = serde_json::json!({
            "<synthetic>": {"total_tokens": 900},
            "gemini-2.5-flash-lite": {"total_tokens": 40},
            "gemini-2.5-pro": {"total_tokens": 300},
            "broken": {"total_tokens": "many"},
        });
        let weight = |s: &Value| s.get("total_tokens").and_then(count).unwrap_or(0);
        assert_eq!(
            busiest_model(Some(&map), weight).as_deref(),
            Some("gemini-2.5-pro")
        );
        assert_eq!(busiest_model(Some(&serde_json::json!([1])), weight), None);
    }
}
