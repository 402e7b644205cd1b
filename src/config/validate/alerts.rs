//! `[alerts]`: the detectors' thresholds.

use super::checker::Checker;
use crate::config::model::Alerts;
use crate::config::raw::RawAlerts;

/// The most rounds a detector looks back over: its evidence is read newest first, and a window
/// this long still costs one bounded read.
const MAX_WINDOW_ROUNDS: i64 = 100;

pub(super) fn alerts(c: &mut Checker<'_, '_>, raw: &RawAlerts) -> Alerts {
    let d = Alerts::default();
    let window_rounds = rounds(c, "window_rounds", raw.window_rounds, d.window_rounds);
    let disk_warn_percent = percent(
        c,
        "disk_warn_percent",
        raw.disk_warn_percent,
        d.disk_warn_percent,
    );
    let disk_halt_percent = percent(
        c,
        "disk_halt_percent",
        raw.disk_halt_percent,
        d.disk_halt_percent,
    );
    if disk_warn_percent >= disk_halt_percent {
        c.fail_hint(
            &["alerts", "disk_warn_percent"],
            format!(
                "disk_warn_percent ({disk_warn_percent}) must be below disk_halt_percent ({disk_halt_percent})"
            ),
            "a warning comes before the halt: lower disk_warn_percent or raise disk_halt_percent",
        );
    }
    Alerts {
        window_rounds,
        network_failure_percent: percent(
            c,
            "network_failure_percent",
            raw.network_failure_percent,
            d.network_failure_percent,
        ),
        timeout_percent: percent(c, "timeout_percent", raw.timeout_percent, d.timeout_percent),
        repeated_stashes: rounds(
            c,
            "repeated_stashes",
            raw.repeated_stashes,
            d.repeated_stashes,
        ),
        repeated_error_rounds: rounds(
            c,
            "repeated_error_rounds",
            raw.repeated_error_rounds,
            d.repeated_error_rounds,
        ),
        disk_warn_percent,
        disk_halt_percent,
        stale_factor: rounds(c, "stale_factor", raw.stale_factor, d.stale_factor),
    }
}

/// A percentage from 1 to 100.
fn percent(c: &mut Checker<'_, '_>, key: &str, value: Option<i64>, default: u8) -> u8 {
    let Some(v) = value else { return default };
    match u8::try_from(v) {
        Ok(p) if (1..=100).contains(&p) => p,
        _ => {
            c.fail(
                &["alerts", key],
                format!("must be a percentage from 1 to 100, got {v}"),
            );
            default
        }
    }
}

/// A count of rounds from 1 to [`MAX_WINDOW_ROUNDS`].
fn rounds(c: &mut Checker<'_, '_>, key: &str, value: Option<i64>, default: u32) -> u32 {
    let Some(v) = value else { return default };
    match u32::try_from(v) {
        Ok(n) if n >= 1 && i64::from(n) <= MAX_WINDOW_ROUNDS => n,
        _ => {
            c.fail(
                &["alerts", key],
                format!("must be a count from 1 to {MAX_WINDOW_ROUNDS}, got {v}"),
            );
            default
        }
    }
}
