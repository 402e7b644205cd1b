//! What a round cost: the CLI's own figure where it prints one (claude's `total_cost_usd`,
//! aider's `Cost:`), else the tokens at the model's price: `[pricing]` of the project, else the
//! shipped table below, else `[pricing.default]`. A round whose model has no price has tokens but
//! no cost.

use serde::{Deserialize, Serialize};

use super::usage::Usage;
use crate::config::OutputFormat;
use crate::config::spend::{Price, Pricing};

/// List prices in USD per million tokens (input, output, cache read, cache write) as the vendors
/// published them in 2025-11. They age: an operator sets `[pricing.MODEL]` to override one, and a
/// model is matched by the longest name here that starts it (`claude-sonnet-4-5-20250929` is
/// `claude-sonnet-4-5`).
const SHIPPED_PRICES: &[(&str, [f64; 4])] = &[
    ("claude-opus-4", [15.0, 75.0, 1.5, 18.75]),
    ("claude-opus-4-5", [5.0, 25.0, 0.5, 6.25]),
    ("claude-sonnet-4", [3.0, 15.0, 0.3, 3.75]),
    ("claude-haiku-4-5", [1.0, 5.0, 0.1, 1.25]),
    ("claude-3-5-haiku", [0.8, 4.0, 0.08, 1.0]),
    ("gpt-5", [1.25, 10.0, 0.125, 1.25]),
    ("gpt-5-mini", [0.25, 2.0, 0.025, 0.25]),
    ("gpt-5-nano", [0.05, 0.4, 0.005, 0.05]),
    ("gpt-4.1", [2.0, 8.0, 0.5, 2.0]),
    ("o4-mini", [1.1, 4.4, 0.275, 1.1]),
    ("gemini-2.5-pro", [1.25, 10.0, 0.31, 1.25]),
    ("gemini-2.5-flash", [0.3, 2.5, 0.075, 0.3]),
    ("gemini-2.5-flash-lite", [0.1, 0.4, 0.025, 0.1]),
];

/// The `[pricing]` key that prices every model no other entry names.
const DEFAULT_MODEL: &str = "default";

/// Where a round's cost came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CostSource {
    /// The agent CLI printed it.
    Agent,
    /// Tokens at the price of `[pricing]` or the shipped table.
    PriceTable,
}

impl CostSource {
    /// The name in events.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CostSource::Agent => "agent",
            CostSource::PriceTable => "price_table",
        }
    }
}

/// A round's spend.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Cost {
    /// USD, when known.
    pub usd: Option<f64>,
    /// Where `usd` came from.
    pub source: Option<CostSource>,
    /// Tokens the round used (input, output and the cache's).
    pub tokens: u64,
}

/// The cost of `usage` by `model`, with `format` saying how the CLI counts its tokens.
pub(crate) fn of(
    usage: Option<&Usage>,
    model: Option<&str>,
    format: OutputFormat,
    pricing: &Pricing,
) -> Cost {
    let Some(u) = usage.filter(|u| u.shows_use()) else {
        return Cost::default();
    };
    let tokens = tokens(u, format);
    if let Some(usd) = u.cost_usd {
        return Cost {
            usd: Some(usd),
            source: Some(CostSource::Agent),
            tokens,
        };
    }
    let usd = price_of(model, pricing).and_then(|p| priced(u, format, &p));
    Cost {
        usd,
        source: usd.map(|_| CostSource::PriceTable),
        tokens,
    }
}

/// Whether the CLI's input count includes the tokens read from the cache (OpenAI's and Google's
/// APIs count them in; Anthropic's counts them apart).
fn input_includes_cache(format: OutputFormat) -> bool {
    matches!(
        format,
        OutputFormat::CodexJson | OutputFormat::GeminiStreamJson
    )
}

/// Every token the round used: the agent's total when it gives one, else the sum.
fn tokens(u: &Usage, format: OutputFormat) -> u64 {
    if let Some(total) = u.total_tokens {
        return total;
    }
    let cache = if input_includes_cache(format) {
        0
    } else {
        u.cache_read_tokens.unwrap_or(0) + u.cache_creation_tokens.unwrap_or(0)
    };
    u.input_tokens.unwrap_or(0) + u.output_tokens.unwrap_or(0) + cache
}

/// The price of `model`: the project's entry, else the shipped one, by the longest prefix; else
/// the project's `default`.
fn price_of(model: Option<&str>, pricing: &Pricing) -> Option<Price> {
    let configured = pricing.iter().map(|(name, price)| (name.as_str(), *price));
    let shipped = SHIPPED_PRICES.iter().map(|(name, p)| {
        (
            *name,
            Price {
                input: p[0],
                output: p[1],
                cache_read: Some(p[2]),
                cache_write: Some(p[3]),
            },
        )
    });
    let longest = |table: &mut dyn Iterator<Item = (&str, Price)>, model: &str| {
        table
            .filter(|(name, _)| model.starts_with(name))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| p)
    };
    model
        .and_then(|m| {
            longest(
                &mut configured.clone().filter(|(n, _)| *n != DEFAULT_MODEL),
                m,
            )
            .or_else(|| longest(&mut shipped.clone(), m))
        })
        .or_else(|| pricing.get(DEFAULT_MODEL).copied())
}

/// The tokens of `u` at `price`; `None` when it gives no input or output count.
fn priced(u: &Usage, format: OutputFormat, price: &Price) -> Option<f64> {
    if u.input_tokens.is_none() && u.output_tokens.is_none() {
        return None;
    }
    #[allow(clippy::cast_precision_loss, reason = "token counts are below 2^53")]
    let m = |n: Option<u64>| n.unwrap_or(0) as f64 / 1e6;
    let cache_read = m(u.cache_read_tokens);
    let input = if input_includes_cache(format) {
        (m(u.input_tokens) - cache_read).max(0.0)
    } else {
        m(u.input_tokens)
    };
    let usd = input * price.input
        + m(u.output_tokens) * price.output
        + cache_read * price.cache_read.unwrap_or(price.input)
        + m(u.cache_creation_tokens) * price.cache_write.unwrap_or(price.input);
    Some(usd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cache_read: u64) -> Usage {
        Usage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_read_tokens: Some(cache_read),
            ..Usage::default()
        }
    }

    #[test]
    fn the_agents_own_cost_wins() {
        let mut u = usage(1000, 100, 0);
        u.cost_usd = Some(0.25);
        let c = of(
            Some(&u),
            Some("claude-sonnet-4-5"),
            OutputFormat::ClaudeStreamJson,
            &Pricing::new(),
        );
        assert_eq!(c.usd, Some(0.25));
        assert_eq!(c.source, Some(CostSource::Agent));
        assert_eq!(c.tokens, 1100);
        // Zeros (a failed request) are no spend at all.
        assert_eq!(
            of(
                Some(&usage(0, 0, 0)),
                None,
                OutputFormat::Text,
                &Pricing::new()
            ),
            Cost::default()
        );
    }

    #[test]
    fn tokens_are_priced_by_the_longest_matching_name() {
        // codex counts cached tokens inside its input: 1M in of which 0.5M cached, 0.1M out.
        let u = usage(1_000_000, 100_000, 500_000);
        let c = of(
            Some(&u),
            Some("gpt-5-codex"),
            OutputFormat::CodexJson,
            &Pricing::new(),
        );
        let expected = 0.5 * 1.25 + 0.1 * 10.0 + 0.5 * 0.125;
        assert!((c.usd.unwrap() - expected).abs() < 1e-9, "{c:?}");
        assert_eq!(c.tokens, 1_100_000);
        // gpt-5-mini is its own entry, not gpt-5's.
        let mini = of(
            Some(&u),
            Some("gpt-5-mini"),
            OutputFormat::CodexJson,
            &Pricing::new(),
        );
        assert!(mini.usd.unwrap() < c.usd.unwrap());
        // The project's table overrides the shipped one; `default` prices the unknown.
        let mut pricing = Pricing::new();
        let flat = Price {
            input: 1.0,
            output: 1.0,
            cache_read: None,
            cache_write: None,
        };
        pricing.insert("gpt-5".into(), flat);
        let over = of(
            Some(&u),
            Some("gpt-5-codex"),
            OutputFormat::CodexJson,
            &pricing,
        );
        assert!((over.usd.unwrap() - 1.1).abs() < 1e-9, "{over:?}");
        assert_eq!(
            of(Some(&u), Some("mystery"), OutputFormat::CodexJson, &pricing).usd,
            None
        );
        assert_eq!(
            of(Some(&u), None, OutputFormat::CodexJson, &Pricing::new()).usd,
            None
        );
        pricing.insert("default".into(), flat);
        assert!(
            of(Some(&u), None, OutputFormat::CodexJson, &pricing)
                .usd
                .is_some()
        );
    }
}
