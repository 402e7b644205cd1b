//! Calendar windows in a zone: the local day, month and clock hour an instant falls in, as epoch
//! seconds `[start, end)`. Budgets count spend per window and park the loop until its end.

use super::days_from_civil;
use super::zone::Zone;

/// A window of local time: `[start, end)` in epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// Its first second.
    pub start: u64,
    /// The first second after it.
    pub end: u64,
}

/// The local date (year, month, day) and seconds into that day at `t`.
fn local(zone: &Zone, t: i64) -> ((i64, i64, i64), i64) {
    let local = t + zone.offset_at(t);
    let days = local.div_euclid(86_400);
    let (y, m, d) = super::civil_from_days(u64::try_from(days).unwrap_or(0));
    let as_i64 = |v: u64| i64::try_from(v).unwrap_or(0);
    ((as_i64(y), as_i64(m), as_i64(d)), local.rem_euclid(86_400))
}

fn window(start: i64, end: i64) -> Window {
    let s = |v: i64| u64::try_from(v).unwrap_or(0);
    Window {
        start: s(start),
        end: s(end.max(start + 1)),
    }
}

/// The local calendar day around `now`.
pub(crate) fn day(zone: &Zone, now: u64) -> Window {
    let t = i64::try_from(now).unwrap_or(i64::MAX / 2);
    let ((y, m, d), _) = local(zone, t);
    let next = super::civil_from_days(u64::try_from(days_from_civil(y, m, d) + 1).unwrap_or(0));
    let as_i64 = |v: u64| i64::try_from(v).unwrap_or(0);
    window(
        zone.to_epoch(y, m, d, 0, 0),
        zone.to_epoch(as_i64(next.0), as_i64(next.1), as_i64(next.2), 0, 0),
    )
}

/// The local calendar month around `now`.
pub(crate) fn month(zone: &Zone, now: u64) -> Window {
    let t = i64::try_from(now).unwrap_or(i64::MAX / 2);
    let ((y, m, _), _) = local(zone, t);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    window(zone.to_epoch(y, m, 1, 0, 0), zone.to_epoch(ny, nm, 1, 0, 0))
}

/// The local clock hour around `now` (zones a half hour off UTC start theirs at :30 UTC).
pub(crate) fn hour(zone: &Zone, now: u64) -> Window {
    let t = i64::try_from(now).unwrap_or(i64::MAX / 2);
    let (_, secs) = local(zone, t);
    let start = t - secs.rem_euclid(3600);
    window(start, start + 3600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::zone::Rule;

    /// 2026-11-22T10:00:00Z.
    const NOV: u64 = 1_795_341_600;

    #[test]
    fn windows_follow_the_zone() {
        let utc = Zone::named("UTC").unwrap_or_else(|_| Zone::host_or_utc());
        let d = day(&utc, NOV);
        assert_eq!((d.start, d.end), (NOV - 10 * 3600, NOV + 14 * 3600));
        let h = hour(&utc, NOV + 59);
        assert_eq!((h.start, h.end), (NOV, NOV + 3600));
        let m = month(&utc, NOV);
        // 2026-11-01T00:00Z and 2026-12-01T00:00Z.
        assert_eq!((m.start, m.end), (1_793_491_200, 1_796_083_200));
        // Berlin is an hour east in November: its day starts at 23:00 UTC the day before.
        let berlin = Zone::from_rule(Rule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap());
        let d = day(&berlin, NOV);
        assert_eq!((d.start, d.end), (NOV - 11 * 3600, NOV + 13 * 3600));
        // India is 5:30 east: its hours start at :30 UTC.
        let india = Zone::from_rule(Rule::parse("IST-5:30").unwrap());
        assert_eq!(hour(&india, NOV).start, NOV - 1800);
    }
}
