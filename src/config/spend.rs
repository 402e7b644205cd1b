//! What a project may spend (`[budget]`), what its models cost (`[pricing]`), and the provider
//! account its agents share with other projects (`[agent] account`). Not to be confused with
//! [`super::account`], which is about the unix user rounds run as.

use std::collections::BTreeMap;

use serde::Serialize;

/// `[budget]`: limits on spend that park the loop until their window resets (or halt it, for
/// `loop_usd`), and the cost-spike alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Budget {
    /// USD per calendar day (in `timezone`).
    pub daily_usd: Option<f64>,
    /// USD per calendar month (in `timezone`).
    pub monthly_usd: Option<f64>,
    /// Tokens per calendar day.
    pub daily_tokens: Option<u64>,
    /// USD per loop: halts the loop instead of parking it.
    pub loop_usd: Option<f64>,
    /// Rounds started per clock hour.
    pub rounds_per_hour: Option<u64>,
    /// The IANA zone the day and month windows follow (`None`: the host's).
    pub timezone: Option<String>,
    /// How far (percent of a limit) the projected spend of the next round may cross it.
    pub overshoot_pct: f64,
    /// A round costing more than this many times the median of the recent ones is a spike.
    pub spike_factor: f64,
    /// What a spike does.
    pub spike_action: SpikeAction,
}

/// Default `overshoot_pct`.
pub(crate) const DEFAULT_OVERSHOOT_PCT: f64 = 10.0;
/// Default `spike_factor`.
pub(crate) const DEFAULT_SPIKE_FACTOR: f64 = 5.0;

impl Default for Budget {
    fn default() -> Self {
        Self {
            daily_usd: None,
            monthly_usd: None,
            daily_tokens: None,
            loop_usd: None,
            rounds_per_hour: None,
            timezone: None,
            overshoot_pct: DEFAULT_OVERSHOOT_PCT,
            spike_factor: DEFAULT_SPIKE_FACTOR,
            spike_action: SpikeAction::Alert,
        }
    }
}

impl Budget {
    /// Whether any limit is set (the round's gate reads the ledger only then).
    pub(crate) fn limits_anything(&self) -> bool {
        self.daily_usd.is_some()
            || self.monthly_usd.is_some()
            || self.daily_tokens.is_some()
            || self.loop_usd.is_some()
            || self.rounds_per_hour.is_some()
    }
}

/// `spike_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SpikeAction {
    /// Emit `cost_spike` and carry on.
    Alert,
    /// Emit `cost_spike` and halt the loop.
    Halt,
}

/// One `[pricing.MODEL]`: USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Price {
    /// Input tokens (not read from the cache).
    pub input: f64,
    /// Output tokens (reasoning included).
    pub output: f64,
    /// Tokens read from the prompt cache (`None`: the input price).
    pub cache_read: Option<f64>,
    /// Tokens written to the prompt cache (`None`: the input price).
    pub cache_write: Option<f64>,
}

/// `[pricing]`: model name → price; `default` applies to a model the table does not name.
pub(crate) type Pricing = BTreeMap<String, Price>;
