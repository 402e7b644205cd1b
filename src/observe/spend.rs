//! Spend against the budgets, for `status`: the ledger's current windows (an elapsed one counts as
//! nothing spent), the limits of `[budget]`, the last round's cost and the budget that parks the
//! loop. Read like the state file: no link followed, bounded; a ledger that cannot be read is
//! named, not fatal.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::config::Project;
use crate::round::ledger::{BudgetPark, Ledger, Tally};

/// What `status` shows of a project's spend.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct SpendView {
    /// USD spent today.
    pub day_usd: f64,
    /// daily_usd.
    pub daily_usd: Option<f64>,
    /// USD spent this month.
    pub month_usd: f64,
    /// monthly_usd.
    pub monthly_usd: Option<f64>,
    /// USD spent this loop.
    pub loop_usd_spent: f64,
    /// loop_usd.
    pub loop_usd: Option<f64>,
    /// Tokens used today.
    pub day_tokens: u64,
    /// daily_tokens.
    pub daily_tokens: Option<u64>,
    /// Rounds this clock hour.
    pub hour_rounds: u64,
    /// rounds_per_hour.
    pub rounds_per_hour: Option<u64>,
    /// What the last round cost (USD), when known.
    pub last_round_usd: Option<f64>,
    /// The budget that parks the loop, and until when.
    pub budget_park: Option<BudgetPark>,
    /// The shared provider account.
    pub account: Option<String>,
    /// Why the ledger could not be read, when it could not.
    pub ledger_problem: Option<String>,
}

/// The spend of `project` at `now` (epoch seconds) from its ledger in `state_dir` and its state
/// file `state` (as on disk); `None` when there is nothing to show (no ledger yet, no budget).
pub(crate) fn spend(
    project: &Project,
    state_dir: &std::path::Path,
    state: Option<&Value>,
    now: u64,
) -> Option<SpendView> {
    let (ledger, problem) = match Ledger::load(state_dir) {
        Ok(l) => (l, None),
        Err(e) => (None, Some(e.to_string())),
    };
    if ledger.is_none() && problem.is_none() && !project.budget.limits_anything() {
        return None;
    }
    let ledger = ledger.unwrap_or_default();
    let current = |t: Tally| if t.holds(now) { t } else { Tally::default() };
    let b = &project.budget;
    let field = |key: &str| state.and_then(|s| s.get(key)).cloned();
    Some(SpendView {
        day_usd: current(ledger.day).usd,
        daily_usd: b.daily_usd,
        month_usd: current(ledger.month).usd,
        monthly_usd: b.monthly_usd,
        loop_usd_spent: ledger.this_loop.usd,
        loop_usd: b.loop_usd,
        day_tokens: current(ledger.day).tokens,
        daily_tokens: b.daily_tokens,
        hour_rounds: current(ledger.hour).rounds,
        rounds_per_hour: b.rounds_per_hour,
        last_round_usd: field("last_spend").and_then(|s| s.get("cost_usd").and_then(Value::as_f64)),
        budget_park: field("budget_park")
            .and_then(|p| serde_json::from_value::<BudgetPark>(p).ok())
            .filter(|p| p.until > now),
        account: project.agent.account.clone(),
        ledger_problem: problem,
    })
}

/// The spend in one line: `today $0.04 of $0.05, this month $1.20, this loop $0.04, last round
/// $0.02`.
pub(crate) fn line(s: &SpendView) -> String {
    let of = |limit: Option<f64>| limit.map(|l| format!(" of ${l:.2}")).unwrap_or_default();
    let mut text = format!(
        "today ${:.2}{}, this month ${:.2}{}, this loop ${:.2}{}",
        s.day_usd,
        of(s.daily_usd),
        s.month_usd,
        of(s.monthly_usd),
        s.loop_usd_spent,
        of(s.loop_usd)
    );
    if let Some(limit) = s.daily_tokens {
        let _ = write!(text, ", {} of {limit} tokens today", s.day_tokens);
    }
    if let Some(limit) = s.rounds_per_hour {
        let _ = write!(text, ", {} of {limit} rounds this hour", s.hour_rounds);
    }
    if let Some(usd) = s.last_round_usd {
        let _ = write!(text, ", last round ${usd:.4}");
    }
    if let Some(a) = &s.account {
        let _ = write!(text, " (account {a})");
    }
    text
}
