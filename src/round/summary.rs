//! `round_summary`: the one record a round ends with, for `status` and the page — how it went,
//! what it cost against the budgets, and why the loop continues, waits or stops. The work tree's
//! and the goal checks' fields stay absent until a round measures them.

use std::fmt::Write as _;

use super::after::Found;
use super::classify::Classified;
use super::ledger::Ledger;
use super::report::RoundEvents;
use super::state::{Action, State};
use super::supervise::Supervised;
use crate::config::Project;
use crate::events::payload::RoundSummary;

/// Emits the round's summary.
pub(crate) fn summarize(
    events: &RoundEvents<'_>,
    project: &Project,
    c: &Classified,
    s: &Supervised,
    st: &State,
    ledger: &Ledger,
    found: &Found,
) {
    let change = found.change.as_ref().filter(|_| !found.judged.first);
    let spend = st.last_spend.clone().unwrap_or_default();
    let budget = &project.budget;
    let reason = why(st);
    let mut message = format!(
        "round {} summary: {} in {:.1}s",
        st.round,
        c.outcome.as_str(),
        s.duration.as_secs_f64()
    );
    if spend.tokens > 0 {
        let _ = write!(message, ", {} tokens", spend.tokens);
    }
    if let Some(usd) = spend.cost_usd {
        let _ = write!(message, ", ${usd:.4}");
    }
    if let Some(c) = change {
        let commits = c.commits.unwrap_or(0);
        let _ = write!(
            message,
            ", {} file(s) changed, {commits} commit(s)",
            c.files_changed
        );
    }
    if let Some(goal) = &found.goal {
        let _ = write!(message, ", checks {}/{} passed", goal.passed, goal.total);
    }
    let _ = write!(message, "; today ${:.2}", ledger.day.usd);
    if let Some(limit) = budget.daily_usd {
        let _ = write!(message, " of ${limit:.2}");
    }
    let _ = write!(message, "; {reason}");
    events.emit(
        &message,
        RoundSummary {
            outcome: c.outcome.as_str().into(),
            duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
            tokens: spend.tokens,
            cost_usd: spend.cost_usd,
            cost_source: spend.cost_source,
            day_usd: ledger.day.usd,
            daily_usd: budget.daily_usd,
            month_usd: ledger.month.usd,
            monthly_usd: budget.monthly_usd,
            loop_usd_spent: ledger.this_loop.usd,
            loop_usd: budget.loop_usd,
            verdict: st.verdict.action.as_str().into(),
            reason,
            until: st.verdict.until,
            files_changed: change.map(|c| c.files_changed),
            insertions: change.map(|c| c.insertions),
            deletions: change.map(|c| c.deletions),
            commits: change.and_then(|c| c.commits),
            checks_passed: found.goal.as_ref().map(|g| g.passed as u64),
            checks_total: found.goal.as_ref().map(|g| g.total as u64),
        },
    );
}

/// Why the loop continues, waits or stops, in a few words.
pub(crate) fn why(st: &State) -> String {
    let reason = st.verdict.reason.as_deref();
    match st.verdict.action {
        Action::Continue => "the loop continues".into(),
        Action::BackOff => format!(
            "the loop waits until {} ({})",
            st.verdict
                .until
                .map(|u| crate::time::timestamp(crate::time::epoch_time(u)))
                .unwrap_or_default(),
            reason.unwrap_or("back-off")
        ),
        Action::Halt => format!("the loop halts ({})", reason.unwrap_or("halt")),
    }
}
