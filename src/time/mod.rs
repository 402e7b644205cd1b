//! Points in time as events write and read them: ISO 8601 UTC text, microseconds since the epoch,
//! the subset of journalctl's `--since` syntax the JSON mirror understands, and the whole seconds
//! since the epoch the round's state file keeps; and durations as the commands show them.

pub(crate) mod schedule;
pub(crate) mod window;
pub(crate) mod zone;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// `2026-11-22T10:00:00.123Z` for a point in time (UTC, milliseconds): the events' own format.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 → (year, month, day), after Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01, the inverse of [`civil_from_days`].
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The current time in seconds since the epoch.
pub(crate) fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The instant `secs` seconds after the epoch (clamped far in the future instead of overflowing).
pub(crate) fn epoch_time(secs: u64) -> SystemTime {
    // State files are written by the agent's user: an absurd value must not overflow.
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .unwrap_or_else(|| UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX)))
}

/// Microseconds since the epoch, now.
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `2026-11-22T10:00:00.123Z` for a time in µs since the epoch (the events' own format).
pub(crate) fn iso_utc_us(us: u64) -> String {
    timestamp(UNIX_EPOCH + Duration::from_micros(us))
}

/// `2026-11-22T10:00:00Z` for seconds since the epoch.
pub(crate) fn iso_utc_s(secs: u64) -> String {
    let full = iso_utc_us(secs.saturating_mul(1_000_000));
    format!("{}Z", &full[..19])
}

/// Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z]` (UTC) into µs since the epoch.
pub(crate) fn parse_iso_us(text: &str) -> Option<u64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, t),
        None => (text, "00:00:00"),
    };
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let year = date_parts.next()??;
    let month = date_parts.next()??;
    let day = date_parts.next()??;
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut clock = hms.split(':').map(|p| p.parse::<i64>().ok());
    let hour = clock.next()??;
    let minute = clock.next().flatten().unwrap_or(0);
    let second = clock.next().flatten().unwrap_or(0);
    // Microseconds from at most six ASCII digits (the text may come from an agent-written file).
    let digits: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(6)
        .collect();
    let frac_us: i64 = format!("{digits:0<6}").parse().unwrap_or(0);
    let secs = days_from_civil(year, month, day)
        .checked_mul(86_400)?
        .checked_add(hour.checked_mul(3600)?)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)?;
    u64::try_from(secs.checked_mul(1_000_000)?.checked_add(frac_us)?).ok()
}

/// The subset of journalctl's `--since` syntax the mirror understands: an ISO time (UTC),
/// `@EPOCH`, `today`, `yesterday`, `now`, `N{s,m,min,h,d} ago` and `-N{unit}`.
pub(crate) fn parse_since(text: &str, now: u64) -> Result<u64> {
    let t = text.trim();
    let bad = || {
        Error::Usage(format!(
            "--since {text:?}: not a time (use \"2026-11-22 10:00\", \"1h ago\" or @EPOCH)"
        ))
    };
    if let Some(epoch) = t.strip_prefix('@') {
        let secs: f64 = epoch.parse().map_err(|_| bad())?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Ok((secs * 1e6) as u64);
    }
    let day = 86_400_000_000;
    match t {
        "now" => return Ok(now),
        "today" => return Ok(now - now % day),
        "yesterday" => return Ok((now - now % day).saturating_sub(day)),
        _ => {}
    }
    let relative = t
        .strip_suffix(" ago")
        .or_else(|| t.strip_prefix('-'))
        .map(str::trim);
    if let Some(rel) = relative {
        let digits: String = rel.chars().take_while(char::is_ascii_digit).collect();
        let n: u64 = digits.parse().map_err(|_| bad())?;
        let unit = match rel[digits.len()..].trim() {
            "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            _ => return Err(bad()),
        };
        let back = n.checked_mul(unit * 1_000_000).ok_or_else(bad)?;
        return Ok(now.saturating_sub(back));
    }
    parse_iso_us(t).ok_or_else(bad)
}

/// "12s", "4m05s", "3h12m", "2d04h" for a duration in seconds.
pub(crate) fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, (secs / 60) % 60),
        _ => format!("{}d{:02}h", secs / 86_400, (secs / 3600) % 24),
    }
}

/// "in 12s" / "3m05s ago" relative to now, for a time in µs since the epoch.
pub(crate) fn relative(us: u64, now: u64) -> String {
    if us >= now {
        format!("in {}", human_duration((us - now).div_ceil(1_000_000)))
    } else {
        format!("{} ago", human_duration((now - us) / 1_000_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_epoch_values_do_not_overflow() {
        assert!(epoch_time(u64::MAX) > UNIX_EPOCH);
        assert_eq!(
            epoch_time(5),
            UNIX_EPOCH + std::time::Duration::from_secs(5)
        );
    }

    #[test]
    fn timestamps_are_utc_iso() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_341_600_123);
        assert_eq!(timestamp(t), "2026-11-22T10:00:00.123Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn hostile_times_are_rejected_not_panicked_on() {
        assert_eq!(
            parse_iso_us("2026-01-01T10:00:00.aaaaaéZ"),
            Some(1_767_261_600_000_000)
        );
        assert_eq!(parse_iso_us("999999999999999-01-01"), None);
        assert_eq!(parse_iso_us("2026-01-01 99999999999999999:00"), None);
        assert!(parse_since("99999999999999999 days ago", 1_000_000).is_err());
        assert!(parse_since("2026-01-01 10:00:00.aaaaaé", 1_000_000).is_ok());
    }

    #[test]
    fn iso_times_round_trip() {
        let us = 1_795_341_600_123_000; // 2026-11-22T10:00:00.123Z
        assert_eq!(iso_utc_us(us), "2026-11-22T10:00:00.123Z");
        assert_eq!(parse_iso_us("2026-11-22T10:00:00.123Z"), Some(us));
        assert_eq!(parse_iso_us("2026-11-22 10:00"), Some(us - 123_000));
        assert_eq!(iso_utc_s(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_iso_us("yesterday"), None);
    }

    #[test]
    fn since_understands_relative_times() {
        let now = 10_000_000_000;
        assert_eq!(parse_since("1h ago", now).unwrap(), now - 3_600_000_000);
        assert_eq!(parse_since("-30s", now).unwrap(), now - 30_000_000);
        assert_eq!(parse_since("@5", now).unwrap(), 5_000_000);
        assert!(parse_since("soon", now).is_err());
    }
}
