//! `[limits]`: each value is checked against the few forms systemd reads for its setting and
//! rewritten in them, so that the drop-in holds only letters, digits and `%`: nothing an operator
//! writes can end the line or add another setting to the unit.

use super::checker::Checker;
use crate::config::limits::{DEFAULT_OOM_ROUNDS, Limits};
use crate::config::problems::echoed;
use crate::config::raw::{RawAmount, RawLimits};

/// The suffixes systemd reads on a size, each 1024 times the one before.
const SIZE_SUFFIXES: &[u8] = b"KMGTPE";
/// More than this is no CPU quota a host has (a thousand CPUs).
const MAX_CPU_PERCENT: u64 = 100_000;
/// systemd's range of `IOWeight=`.
const IO_WEIGHT: std::ops::RangeInclusive<i64> = 1..=10_000;
/// The kernel's range of nice values.
const NICE: std::ops::RangeInclusive<i64> = -20..=19;
/// How many rounds in a row killed for memory may halt the loop.
const OOM_ROUNDS: std::ops::RangeInclusive<i64> = 1..=100;

const MEMORY_FORMS: &str = "a size such as \"512M\" or \"2G\", a percentage of the host's memory such as \"50%\", or \"infinity\"";

pub(super) fn limits(c: &mut Checker<'_, '_>, raw: &RawLimits) -> Limits {
    Limits {
        memory_max: checked(
            c,
            "memory_max",
            raw.memory_max.as_ref(),
            memory,
            MEMORY_FORMS,
        ),
        memory_high: checked(
            c,
            "memory_high",
            raw.memory_high.as_ref(),
            memory,
            MEMORY_FORMS,
        ),
        cpu_quota: cpu_quota(c, raw.cpu_quota.as_deref()),
        tasks_max: checked(
            c,
            "tasks_max",
            raw.tasks_max.as_ref(),
            tasks,
            "a positive number of processes and threads, or \"infinity\"",
        ),
        io_weight: ranged(c, "io_weight", raw.io_weight, IO_WEIGHT),
        nice: ranged(c, "nice", raw.nice, NICE),
        oom_rounds: ranged(c, "oom_rounds", raw.oom_rounds, OOM_ROUNDS)
            .unwrap_or(DEFAULT_OOM_ROUNDS),
    }
}

/// `value` in systemd's words by `form`, or a problem naming the forms `expected`.
fn checked(
    c: &mut Checker<'_, '_>,
    key: &str,
    value: Option<&RawAmount>,
    form: fn(&RawAmount) -> Option<String>,
    expected: &str,
) -> Option<String> {
    let value = value?;
    let word = form(value);
    if word.is_none() {
        c.fail(
            &["limits", key],
            format!("{} is not {expected}", shown(value)),
        );
    }
    word
}

fn shown(value: &RawAmount) -> String {
    match value {
        RawAmount::Number(n) => n.to_string(),
        RawAmount::Word(w) => format!("\"{}\"", echoed(w)),
    }
}

/// A memory limit: bytes as a number, a size with a suffix, a percentage, or "infinity".
fn memory(value: &RawAmount) -> Option<String> {
    match value {
        RawAmount::Number(n) => (*n > 0).then(|| n.to_string()),
        RawAmount::Word(w) if w == "infinity" => Some(w.clone()),
        RawAmount::Word(w) => {
            if let Some(percent) = w.strip_suffix('%') {
                return (1..=100).contains(&digits(percent)?).then(|| w.clone());
            }
            let (number, suffix) = match w.as_bytes().last() {
                Some(last) if SIZE_SUFFIXES.contains(last) => (&w[..w.len() - 1], Some(*last)),
                _ => (w.as_str(), None),
            };
            let n = digits(number)?;
            let shift = suffix.map_or(0, |s| {
                10 * (SIZE_SUFFIXES.iter().position(|&x| x == s).unwrap_or(0) + 1)
            });
            // systemd reads sizes into 64 bits: a larger one fails the unit, not `check`.
            (n > 0 && n.checked_mul(1 << shift)?.leading_zeros() > 0).then(|| w.clone())
        }
    }
}

/// A task limit: a positive count or "infinity".
fn tasks(value: &RawAmount) -> Option<String> {
    match value {
        RawAmount::Number(n) => (*n > 0).then(|| n.to_string()),
        RawAmount::Word(w) if w == "infinity" => Some(w.clone()),
        RawAmount::Word(w) => (digits(w)? > 0).then(|| w.clone()),
    }
}

/// Only ASCII digits, at most 18 of them (no sign, no space, no overflow).
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn cpu_quota(c: &mut Checker<'_, '_>, value: Option<&str>) -> Option<String> {
    let value = value?;
    let percent = value.strip_suffix('%').and_then(digits);
    if percent.is_some_and(|p| (1..=MAX_CPU_PERCENT).contains(&p)) {
        return Some(value.to_string());
    }
    c.fail_hint(
        &["limits", "cpu_quota"],
        format!(
            "\"{}\" is not a whole percentage from 1% to {MAX_CPU_PERCENT}%",
            echoed(value)
        ),
        "100% is one CPU's time; \"150%\" is one and a half",
    );
    None
}

fn ranged<T: TryFrom<i64>>(
    c: &mut Checker<'_, '_>,
    key: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
) -> Option<T> {
    let v = value?;
    if !range.contains(&v) {
        c.fail(
            &["limits", key],
            format!(
                "must be a whole number from {} to {}, got {v}",
                range.start(),
                range.end()
            ),
        );
        return None;
    }
    T::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    fn load(tail: &str) -> Result<crate::config::Project, String> {
        super::super::tests::load_minimal_with(&format!("[limits]\n{tail}"))
    }

    #[test]
    fn every_form_systemd_reads_loads_as_written() {
        let p = load(concat!(
            "memory_max = \"2G\"\nmemory_high = \"75%\"\ncpu_quota = \"150%\"\n",
            "tasks_max = 512\nio_weight = 10000\nnice = -20\n",
        ))
        .unwrap();
        let l = &p.limits;
        assert_eq!(l.memory_max.as_deref(), Some("2G"));
        assert_eq!(l.memory_high.as_deref(), Some("75%"));
        assert_eq!(l.cpu_quota.as_deref(), Some("150%"));
        assert_eq!(l.tasks_max.as_deref(), Some("512"));
        assert_eq!((l.io_weight, l.nice), (Some(10000), Some(-20)));
        assert_eq!(l.oom_rounds, 3, "the default");
        assert_eq!(load("oom_rounds = 1").unwrap().limits.oom_rounds, 1);
        assert_eq!(load("oom_rounds = 100").unwrap().limits.oom_rounds, 100);
        for (value, word) in [
            ("1073741824", "1073741824"),
            ("\"infinity\"", "infinity"),
            ("\"512M\"", "512M"),
            ("\"100%\"", "100%"),
        ] {
            let p = load(&format!("memory_max = {value}\ntasks_max = \"infinity\"")).unwrap();
            assert_eq!(p.limits.memory_max.as_deref(), Some(word));
        }
        let none = load("").unwrap();
        assert_eq!(none.limits, crate::config::limits::Limits::default());
    }

    #[test]
    fn bad_values_and_injections_get_one_clear_line_each() {
        let err = load(concat!(
            "memory_max = \"512M\\nExecStartPre=/bin/evil\"\n",
            "memory_high = \"0\"\n",
            "cpu_quota = \"1.5\"\n",
            "tasks_max = -1\n",
            "io_weight = 0\n",
            "nice = 20\n",
            "oom_rounds = 0\n",
        ))
        .unwrap_err();
        for expected in [
            "limits.memory_max: \"512M\\nExecStartPre=/bin/evil\" is not a size",
            "limits.memory_high: \"0\" is not a size",
            "limits.cpu_quota: \"1.5\" is not a whole percentage from 1% to 100000%",
            "limits.tasks_max: -1 is not a positive number",
            "limits.io_weight: must be a whole number from 1 to 10000, got 0",
            "limits.nice: must be a whole number from -20 to 19, got 20",
            "limits.oom_rounds: must be a whole number from 1 to 100, got 0",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
        }
        for bad in [
            "\"101%\"",
            "\"-5M\"",
            "\"5 M\"",
            "\"5MB\"",
            "\"99999999999E\"",
            "\"\"",
            "\"%\"",
            "true",
        ] {
            let err = load(&format!("memory_max = {bad}")).unwrap_err();
            assert!(err.contains("limits.memory_max"), "{bad}: {err}");
        }
        let many = load("oom_rounds = 101").unwrap_err();
        assert!(many.contains("got 101"), "{many}");
        let unknown = load("memory_limit = \"1G\"").unwrap_err();
        assert!(
            unknown.contains("unknown key `memory_limit` in [limits]"),
            "{unknown}"
        );
    }
}
