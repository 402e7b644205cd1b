//! When a limit resets, as the agent's output says it: an epoch time in a record (claude's
//! `resetsAt`), a wait (Gemini's RetryInfo `"retryDelay": "30s"`, "Suggested retry after 30s",
//! "try again in 3 days 6 hours"), or codex's local wall-clock time ("try again at 7:42 PM",
//! "try again at Nov 23rd, 2026 7:42 PM"). Only plausible times are believed: within a day before
//! and 30 days after now.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

use crate::time::zone as localtime;

/// How far ahead a reset time may lie and still be believed.
const MAX_AHEAD_S: u64 = 30 * 86_400;
/// How far back (a clock a little off, a line printed a while ago).
const MAX_BEHIND_S: u64 = 86_400;

/// A reset the text gave: a time, or a wait counted from when the round ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct When {
    /// Epoch seconds.
    pub at: Option<u64>,
    /// Seconds.
    pub after_s: Option<u64>,
}

/// `secs` (epoch seconds) when it lies within a day before and 30 days after `now`.
pub(crate) fn plausible(secs: u64, now: u64) -> Option<u64> {
    (secs.saturating_add(MAX_BEHIND_S) >= now && secs <= now.saturating_add(MAX_AHEAD_S))
        .then_some(secs)
}

/// An epoch-seconds reset time in a JSON value; milliseconds are recognised and converted.
/// Anything implausible, negative, fractional nonsense or not a number is unknown.
pub(crate) fn plausible_epoch(v: &Value, now: u64) -> Option<u64> {
    let n = v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e15)
            // Bounded to [0, 1e15) just above, so the cast is exact enough.
            .map(|f| {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "bounded to [0, 1e15) above"
                )]
                let n = f as u64;
                n
            })
    })?;
    let secs = if n > 100_000_000_000 { n / 1000 } else { n };
    plausible(secs, now)
}

/// The reset a message gives, if any. `now` is when it was read (epoch seconds).
pub(crate) fn in_text(text: &str, now: u64) -> When {
    if let Some(c) = TRY_AGAIN_AT.captures(text) {
        return When {
            at: wall_clock(&c, now).and_then(|t| plausible(t, now)),
            after_s: None,
        };
    }
    if let Some(c) = TRY_AGAIN_IN.captures(text) {
        return When {
            at: None,
            after_s: spelled_wait(&c[1]).filter(|s| *s <= MAX_AHEAD_S),
        };
    }
    if let Some(c) = RETRY_DELAY.captures(text) {
        return When {
            at: None,
            after_s: delay_s(&c[1], &c[2]).filter(|s| *s <= MAX_AHEAD_S),
        };
    }
    When::default()
}

/// "3 days 6 hours 57 minutes" in seconds.
fn spelled_wait(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut words = text.split([' ', ',']).filter(|w| !w.is_empty());
    while let Some(word) = words.next() {
        let Ok(n) = word.parse::<u64>() else {
            continue;
        };
        let unit = match words.next()?.trim_end_matches('s') {
            "day" => 86_400,
            "hour" => 3600,
            "minute" => 60,
            "second" => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (total > 0).then_some(total)
}

/// "30" + "s", "900" + "ms", "34.07" + "s" in whole seconds (rounded up).
fn delay_s(number: &str, unit: &str) -> Option<u64> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let whole: u64 = whole.parse().ok()?;
    let has_frac = frac.bytes().any(|b| b != b'0');
    if unit == "ms" {
        return Some(whole.div_ceil(1000) + u64::from(has_frac && whole.is_multiple_of(1000)));
    }
    Some(whole + u64::from(has_frac))
}

/// Codex's local time: "7:42 PM" (today) or "Nov 23rd, 2026 7:42 PM".
fn wall_clock(c: &Captures<'_>, now: u64) -> Option<u64> {
    let hour12: i64 = c.name("hour")?.as_str().parse().ok()?;
    let minute: i64 = c.name("minute")?.as_str().parse().ok()?;
    if !(1..=12).contains(&hour12) || minute > 59 {
        return None;
    }
    let pm = c.name("ampm")?.as_str().eq_ignore_ascii_case("pm");
    let hour = hour12 % 12 + if pm { 12 } else { 0 };
    let (year, month, day) = match (c.name("month"), c.name("day"), c.name("year")) {
        (Some(m), Some(d), Some(y)) => (
            y.as_str().parse().ok()?,
            month_number(m.as_str())?,
            d.as_str().parse().ok().filter(|d| (1..=31).contains(d))?,
        ),
        _ => localtime::date_at(i64::try_from(now).ok()?)?,
    };
    u64::try_from(localtime::to_epoch(year, month, day, hour, minute)?).ok()
}

fn month_number(name: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    let index = MONTHS.iter().position(|m| *m == lower)?;
    i64::try_from(index + 1).ok()
}

static TRY_AGAIN_AT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)try again at (?:(?P<month>[a-z]{3}) (?P<day>\d{1,2})(?:st|nd|rd|th)?, (?P<year>\d{4}) )?",
        r"(?P<hour>\d{1,2}):(?P<minute>\d{2}) ?(?P<ampm>[ap]m)\b",
    ))
    .expect("try-again-at pattern is valid")
});

static TRY_AGAIN_IN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)try again in ((?:\d{1,6} (?:days?|hours?|minutes?|seconds?)[, ]{0,2}(?:and )?){1,4})",
    )
    .expect("try-again-in pattern is valid")
});

static RETRY_DELAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:retryDelay"?\s{0,3}:\s{0,3}"|retry after |retry in |try again in )(\d{1,9}(?:\.\d{1,9})?) ?(ms|s)\b"#,
    )
    .expect("retry-delay pattern is valid")
});

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_341_600;

    #[test]
    fn waits_in_words_and_retry_info() {
        let after = |t: &str| in_text(t, NOW).after_s;
        assert_eq!(
            after("Resource exhausted.\nSuggested retry after 30s."),
            Some(30)
        );
        assert_eq!(
            after(
                r#"{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay": "34.074824224s"}"#
            ),
            Some(35)
        );
        assert_eq!(after("Please retry in 900ms."), Some(1));
        assert_eq!(
            after("send a request to your admin or try again in 3 days 6 hours 57 minutes."),
            Some(3 * 86_400 + 6 * 3600 + 57 * 60)
        );
        assert_eq!(after("try again in 99999999 days"), None);
        assert_eq!(after("retry after 99999999999s"), None);
        assert_eq!(after("no reset here"), None);
    }

    #[test]
    fn codex_wall_clock_times_are_local() {
        // The host's zone is whatever this machine has; compare against the same conversion.
        let Some(expected) = localtime::to_epoch(2026, 11, 23, 19, 42) else {
            return;
        };
        let when = in_text(
            "You've hit your usage limit. Upgrade to Pro or try again at Nov 23rd, 2026 7:42 PM.",
            NOW,
        );
        assert_eq!(when.at, u64::try_from(expected).ok());
        let today = in_text("You've hit your usage limit. Try again at 11:59 PM.", NOW);
        let (y, m, d) = localtime::date_at(i64::try_from(NOW).unwrap()).unwrap();
        assert_eq!(
            today.at,
            localtime::to_epoch(y, m, d, 23, 59).and_then(|t| u64::try_from(t).ok())
        );
        // Nonsense and far-away dates are unknown.
        for bad in [
            "try again at 13:99 PM",
            "try again at Foo 3rd, 2026 7:42 PM",
            "try again at Nov 23rd, 2099 7:42 PM",
        ] {
            assert_eq!(in_text(bad, NOW).at, None, "{bad}");
        }
    }

    #[test]
    fn epoch_values_are_checked() {
        let v = |t: &str| plausible_epoch(&serde_json::from_str(t).unwrap(), NOW);
        assert_eq!(v(&(NOW + 60).to_string()), Some(NOW + 60));
        assert_eq!(v(&((NOW + 60) * 1000).to_string()), Some(NOW + 60));
        for bad in [
            "-5",
            "1e300",
            "\"soon\"",
            "null",
            "99999999999999999999",
            "0",
        ] {
            assert_eq!(v(bad), None, "{bad}");
        }
    }
}
