//! Run and pause windows of local time (`"mon-fri 08:00-20:00"`): whether the loop may start an
//! agent now and, when not, when it may next. A window belongs to the day it starts on and may wrap
//! past midnight. Membership follows the wall clock: a local time that occurs twice (the hour the
//! clocks go back) counts from its first reading to its last, one that does not occur (the hour
//! they skip) is the moment the clock jumps.

use super::zone::Zone;

/// How far ahead the next opening is searched; beyond it the gate looks again.
pub(crate) const SEARCH_DAYS: i64 = 8;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MINUTES_PER_DAY: u32 = 24 * 60;

/// One window: the weekdays it starts on and its local start and end, in minutes after midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    /// Bit 0 = Monday … bit 6 = Sunday.
    days: u8,
    start: u32,
    /// 1..=1440; at or before `start` the window ends on the next day.
    end: u32,
    text: String,
}

impl Spec {
    /// Parses `"[DAYS ]HH:MM-HH:MM"`, DAYS a comma list of days (`mon`…`sun`) and ranges
    /// (`mon-fri`, `fri-mon`); the error says what is wrong in a few words.
    pub(crate) fn parse(text: &str) -> Result<Spec, String> {
        let trimmed = text.trim();
        let (days, times) = match trimmed.rsplit_once(' ') {
            Some((days, times)) => (parse_days(days.trim())?, times),
            None => (0x7f, trimmed),
        };
        let (start, end) = times
            .split_once('-')
            .ok_or("expected HH:MM-HH:MM after the optional days")?;
        let start = parse_clock(start, false)?;
        let end = parse_clock(end, true)?;
        if start == end % MINUTES_PER_DAY && end != MINUTES_PER_DAY {
            return Err("the window starts and ends at the same time".into());
        }
        Ok(Spec {
            days,
            start,
            end,
            text: trimmed.to_string(),
        })
    }

    fn starts_on(&self, weekday: i64) -> bool {
        u32::try_from(weekday).is_ok_and(|w| self.days & (1 << w) != 0)
    }
}

fn parse_days(text: &str) -> Result<u8, String> {
    let day = |name: &str| {
        DAY_NAMES
            .iter()
            .position(|d| d.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| format!("unknown day \"{}\" (use mon, tue, … sun)", name.trim()))
    };
    let mut days = 0u8;
    for part in text.split(',') {
        let (from, to) = match part.split_once('-') {
            Some((from, to)) => (day(from)?, day(to)?),
            None => (day(part)?, day(part)?),
        };
        let mut d = from;
        loop {
            days |= 1 << d;
            if d == to {
                break;
            }
            d = (d + 1) % 7;
        }
    }
    Ok(days)
}

/// `HH:MM` as minutes after midnight; `24:00` only as an end.
fn parse_clock(text: &str, is_end: bool) -> Result<u32, String> {
    let bad = || format!("\"{}\" is not a time HH:MM", text.trim());
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (24, 0) if is_end => Ok(MINUTES_PER_DAY),
        (24, 0) => Err("24:00 is allowed only as the end of a window".into()),
        (0..=23, 0..=59) => Ok(h * 60 + m),
        _ => Err(bad()),
    }
}

/// The windows of a project and the zone they are read in.
/// A window is shown (in `config --json`) as written.
impl serde::Serialize for Spec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Windows<'a> {
    /// Where agents may run; none: always.
    pub run: &'a [Spec],
    /// Where they may not, even inside a run window.
    pub pause: &'a [Spec],
    pub zone: &'a Zone,
}

/// Whether an agent may start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    Open,
    Closed(Closed),
}

/// Why and until when no agent may start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Closed {
    /// The pause window in force, `None` when it is outside every run window.
    pub pause: Option<String>,
    /// When the next opening is, `None` when none lies within [`SEARCH_DAYS`].
    pub resume_at: Option<u64>,
    /// When the gate looks again: the opening, else the end of the search.
    pub recheck_at: u64,
}

impl Windows<'_> {
    /// Whether an agent may start at `now`, and if not, when next.
    pub(crate) fn gate(&self, now: u64) -> Gate {
        if self.run.is_empty() && self.pause.is_empty() {
            return Gate::Open;
        }
        let now = i64::try_from(now).unwrap_or(i64::MAX / 4);
        let horizon = now + SEARCH_DAYS * 86_400;
        let run = self.intervals(self.run, now);
        let pause = self.intervals(self.pause, now);
        let open = |t: i64| {
            (self.run.is_empty() || run.iter().any(|i| i.0 <= t && t < i.1))
                && !pause.iter().any(|i| i.0 <= t && t < i.1)
        };
        if open(now) {
            return Gate::Open;
        }
        let in_pause = pause
            .iter()
            .find(|i| i.0 <= now && now < i.1)
            .map(|i| i.2.to_string());
        let resume_at = run
            .iter()
            .map(|i| i.0)
            .chain(pause.iter().map(|i| i.1))
            .filter(|&t| t > now && t <= horizon && open(t))
            .min();
        let as_u64 = |t: i64| u64::try_from(t).unwrap_or(0);
        Gate::Closed(Closed {
            pause: in_pause,
            resume_at: resume_at.map(as_u64),
            recheck_at: as_u64(resume_at.unwrap_or(horizon)),
        })
    }

    /// The windows of `specs` that start from the day before `now` to past the search horizon,
    /// as `[start, end)` epoch seconds with their text; empty ones (skipped by a clock change)
    /// are left out.
    fn intervals<'s>(&self, specs: &'s [Spec], now: i64) -> Vec<(i64, i64, &'s str)> {
        let today = (now + self.zone.offset_at(now)).div_euclid(86_400);
        let mut out = Vec::new();
        for day in today - 1..=today + SEARCH_DAYS + 1 {
            // 1970-01-01 was a Thursday (Monday = 0).
            let weekday = (day + 3).rem_euclid(7);
            for spec in specs.iter().filter(|s| s.starts_on(weekday)) {
                let start_day = day * 86_400;
                let end_day = if spec.end <= spec.start {
                    start_day + 86_400
                } else {
                    start_day
                };
                let start = first_reading(self.zone, start_day + i64::from(spec.start) * 60);
                let end = last_reading(self.zone, end_day + i64::from(spec.end) * 60);
                if end > start {
                    out.push((start, end, spec.text.as_str()));
                }
            }
        }
        out
    }
}

/// The instants whose wall clock reads `local` (seconds since the epoch, local time): one, two
/// when the clocks go back over it, none when they skip it; also the nearest other offsets.
fn readings(zone: &Zone, local: i64) -> (Vec<i64>, i64, i64) {
    let before = local - zone.offset_at(local - 86_400);
    let after = local - zone.offset_at(local + 86_400);
    let mut found: Vec<i64> = [before, after]
        .into_iter()
        .filter(|&t| t + zone.offset_at(t) == local)
        .collect();
    found.sort_unstable();
    found.dedup();
    (found, before.min(after), before.max(after))
}

/// The first instant the wall clock reads `local`, or the jump over it.
fn first_reading(zone: &Zone, local: i64) -> i64 {
    let (found, lo, hi) = readings(zone, local);
    found.first().copied().unwrap_or_else(|| jump(zone, lo, hi))
}

/// The last instant the wall clock reads `local`, or the jump over it.
fn last_reading(zone: &Zone, local: i64) -> i64 {
    let (found, lo, hi) = readings(zone, local);
    found.last().copied().unwrap_or_else(|| jump(zone, lo, hi))
}

/// The first second in `(lo, hi]` whose offset differs from `lo`'s: the clock change.
fn jump(zone: &Zone, mut lo: i64, mut hi: i64) -> i64 {
    let first = zone.offset_at(lo);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if zone.offset_at(mid) == first {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// `t` as the local weekday, date and time in `zone`, for messages (`mon 2026-11-23 08:00`).
pub(crate) fn local_text(zone: &Zone, t: u64) -> String {
    let t = i64::try_from(t).unwrap_or(0);
    let local = t + zone.offset_at(t);
    let days = local.div_euclid(86_400);
    let (y, m, d) = super::civil_from_days(u64::try_from(days).unwrap_or(0));
    let secs = local.rem_euclid(86_400);
    let weekday = DAY_NAMES[usize::try_from((days + 3).rem_euclid(7)).unwrap_or(0)];
    format!(
        "{weekday} {y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests;
