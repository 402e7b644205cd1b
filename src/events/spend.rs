//! The payloads of the spend events: budgets, cost spikes, the ledger, a shared account's
//! throttle and the one summary each round ends with. Kept apart from [`super::payload`] (which
//! declares [`super::Event`] over them too) because they form one subject.

use serde::{Deserialize, Serialize};

/// `budget_exhausted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BudgetExhausted {
    /// The budget: daily_usd, monthly_usd, daily_tokens, loop_usd or rounds_per_hour.
    pub budget: String,
    /// Whose: `project`, or `account:NAME` for a shared account's budget.
    pub owner: String,
    /// Spent in its window so far (USD, tokens or rounds, as the budget counts).
    pub spent: f64,
    /// The limit.
    pub limit: f64,
    /// The spend a next round would bring it to (the median of recent rounds added), when the
    /// projection, not the spend itself, crossed the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<f64>,
    /// When the window resets and the loop resumes (epoch seconds); absent for loop_usd, which
    /// halts the loop.
    pub resume_at: Option<u64>,
}

/// `budget_window_reset`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BudgetWindowReset {
    /// The budget that had parked the loop.
    pub budget: String,
    /// How long the loop was parked, in seconds.
    pub parked_s: u64,
}

/// `cost_spike`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct CostSpike {
    /// What the round cost (USD).
    pub cost_usd: f64,
    /// The median of the recent rounds before it (USD).
    pub median_usd: f64,
    /// How many recent rounds the median is of.
    pub rounds: usize,
    /// spike_factor.
    pub spike_factor: f64,
    /// alert or halt.
    pub action: String,
}

/// `ledger_rebuilt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LedgerRebuilt {
    /// What was wrong with the ledger.
    pub problem: String,
    /// Where the spend was recovered from: events_mirror or nothing.
    pub source: String,
    /// Rounds whose cost was found.
    pub rounds: u64,
    /// USD recovered for this month.
    pub month_usd: f64,
}

/// `account_throttled`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AccountThrottled {
    /// The shared provider account.
    pub account: String,
    /// The project whose round the provider rejected.
    pub seen_by: String,
    /// The rejection's class (rate_limit_account).
    pub classification: String,
    /// The provider's reset time (epoch seconds).
    pub reset_at: u64,
    /// When this project resumes: the reset plus its place in the stagger.
    pub resume_at: u64,
}

/// `round_summary`: one record per round, for `status` and the page. The fields about the work
/// tree and the goal checks stay absent until a round measures them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundSummary {
    /// How the round ended.
    pub outcome: String,
    /// Spawn to exit.
    pub duration_ms: u64,
    /// Tokens used.
    pub tokens: u64,
    /// What it cost (USD), when known.
    pub cost_usd: Option<f64>,
    /// agent or price_table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_source: Option<String>,
    /// Spent today (USD).
    pub day_usd: f64,
    /// daily_usd, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_usd: Option<f64>,
    /// Spent this month (USD).
    pub month_usd: f64,
    /// monthly_usd, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_usd: Option<f64>,
    /// Spent this loop (USD).
    pub loop_usd_spent: f64,
    /// loop_usd, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_usd: Option<f64>,
    /// continue, back_off or halt.
    pub verdict: String,
    /// Why the loop continues, waits or stops.
    pub reason: String,
    /// The end of a back-off (epoch seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    /// Files the round changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_changed: Option<u64>,
    /// Lines added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insertions: Option<u64>,
    /// Lines removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletions: Option<u64>,
    /// Commits made during the round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    /// Goal checks that passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks_passed: Option<u64>,
    /// Goal checks run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks_total: Option<u64>,
}
