//! `[budget]`, `[pricing]` and `[agent] account`: limits on spend, prices per model, and the
//! provider account projects share.

use super::checker::Checker;
use crate::config::model::{PROJECT_NAME_RULE, valid_project_name};
use crate::config::problems::echoed;
use crate::config::raw::{RawBudget, RawPrice};
use crate::config::spend::{
    Budget, DEFAULT_OVERSHOOT_PCT, DEFAULT_SPIKE_FACTOR, Price, Pricing, SpikeAction,
};
use crate::time::zone::Zone;

/// A limit in USD above this is a typo (and beyond what usage parsing believes of one round).
const MAX_USD: f64 = 1e6;
/// A price per million tokens above this is a typo.
const MAX_PRICE: f64 = 10_000.0;
/// More rounds an hour than one a second is no limit.
const MAX_ROUNDS_PER_HOUR: i64 = 3600;
/// Token limits above this are typos.
const MAX_TOKENS: i64 = 1 << 50;

/// `[budget]` (of a project, or of a shared account's file: `table` names where it is).
pub(super) fn budget(c: &mut Checker<'_, '_>, table: &str, raw: &RawBudget) -> Budget {
    let key = |k: &'static str| [table, k];
    let amount = |c: &mut Checker<'_, '_>, k, v| positive_amount(c, &key(k), v, MAX_USD);
    let daily_usd = amount(c, "daily_usd", raw.daily_usd);
    let monthly_usd = amount(c, "monthly_usd", raw.monthly_usd);
    let loop_usd = amount(c, "loop_usd", raw.loop_usd);
    let daily_tokens = bounded_count(c, &key("daily_tokens"), raw.daily_tokens, MAX_TOKENS);
    let rounds_per_hour = bounded_count(
        c,
        &key("rounds_per_hour"),
        raw.rounds_per_hour,
        MAX_ROUNDS_PER_HOUR,
    );
    let timezone = raw
        .timezone
        .as_deref()
        .filter(|tz| valid_timezone(c, &key("timezone"), tz))
        .map(str::to_string);
    let overshoot_pct = match raw.overshoot_pct {
        Some(p) if !(p.is_finite() && (0.0..=1000.0).contains(&p)) => {
            c.fail(
                &key("overshoot_pct"),
                format!("must be a percentage from 0 to 1000, got {p}"),
            );
            DEFAULT_OVERSHOOT_PCT
        }
        p => p.unwrap_or(DEFAULT_OVERSHOOT_PCT),
    };
    let spike_factor = match raw.spike_factor {
        Some(f) if !(f.is_finite() && f > 1.0 && f <= 1000.0) => {
            c.fail(
                &key("spike_factor"),
                format!("must be a factor above 1 and at most 1000, got {f}"),
            );
            DEFAULT_SPIKE_FACTOR
        }
        f => f.unwrap_or(DEFAULT_SPIKE_FACTOR),
    };
    let spike_action = c.choice(
        &key("spike_action"),
        raw.spike_action.as_deref(),
        &[("alert", SpikeAction::Alert), ("halt", SpikeAction::Halt)],
        SpikeAction::Alert,
    );
    Budget {
        daily_usd,
        monthly_usd,
        daily_tokens,
        loop_usd,
        rounds_per_hour,
        timezone,
        overshoot_pct,
        spike_factor,
        spike_action,
    }
}

/// `[pricing.MODEL]` tables: input and output prices are required, cache prices optional.
pub(super) fn pricing(
    c: &mut Checker<'_, '_>,
    raw: &std::collections::BTreeMap<String, RawPrice>,
) -> Pricing {
    let mut table = Pricing::new();
    for (model, price) in raw {
        let at = |k: &'static str| ["pricing", model.as_str(), k];
        if model.is_empty() || !c.free_of_control_chars(&["pricing", model], model) {
            c.fail(
                &["pricing"],
                "a model name must be non-empty printable text",
            );
            continue;
        }
        let rate = |c: &mut Checker<'_, '_>, k, v: Option<f64>| match v {
            Some(p) if !(p.is_finite() && (0.0..=MAX_PRICE).contains(&p)) => {
                c.fail(
                    &at(k),
                    format!("must be USD per million tokens from 0 to {MAX_PRICE}, got {p}"),
                );
                None
            }
            p => p,
        };
        let input = rate(c, "input_per_mtok", price.input);
        let output = rate(c, "output_per_mtok", price.output);
        let cache_read = rate(c, "cache_read_per_mtok", price.cache_read);
        let cache_write = rate(c, "cache_write_per_mtok", price.cache_write);
        let (Some(input), Some(output)) = (input, output) else {
            if price.input.is_none() || price.output.is_none() {
                c.fail_hint(
                    &["pricing", model],
                    format!(
                        "[pricing.{}] needs both input_per_mtok and output_per_mtok",
                        echoed(model)
                    ),
                    "prices are USD per million tokens, e.g. input_per_mtok = 3.0",
                );
            }
            continue;
        };
        table.insert(
            model.clone(),
            Price {
                input,
                output,
                cache_read,
                cache_write,
            },
        );
    }
    table
}

/// `[agent] account`: a name shared by the projects that use one provider account.
pub(super) fn account(c: &mut Checker<'_, '_>, raw: Option<&str>) -> Option<String> {
    let name = raw?;
    // It names a file below /etc/agent-runner/accounts: the project name's rule keeps it one
    // plain file name.
    if valid_project_name(name) {
        return Some(name.to_string());
    }
    c.fail(
        &["agent", "account"],
        format!(
            "invalid account name \"{}\": an account name is {PROJECT_NAME_RULE}",
            echoed(name)
        ),
    );
    None
}

fn positive_amount(
    c: &mut Checker<'_, '_>,
    path: &[&str],
    value: Option<f64>,
    max: f64,
) -> Option<f64> {
    let v = value?;
    if v.is_finite() && v > 0.0 && v < max {
        return Some(v);
    }
    c.fail(
        path,
        format!("must be an amount in USD above 0 and below {max}, got {v}"),
    );
    None
}

fn bounded_count(
    c: &mut Checker<'_, '_>,
    path: &[&str],
    value: Option<i64>,
    max: i64,
) -> Option<u64> {
    let v = value?;
    if (1..=max).contains(&v) {
        return u64::try_from(v).ok();
    }
    c.fail(path, format!("must be a count from 1 to {max}, got {v}"));
    None
}

pub(super) fn valid_timezone(c: &mut Checker<'_, '_>, path: &[&str], tz: &str) -> bool {
    match Zone::named(tz) {
        Ok(_) => true,
        Err(why) => {
            c.fail_hint(
                path,
                format!("unknown time zone \"{}\": {why}", echoed(tz)),
                "use an IANA name such as \"Europe/Berlin\" or \"UTC\" (see /usr/share/zoneinfo)",
            );
            false
        }
    }
}
