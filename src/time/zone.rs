//! The host's local time, for the one reset time an agent prints only as a wall-clock time: codex's
//! "try again at 7:42 PM" is in the zone codex runs in, which is the round's own (`$TZ`, else
//! /etc/localtime). The zone file (TZif, RFC 8536) is read with its POSIX rule for the times after
//! its last transition, which is all a modern ("slim") file holds for today. Anything that cannot
//! be read or understood makes the time unknown, never a guess.

use std::io::Read as _;
use std::path::Path;

use super::days_from_civil;

/// Zone files are small (Europe/Berlin: 2.3 KiB); a bigger one is not read.
const MAX_ZONE_FILE: u64 = 256 * 1024;

/// The epoch seconds of the local wall time `year-month-day hour:minute` in the host's zone.
pub(crate) fn to_epoch(year: i64, month: i64, day: i64, hour: i64, minute: i64) -> Option<i64> {
    Some(Zone::host()?.to_epoch(year, month, day, hour, minute))
}

/// The host's local date (year, month, day) at epoch seconds `t`.
pub(crate) fn date_at(t: i64) -> Option<(i64, i64, i64)> {
    let local = t + Zone::host()?.offset_at(t);
    Some(civil(local.div_euclid(86_400)))
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil(days: i64) -> (i64, i64, i64) {
    // Days before 1970 do not occur here: a reset time is within days of now.
    let (y, m, d) = crate::time::civil_from_days(u64::try_from(days).unwrap_or(0));
    (
        i64::try_from(y).unwrap_or(0),
        i64::try_from(m).unwrap_or(0),
        i64::try_from(d).unwrap_or(0),
    )
}

/// A time zone: its transitions (epoch seconds, UTC offset in seconds east) and the rule that
/// holds after the last one (or always, for a zone given as a rule).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Zone {
    transitions: Vec<(i64, i64)>,
    /// The offset before the first transition.
    initial: i64,
    rule: Option<Rule>,
}

/// Where the IANA zone files are.
const ZONEINFO: &str = "/usr/share/zoneinfo";

impl Zone {
    /// The zone an IANA name (`Europe/Berlin`, `UTC`) names, from its file below
    /// /usr/share/zoneinfo (read bounded). The name is checked first: no absolute path, no `.` or
    /// `..` component, only the characters zone names use.
    pub(crate) fn named(name: &str) -> Result<Zone, &'static str> {
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
            && name.split('/').all(|part| !part.is_empty());
        if !well_formed {
            return Err("not an IANA zone name");
        }
        let bytes = read_bounded(&Path::new(ZONEINFO).join(name))
            .ok_or("no such zone in /usr/share/zoneinfo")?;
        Zone::from_tzif(&bytes).ok_or("its zone file is not a valid TZif file")
    }

    /// The zone a POSIX rule alone describes.
    #[cfg(test)]
    pub(crate) fn from_rule(rule: Rule) -> Zone {
        Zone {
            transitions: Vec::new(),
            initial: rule.std,
            rule: Some(rule),
        }
    }

    /// The host's zone, UTC when it cannot be read.
    pub(crate) fn host_or_utc() -> Zone {
        Zone::host().unwrap_or_else(|| Zone::fixed(0))
    }

    /// The host's zone: `$TZ` (a rule, a zone name or a file), else /etc/localtime, else UTC.
    fn host() -> Option<Zone> {
        match std::env::var("TZ") {
            Err(_) => match read_bounded(Path::new("/etc/localtime")) {
                Some(bytes) => Zone::from_tzif(&bytes),
                None => Some(Zone::fixed(0)),
            },
            Ok(tz) => Zone::from_tz(&tz),
        }
    }

    fn fixed(offset: i64) -> Zone {
        Zone {
            transitions: Vec::new(),
            initial: offset,
            rule: None,
        }
    }

    /// The zone `$TZ` names: empty is UTC, `/path` a zone file, `Area/City` a file under
    /// /usr/share/zoneinfo, anything else a POSIX rule (`CET-1CEST,M3.5.0,M10.5.0/3`).
    fn from_tz(tz: &str) -> Option<Zone> {
        let tz = tz.strip_prefix(':').unwrap_or(tz);
        if tz.is_empty() {
            return Some(Zone::fixed(0));
        }
        if tz.starts_with('/') {
            return Zone::from_tzif(&read_bounded(Path::new(tz))?);
        }
        let is_name = tz
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
            && !tz.contains("..");
        if is_name && let Some(bytes) = read_bounded(&Path::new(ZONEINFO).join(tz)) {
            return Zone::from_tzif(&bytes);
        }
        Rule::parse(tz).map(|rule| Zone {
            transitions: Vec::new(),
            initial: rule.std,
            rule: Some(rule),
        })
    }

    /// A TZif file: version 1 data, or the 64-bit data and footer rule of versions 2 and later.
    pub(crate) fn from_tzif(b: &[u8]) -> Option<Zone> {
        let v1 = Block::read(b, 4)?;
        if b.get(4).copied().unwrap_or(0) < b'2' {
            return v1.zone(None);
        }
        let rest = b.get(v1.end..)?;
        let v2 = Block::read(rest, 8)?;
        let footer = rest.get(v2.end..)?;
        let rule = footer
            .strip_prefix(b"\n")
            .and_then(|f| f.split(|&c| c == b'\n').next())
            .and_then(|r| std::str::from_utf8(r).ok())
            .filter(|r| !r.is_empty())
            .and_then(Rule::parse);
        v2.zone(rule)
    }

    /// The UTC offset (seconds east) in force at epoch seconds `t`.
    pub(crate) fn offset_at(&self, t: i64) -> i64 {
        let after_last = self.transitions.last().is_none_or(|&(last, _)| t >= last);
        if after_last && let Some(rule) = &self.rule {
            return rule.offset_at(t);
        }
        match self.transitions.partition_point(|&(at, _)| at <= t) {
            0 => self.initial,
            i => self.transitions[i - 1].1,
        }
    }

    /// The epoch seconds of a local wall time (at a change of offset, the earlier reading).
    pub(crate) fn to_epoch(&self, y: i64, mo: i64, d: i64, h: i64, mi: i64) -> i64 {
        let local = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60;
        let guess = local - self.offset_at(local);
        local - self.offset_at(guess)
    }
}

/// One data block of a TZif file: where it ends and what it holds.
struct Block<'a> {
    data: &'a [u8],
    time_size: usize,
    timecnt: usize,
    typecnt: usize,
    end: usize,
}

impl<'a> Block<'a> {
    /// The header at the start of `b` and the data after it; times are `time_size` bytes.
    fn read(b: &'a [u8], time_size: usize) -> Option<Self> {
        if b.get(..4)? != b"TZif" {
            return None;
        }
        let count = |i: usize| -> Option<usize> {
            let bytes: [u8; 4] = b.get(20 + 4 * i..24 + 4 * i)?.try_into().ok()?;
            usize::try_from(u32::from_be_bytes(bytes)).ok()
        };
        let (isut, isstd, leap, timecnt, typecnt, chars) = (
            count(0)?,
            count(1)?,
            count(2)?,
            count(3)?,
            count(4)?,
            count(5)?,
        );
        if typecnt == 0 {
            return None;
        }
        let len = timecnt
            .checked_mul(time_size + 1)?
            .checked_add(typecnt.checked_mul(6)?)?
            .checked_add(chars)?
            .checked_add(leap.checked_mul(time_size + 4)?)?
            .checked_add(isstd)?
            .checked_add(isut)?;
        let end = 44usize.checked_add(len)?;
        Some(Self {
            data: b.get(44..end)?,
            time_size,
            timecnt,
            typecnt,
            end,
        })
    }

    fn zone(&self, rule: Option<Rule>) -> Option<Zone> {
        let times = self.data.get(..self.timecnt * self.time_size)?;
        let indexes = self.data.get(times.len()..times.len() + self.timecnt)?;
        let types = self
            .data
            .get(times.len() + indexes.len()..)?
            .get(..6 * self.typecnt)?;
        let offset = |i: u8| -> Option<i64> {
            let at = 6 * usize::from(i);
            let bytes: [u8; 4] = types.get(at..at + 4)?.try_into().ok()?;
            Some(i64::from(i32::from_be_bytes(bytes)))
        };
        let mut transitions = Vec::with_capacity(self.timecnt);
        for (chunk, &index) in times.chunks_exact(self.time_size).zip(indexes) {
            let at = if self.time_size == 8 {
                i64::from_be_bytes(chunk.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(chunk.try_into().ok()?))
            };
            transitions.push((at, offset(index)?));
        }
        Some(Zone {
            transitions,
            initial: offset(0)?,
            rule,
        })
    }
}

/// A POSIX TZ rule: the standard offset and, when the zone has one, daylight saving time with the
/// local times it starts and ends (`Mm.w.d/time`). Offsets are seconds east of UTC.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    std: i64,
    dst: Option<(i64, Change, Change)>,
}

/// When daylight saving time starts or ends: the `week`th (5 = last) `weekday` (0 = Sunday) of
/// `month`, at `time` seconds after local midnight.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Change {
    month: i64,
    week: i64,
    weekday: i64,
    time: i64,
}

impl Rule {
    /// Parses `std offset [dst [offset] [,start[/time],end[/time]]]`; only the `M` form of dates.
    pub(crate) fn parse(text: &str) -> Option<Rule> {
        let rest = skip_name(text)?;
        let (std_west, rest) = offset(rest)?;
        let std = -std_west;
        if rest.is_empty() {
            return Some(Rule { std, dst: None });
        }
        let rest = skip_name(rest)?;
        let (dst, rest) = if rest.starts_with(',') {
            (std + 3600, rest)
        } else {
            let (west, rest) = offset(rest)?;
            (-west, rest)
        };
        let rest = rest.strip_prefix(',')?;
        let (start, end) = rest.split_once(',')?;
        Some(Rule {
            std,
            dst: Some((dst, Change::parse(start)?, Change::parse(end)?)),
        })
    }

    fn offset_at(&self, t: i64) -> i64 {
        let Some((dst, start, end)) = self.dst else {
            return self.std;
        };
        let (year, _, _) = civil((t + self.std).div_euclid(86_400));
        let starts = start.local(year) - self.std;
        let ends = end.local(year) - dst;
        let in_dst = if starts < ends {
            starts <= t && t < ends
        } else {
            !(ends <= t && t < starts)
        };
        if in_dst { dst } else { self.std }
    }
}

impl Change {
    fn parse(text: &str) -> Option<Change> {
        let (date, time) = match text.split_once('/') {
            Some((d, t)) => (d, offset(t).filter(|(_, rest)| rest.is_empty())?.0),
            None => (text, 7200),
        };
        let mut parts = date.strip_prefix('M')?.split('.');
        let mut next = |range: std::ops::RangeInclusive<i64>| {
            parts
                .next()
                .and_then(|p| p.parse::<i64>().ok())
                .filter(|n| range.contains(n))
        };
        Some(Change {
            month: next(1..=12)?,
            week: next(1..=5)?,
            weekday: next(0..=6)?,
            time,
        })
    }

    /// The change in `year` as local seconds since the epoch.
    fn local(self, year: i64) -> i64 {
        let first = days_from_civil(year, self.month, 1);
        let (ny, nm) = if self.month == 12 {
            (year + 1, 1)
        } else {
            (year, self.month + 1)
        };
        let month_days = days_from_civil(ny, nm, 1) - first;
        // 1970-01-01 was a Thursday (weekday 4).
        let first_weekday = (first + 4).rem_euclid(7);
        let mut day = (self.weekday - first_weekday).rem_euclid(7) + 7 * (self.week - 1);
        if day >= month_days {
            day -= 7;
        }
        (first + day) * 86_400 + self.time
    }
}

/// The text after a zone abbreviation (`CET`, `<+0330>`).
fn skip_name(text: &str) -> Option<&str> {
    if let Some(quoted) = text.strip_prefix('<') {
        return quoted.split_once('>').map(|(_, rest)| rest);
    }
    let end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    (end >= 3).then(|| &text[end..])
}

/// `[+-]hh[:mm[:ss]]` as seconds, and the text after it.
fn offset(text: &str) -> Option<(i64, &str)> {
    let (sign, text) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(text.len());
    let mut secs = 0;
    for (i, part) in text[..end].split(':').enumerate() {
        let n: i64 = part.parse().ok().filter(|n| *n < 200)?;
        secs += n * [3600, 60, 1].get(i)?;
    }
    Some((sign * secs, &text[end..]))
}

fn read_bounded(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_ZONE_FILE).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22T10:00:00Z.
    const NOV: i64 = 1_795_341_600;
    /// 2026-07-01T12:00:00Z.
    const JULY: i64 = 1_782_907_200;

    #[test]
    fn posix_rules_give_the_offset_of_the_season() {
        let berlin = Rule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        assert_eq!(berlin.offset_at(NOV), 3600);
        assert_eq!(berlin.offset_at(JULY), 7200);
        let new_york = Rule::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(new_york.offset_at(NOV), -5 * 3600);
        assert_eq!(new_york.offset_at(JULY), -4 * 3600);
        // The southern hemisphere's summer spans the new year.
        let sydney = Rule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(sydney.offset_at(NOV), 11 * 3600);
        assert_eq!(sydney.offset_at(JULY), 10 * 3600);
        assert_eq!(Rule::parse("<+0530>-5:30").unwrap().offset_at(NOV), 19_800);
        for bad in [
            "",
            "X",
            "CET",
            "CET-1CEST,J60,J300",
            "CET-1CEST,M13.1.0,M1.1.0",
            "UTC999",
        ] {
            assert_eq!(Rule::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_change_day_is_the_right_sunday() {
        // 2026: the last Sunday of March is the 29th, the first of November the 1st.
        let last_march = Change::parse("M3.5.0").unwrap();
        assert_eq!(
            last_march.local(2026),
            days_from_civil(2026, 3, 29) * 86_400 + 7200
        );
        let first_november = Change::parse("M11.1.0/1:30").unwrap();
        assert_eq!(
            first_november.local(2026),
            days_from_civil(2026, 11, 1) * 86_400 + 5400
        );
    }

    #[test]
    fn a_zone_file_is_read_with_its_footer() {
        let path = Path::new("/usr/share/zoneinfo/Europe/Berlin");
        let Some(bytes) = read_bounded(path) else {
            return; // no zoneinfo on this host: the rule tests above still run
        };
        let zone = Zone::from_tzif(&bytes).unwrap();
        assert_eq!(zone.offset_at(NOV), 3600);
        assert_eq!(zone.offset_at(JULY), 7200);
        // 1990-01-01 is before the footer takes over.
        assert_eq!(zone.offset_at(631_152_000), 3600);
        // 19:42 in Berlin on 2026-11-22 is 18:42 UTC.
        assert_eq!(
            zone.to_epoch(2026, 11, 22, 19, 42),
            NOV + 8 * 3600 + 42 * 60
        );
    }

    #[test]
    fn broken_zone_files_are_unknown() {
        for bad in [
            &b""[..],
            b"TZif",
            b"TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            b"NotAZoneFileAtAllxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ] {
            assert_eq!(Zone::from_tzif(bad), None);
        }
        // Counts that promise more than the file holds.
        let mut huge = b"TZif2".to_vec();
        huge.resize(44, 0);
        huge[32..36].copy_from_slice(&u32::MAX.to_be_bytes());
        huge[36..40].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(Zone::from_tzif(&huge), None);
    }
}
