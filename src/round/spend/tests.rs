use super::*;
use crate::round::ledger::Tally;

/// 2026-11-22T10:00:00Z.
const NOW: u64 = 1_795_341_600;

fn tally(usd: f64, tokens: u64, rounds: u64, end: u64) -> Tally {
    Tally {
        start: NOW - 100,
        end,
        usd,
        tokens,
        rounds,
    }
}

fn ledger(day_usd: f64, recent: &[f64]) -> Ledger {
    Ledger {
        day: tally(day_usd, 0, 1, NOW + 1000),
        month: tally(day_usd, 0, 1, NOW + 5000),
        hour: tally(day_usd, 0, 1, NOW + 100),
        this_loop: tally(day_usd, 0, 1, u64::MAX),
        recent: recent
            .iter()
            .map(|&usd| Spent {
                round: 1,
                usd,
                tokens: 0,
            })
            .collect(),
        ..Ledger::default()
    }
}

#[test]
fn a_spent_or_projected_budget_stops_the_next_round() {
    let budget = Budget {
        daily_usd: Some(10.0),
        ..Budget::default()
    };
    assert_eq!(exhausted(&budget, &ledger(5.0, &[1.0, 1.0]), NOW), None);
    let spent = exhausted(&budget, &ledger(10.0, &[]), NOW).unwrap();
    assert_eq!(
        (spent.budget, spent.resume_at, spent.projected),
        ("daily_usd", Some(NOW + 1000), None)
    );
    // 8 + the median 4 = 12 > 10 × 1.1: projected over. 8 + 2 = 10 is within the overshoot.
    let projected = exhausted(&budget, &ledger(8.0, &[4.0, 4.0, 1.0]), NOW).unwrap();
    assert_eq!(projected.projected, Some(12.0));
    assert_eq!(exhausted(&budget, &ledger(8.0, &[2.0]), NOW), None);
    // An elapsed window counts as empty.
    assert_eq!(exhausted(&budget, &ledger(50.0, &[]), NOW + 1000), None);
    // loop_usd halts (no resume time) and outranks the others; monthly resumes last.
    let both = Budget {
        daily_usd: Some(1.0),
        monthly_usd: Some(1.0),
        ..Budget::default()
    };
    assert_eq!(
        exhausted(&both, &ledger(2.0, &[]), NOW).unwrap().budget,
        "monthly_usd"
    );
    let with_loop = Budget {
        loop_usd: Some(1.0),
        ..both
    };
    let halt = exhausted(&with_loop, &ledger(2.0, &[]), NOW).unwrap();
    assert_eq!((halt.budget, halt.resume_at), ("loop_usd", None));
    let hourly = Budget {
        rounds_per_hour: Some(1),
        ..Budget::default()
    };
    assert_eq!(
        exhausted(&hourly, &ledger(0.0, &[]), NOW)
            .unwrap()
            .resume_at,
        Some(NOW + 100)
    );
}

#[test]
fn a_park_keeps_a_later_back_off_and_resets_once() {
    let mut st = State::default();
    let found = Exhausted {
        budget: "daily_usd",
        spent: 10.0,
        limit: 10.0,
        projected: None,
        resume_at: Some(NOW + 1000),
    };
    assert_eq!(park(&mut st, &found, NOW), None);
    assert_eq!(st.not_before(NOW), Some(NOW + 1000));
    assert_eq!(window_reset(&mut st, NOW + 999), None);
    assert_eq!(
        window_reset(&mut st, NOW + 1000),
        Some(("daily_usd".into(), 1000))
    );
    assert_eq!(window_reset(&mut st, NOW + 1001), None);
    let mut looped = State::default();
    let spent = Exhausted {
        resume_at: None,
        ..found
    };
    assert_eq!(park(&mut looped, &spent, NOW), Some(HaltReason::LoopBudget));
    assert_eq!(looped.verdict.action, Action::Halt);
}

#[test]
fn a_rebuilt_ledger_counts_each_round_in_its_windows() {
    let utc = Zone::named("UTC").unwrap_or_else(|_| Zone::host_or_utc());
    let s = |round, usd| Spent {
        round,
        usd,
        tokens: 10,
    };
    // Yesterday's round counts for the month only; today's for both.
    let spent = [(NOW - 86_400, s(1, 2.0)), (NOW - 60, s(2, 3.0))];
    let l = rebuild(&spent, &utc, Some(NOW - 120), NOW);
    assert!((l.month.usd - 5.0).abs() < 1e-9, "{l:?}");
    assert!((l.day.usd - 3.0).abs() < 1e-9);
    assert!((l.this_loop.usd - 3.0).abs() < 1e-9);
    assert_eq!(l.recent.len(), 2);
}
