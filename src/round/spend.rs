//! What a round spends and what the budgets make of it: the round's cost into the ledger and the
//! state, the cost-spike alert, and a budget that parks the loop until its window resets (or, for
//! `loop_usd`, halts it). The gate before a round reads the ledger (one small file) only when the
//! project has a budget, and never starts a round whose projected spend would cross a limit.

use std::io::Write as _;
use std::path::Path;

use sd_notify::NotifyState;

use super::cost::{self, Cost};
use super::findings::Findings;
use super::ledger::{BudgetPark, Ledger, RECENT_ROUNDS, RoundSpend, Spent};
use super::notify::notify;
use super::report::RoundEvents;
use super::state::{Action, HaltReason, State, Verdict};
use crate::config::Project;
use crate::config::spend::{Budget, SpikeAction};
use crate::error::exit;
use crate::events::Emitter;
use crate::events::payload::{BudgetExhausted, BudgetWindowReset, CostSpike, LedgerRebuilt};
use crate::events::read::{Query, Record, read_mirror_only};
use crate::events::{Kind, KindName};
use crate::time::zone::Zone;

/// A spike needs this many recent rounds to compare with.
const SPIKE_MIN_ROUNDS: usize = 3;
/// How many of the mirror's newest events a rebuild of the ledger looks at.
const REBUILD_SCAN: usize = 20_000;

/// The budgets that park (`loop_usd` halts instead).
pub(crate) const BUDGET_NAMES: [&str; 4] = [
    "monthly_usd",
    "daily_usd",
    "daily_tokens",
    "rounds_per_hour",
];

/// A budget the next round must not cross.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exhausted {
    /// Which budget.
    pub budget: &'static str,
    /// USD, tokens or rounds spent in its window.
    pub spent: f64,
    /// Its limit.
    pub limit: f64,
    /// The projected spend, when the projection crossed the limit.
    pub projected: Option<f64>,
    /// When its window resets; `None` for loop_usd (it halts).
    pub resume_at: Option<u64>,
}

/// The budget of `budget` that stops the next round, given `ledger` as of `now` (tallies of
/// elapsed windows count as empty): a halting one first, else the one that resumes last.
pub(crate) fn exhausted(budget: &Budget, ledger: &Ledger, now: u64) -> Option<Exhausted> {
    let slack = 1.0 + budget.overshoot_pct / 100.0;
    let median = ledger.median_usd();
    let tokens_median = ledger.median_tokens();
    let current = |t: &super::ledger::Tally| t.holds(now);
    #[allow(clippy::cast_precision_loss, reason = "counts are below 2^53")]
    let candidates = [
        (
            "loop_usd",
            budget.loop_usd,
            ledger.this_loop.usd,
            median,
            None,
        ),
        (
            "monthly_usd",
            budget.monthly_usd,
            ledger.month.usd,
            median,
            Some(ledger.month),
        ),
        (
            "daily_usd",
            budget.daily_usd,
            ledger.day.usd,
            median,
            Some(ledger.day),
        ),
        (
            "daily_tokens",
            budget.daily_tokens.map(|t| t as f64),
            ledger.day.tokens as f64,
            tokens_median,
            Some(ledger.day),
        ),
        (
            "rounds_per_hour",
            budget.rounds_per_hour.map(|r| r as f64),
            ledger.hour.rounds as f64,
            None,
            Some(ledger.hour),
        ),
    ];
    let mut found: Vec<Exhausted> = Vec::new();
    for (name, limit, spent, median, window) in candidates {
        let Some(limit) = limit else { continue };
        if window.is_some_and(|w| !current(&w)) {
            continue;
        }
        let projected = median.map(|m| spent + m);
        let over = spent >= limit;
        let projected_over = projected.is_some_and(|p| p > limit * slack);
        if over || projected_over {
            found.push(Exhausted {
                budget: name,
                spent,
                limit,
                projected: projected.filter(|_| !over),
                resume_at: window.map(|w| w.end),
            });
        }
    }
    found
        .iter()
        .find(|e| e.resume_at.is_none())
        .or_else(|| found.iter().max_by_key(|e| e.resume_at))
        .cloned()
}

/// The zone the budget's day and month follow.
pub(crate) fn zone_of(budget: &Budget) -> Zone {
    budget
        .timezone
        .as_deref()
        .and_then(|tz| Zone::named(tz).ok())
        .unwrap_or_else(Zone::host_or_utc)
}

/// The gate before the spawn: with a budget, a round whose projected spend crosses it does not
/// start; the loop is parked until the window resets (the after-round step stretches the timer
/// over the park), or halted for loop_usd. Returns the round's exit status when it must not run.
pub(crate) fn gate(
    project: &Project,
    state_dir: &Path,
    st: &mut State,
    emitter: &Emitter,
    now: u64,
) -> Option<u8> {
    if !project.budget.limits_anything() {
        return None;
    }
    // A ledger that cannot be believed is rebuilt, and told, at the round's end.
    let ledger = Ledger::load(state_dir).ok().flatten()?;
    let mut ledger = ledger;
    if st.loop_ended || st.loop_started_at != Some(ledger.this_loop.start) {
        ledger.this_loop = super::ledger::Tally::default();
    }
    let found = exhausted(&project.budget, &ledger, now)?;
    let message = exhausted_message(&project.name, "project", &found);
    notify(&[NotifyState::Ready, NotifyState::Status(&message)]);
    emitter.emit(None, None, &message, event("project", &found));
    let code = match park(st, &found, now) {
        Some(reason) => {
            st.request_halt(state_dir, reason, &message);
            exit::OK
        }
        None => exit::TEMPFAIL,
    };
    if let Err(e) = st.save(state_dir) {
        let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
    }
    Some(code)
}

/// The park a budget that ran out ended, once its window is over: (budget, seconds parked).
pub(crate) fn window_reset(st: &mut State, now: u64) -> Option<(String, u64)> {
    let park = st.budget_park.take_if(|p| p.until <= now)?;
    Some((park.budget, now.saturating_sub(park.since)))
}

/// Tells that the loop resumed after a budget's park.
pub(crate) fn tell_window_reset(events: &RoundEvents<'_>, reset: Option<(String, u64)>) {
    if let Some((budget, parked_s)) = reset {
        events.emit(
            &format!("the {budget} window reset after {parked_s}s: the loop resumes"),
            BudgetWindowReset { budget, parked_s },
        );
    }
}

/// Parks the loop for `found` (a back-off until its window resets; a later back-off already
/// decided stays), or returns the halt for loop_usd.
pub(super) fn park(st: &mut State, found: &Exhausted, now: u64) -> Option<HaltReason> {
    let Some(until) = found.resume_at else {
        st.verdict = Verdict {
            action: Action::Halt,
            until: None,
            reason: Some(HaltReason::LoopBudget.as_str().into()),
        };
        return Some(HaltReason::LoopBudget);
    };
    let until = until.max(st.not_before(now).unwrap_or(0));
    st.verdict = Verdict {
        action: Action::BackOff,
        until: Some(until),
        reason: Some(format!("{} budget", found.budget)),
    };
    st.budget_park = Some(BudgetPark {
        budget: found.budget.to_string(),
        since: now,
        until,
    });
    None
}

pub(super) fn exhausted_message(name: &str, owner: &str, e: &Exhausted) -> String {
    let amount = |v: f64| {
        if e.budget.ends_with("_usd") {
            format!("${v:.2}")
        } else {
            format!("{v:.0}")
        }
    };
    let what = match e.projected {
        Some(p) => format!(
            "the next round would bring {} to {} (limit {})",
            e.budget,
            amount(p),
            amount(e.limit)
        ),
        None => format!(
            "{} spent {} of {}",
            e.budget,
            amount(e.spent),
            amount(e.limit)
        ),
    };
    let owner = if owner == "project" {
        String::new()
    } else {
        format!(" ({owner})")
    };
    match e.resume_at {
        Some(at) => format!(
            "{name}: {what}{owner}; parked until {}",
            crate::time::timestamp(crate::time::epoch_time(at))
        ),
        None => format!("{name}: {what}{owner}; loop halted"),
    }
}

pub(super) fn event(owner: &str, e: &Exhausted) -> BudgetExhausted {
    BudgetExhausted {
        budget: e.budget.into(),
        owner: owner.into(),
        spent: e.spent,
        limit: e.limit,
        projected: e.projected,
        resume_at: e.resume_at,
    }
}

/// What [`settle`] found.
#[derive(Debug)]
pub(crate) struct Settled {
    /// The ledger with the round's spend.
    pub ledger: Ledger,
    /// A halt the spend asks for (loop_usd, a spike with spike_action = halt), and its message.
    pub halt: Option<(HaltReason, String)>,
}

/// The round's spend, after its verdict: into the ledger and the state; a spike told (and the
/// halt returned with spike_action = halt); a budget now spent parks the loop (or halts it).
/// `halted`: the verdict halts the loop already, so no budget needs to.
pub(crate) fn settle(
    project: &Project,
    state_dir: &Path,
    st: &mut State,
    findings: &Findings,
    events: &RoundEvents<'_>,
    halted: bool,
    now: u64,
) -> Settled {
    let round = st.round;
    let cost = cost::of(
        findings.usage.as_ref(),
        findings.model(),
        project.agent.output_format,
        &project.pricing,
    );
    st.last_spend = Some(RoundSpend::of(round, &cost));
    let before = load_or_rebuild(project, state_dir, events, st.loop_started_at, now);
    // The zone file is read only when a window ended.
    let zone = (!before.windows_hold(now)).then(|| zone_of(&project.budget));
    let mut ledger = before.at(zone.as_ref(), now, st.loop_started_at);
    ledger.record(round, &cost);
    if let Err(e) = ledger.save(state_dir) {
        let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
    }
    let spike = spike(project, &before, &cost, events);
    let halt = if halted {
        None
    } else if let Some(message) = spike {
        st.verdict = Verdict {
            action: Action::Halt,
            until: None,
            reason: Some(HaltReason::CostSpike.as_str().into()),
        };
        Some((HaltReason::CostSpike, message))
    } else {
        exhausted(&project.budget, &ledger, now).and_then(|found| {
            let message = exhausted_message(&project.name, "project", &found);
            events.emit(&message, event("project", &found));
            park(st, &found, now).map(|reason| (reason, message))
        })
    };
    Settled { ledger, halt }
}

/// Tells a round that cost more than spike_factor × the recent median; returns the halt's
/// message when spike_action = halt.
fn spike(
    project: &Project,
    before: &Ledger,
    cost: &Cost,
    events: &RoundEvents<'_>,
) -> Option<String> {
    let usd = cost.usd?;
    if before.recent.len() < SPIKE_MIN_ROUNDS {
        return None;
    }
    let median = before.median_usd()?;
    let b = &project.budget;
    if usd <= b.spike_factor * median || usd <= 0.0 {
        return None;
    }
    let halt = b.spike_action == SpikeAction::Halt;
    let message = format!(
        "{}: the round cost ${usd:.2}, {:.1}× the median ${median:.2} of the last {} rounds{}",
        project.name,
        if median > 0.0 {
            usd / median
        } else {
            f64::INFINITY
        },
        before.recent.len(),
        if halt { "; loop halted" } else { "" }
    );
    events.emit(
        &message,
        CostSpike {
            cost_usd: usd,
            median_usd: median,
            rounds: before.recent.len(),
            spike_factor: b.spike_factor,
            action: if halt { "halt" } else { "alert" }.into(),
        },
    );
    halt.then_some(message)
}

/// The ledger as saved, or, when it cannot be believed, rebuilt from the events mirror's
/// `round_end` costs (and `ledger_rebuilt` told).
fn load_or_rebuild(
    project: &Project,
    state_dir: &Path,
    events: &RoundEvents<'_>,
    loop_start: Option<u64>,
    now: u64,
) -> Ledger {
    let problem = match Ledger::load(state_dir) {
        Ok(Some(ledger)) => return ledger,
        Ok(None) => return Ledger::default(),
        Err(e) => e.to_string(),
    };
    let query = Query {
        kinds: vec![KindName::Known(Kind::RoundEnd)],
        scan: Some(REBUILD_SCAN),
        ..Query::default()
    };
    let records = read_mirror_only(project, &query).unwrap_or_default();
    let spent: Vec<(u64, Spent)> = records.iter().filter_map(spent_of).collect();
    let ledger = rebuild(&spent, &zone_of(&project.budget), loop_start, now);
    events.emit(
        &format!(
            "{}: the spend ledger could not be believed ({problem}); rebuilt from {} round(s) of the events mirror",
            project.name,
            spent.len()
        ),
        LedgerRebuilt {
            problem,
            source: if spent.is_empty() { "nothing" } else { "events_mirror" }.into(),
            rounds: spent.len() as u64,
            month_usd: ledger.month.usd,
        },
    );
    ledger
}

/// A `round_end` record's time (epoch seconds) and spend.
fn spent_of(r: &Record) -> Option<(u64, Spent)> {
    let at = r.ts_us()? / 1_000_000;
    let usd = r
        .get("cost_usd")
        .and_then(serde_json::Value::as_f64)
        .filter(|c| c.is_finite() && (0.0..1e6).contains(c));
    let tokens = r
        .get("tokens")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if usd.is_none() && tokens == 0 {
        return None;
    }
    Some((
        at,
        Spent {
            round: r.round().unwrap_or(0),
            usd: usd.unwrap_or(0.0),
            tokens,
        },
    ))
}

/// A ledger from the spend of past rounds (time, spend), oldest first: each counts in the windows
/// that hold `now` and that its time falls in.
fn rebuild(spent: &[(u64, Spent)], zone: &Zone, loop_start: Option<u64>, now: u64) -> Ledger {
    let mut ledger = Ledger::default().at(Some(zone), now, loop_start);
    for (at, s) in spent {
        for tally in [
            &mut ledger.day,
            &mut ledger.month,
            &mut ledger.hour,
            &mut ledger.this_loop,
        ] {
            if tally.start <= *at {
                tally.usd += s.usd;
                tally.tokens = tally.tokens.saturating_add(s.tokens);
                tally.rounds += 1;
            }
        }
        ledger.total_usd += s.usd;
        ledger.recent.push(*s);
    }
    let over = ledger.recent.len().saturating_sub(RECENT_ROUNDS);
    ledger.recent.drain(..over);
    ledger
}

#[cfg(test)]
mod tests;
