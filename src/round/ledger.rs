//! The project's spend (`STATE/ledger.json`): USD and tokens of the current day, month and clock
//! hour (in the budget's zone), of this loop and in all, and the cost of the recent rounds, whose
//! median projects the next round's. Written after each round; read by the budget gate before a
//! round (one small file) and by `status`.
//!
//! The agent's user can write the state directory, so the file is hostile input: it is read with
//! no link followed, never waiting, at most [`LEDGER_MAX_BYTES`], and every number must be sane.
//! A ledger that fails any of that is rebuilt from the costs the events mirror recorded
//! (`round_end` carries each round's), and `ledger_rebuilt` says so: spend never silently starts
//! again from zero. An agent that rewrites both the ledger and the mirror can still hide its
//! spend from the budget; the journal's copy of every `round_end` cannot be rewritten by it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cost::Cost;
use crate::error::{Error, Result};
use std::io::Write as _;

use crate::fsutil::{Dir, Existing};
use crate::time::window::{self, Window};
use crate::time::zone::Zone;

/// The ledger's name inside the state directory.
pub(crate) const LEDGER_FILE: &str = "ledger.json";
/// A ledger is small (20 recent rounds and five tallies); anything bigger is not one.
const LEDGER_MAX_BYTES: u64 = 64 * 1024;
/// How many recent rounds the median (and the spike check) looks at.
pub(crate) const RECENT_ROUNDS: usize = 20;
/// Amounts at or above this are not believed.
const MAX_USD: f64 = 1e9;

/// Spend in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Tally {
    /// The window's first second (epoch).
    pub start: u64,
    /// The first second after it (epoch); 0: no window yet.
    pub end: u64,
    /// USD spent.
    pub usd: f64,
    /// Tokens used.
    pub tokens: u64,
    /// Rounds recorded.
    pub rounds: u64,
}

impl Tally {
    /// Whether the window holds `now`.
    pub(crate) fn holds(&self, now: u64) -> bool {
        self.start <= now && now < self.end
    }

    /// This tally while its window holds `now`, else an empty one for `window`.
    fn rolled(self, window: Window, now: u64) -> Tally {
        if self.holds(now) {
            self
        } else {
            Tally {
                start: window.start,
                end: window.end,
                ..Tally::default()
            }
        }
    }

    fn add(&mut self, cost: &Cost) {
        self.usd = (self.usd + cost.usd.unwrap_or(0.0)).min(MAX_USD);
        self.tokens = self.tokens.saturating_add(cost.tokens);
        self.rounds = self.rounds.saturating_add(1);
    }

    fn sane(&self) -> bool {
        self.usd.is_finite() && (0.0..MAX_USD).contains(&self.usd) && self.start <= self.end
    }
}

/// One recent round's spend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Spent {
    /// The round.
    pub round: u64,
    /// USD.
    pub usd: f64,
    /// Tokens.
    pub tokens: u64,
}

/// The content of `ledger.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Ledger {
    /// The local calendar day.
    pub day: Tally,
    /// The local calendar month.
    pub month: Tally,
    /// The local clock hour.
    pub hour: Tally,
    /// The current loop (its start is the loop's; it has no end).
    pub this_loop: Tally,
    /// Since the ledger began.
    pub total_usd: f64,
    /// Rounds that used tokens but whose cost is unknown (a model without a price).
    pub unpriced_rounds: u64,
    /// The newest rounds with a known cost, oldest first.
    pub recent: Vec<Spent>,
}

impl Ledger {
    /// Reads `dir/ledger.json`: `Ok(None)` when there is none yet, `Err` (what is wrong) when it
    /// cannot be believed.
    pub(crate) fn load(dir: &Path) -> Result<Option<Ledger>> {
        let read = Dir::open(dir).and_then(|d| d.read(Path::new(LEDGER_FILE), LEDGER_MAX_BYTES));
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(e)
                if e.io_source().map(std::io::Error::kind)
                    == Some(std::io::ErrorKind::NotFound) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let ledger: Ledger = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Failed(format!("{LEDGER_FILE} is not a ledger ({e})")))?;
        if ledger.sane() {
            Ok(Some(ledger))
        } else {
            Err(Error::Failed(format!(
                "{LEDGER_FILE} holds impossible amounts"
            )))
        }
    }

    /// Writes `dir/ledger.json` atomically: a new temporary file (no link followed), renamed
    /// into place. Not fsynced, to keep the round's exit quick: after a power cut the ledger may
    /// be the previous one or empty, and an empty one is rebuilt from the mirror (and told).
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| Error::Failed(e.to_string()))?;
        text.push(b'\n');
        let dir = Dir::open(dir)?;
        let tmp = format!(".{LEDGER_FILE}.{}", std::process::id());
        // A temporary file left by a runner that died with this pid, or a link in its place.
        dir.remove(&tmp);
        let written = dir
            .open_write(Path::new(&tmp), Existing::Refuse, 0o644)
            .and_then(|mut file| {
                file.write_all(&text)
                    .map_err(|e| Error::io("cannot write", dir.path().join(&tmp), e))
            })
            .and_then(|()| dir.rename(&tmp, LEDGER_FILE));
        if written.is_err() {
            dir.remove(&tmp);
        }
        written
    }

    /// Whether every window still holds `now` (then [`Ledger::at`] needs no zone).
    pub(crate) fn windows_hold(&self, now: u64) -> bool {
        self.day.holds(now) && self.month.holds(now) && self.hour.holds(now)
    }

    fn sane(&self) -> bool {
        [self.day, self.month, self.hour, self.this_loop]
            .iter()
            .all(Tally::sane)
            && self.total_usd.is_finite()
            && (0.0..MAX_USD).contains(&self.total_usd)
            && self.recent.len() <= RECENT_ROUNDS
            && self
                .recent
                .iter()
                .all(|s| s.usd.is_finite() && (0.0..MAX_USD).contains(&s.usd))
    }

    /// The ledger with every window moved to the one holding `now` (an elapsed window's spend
    /// is gone) and the loop's tally to the loop that started at `loop_start`.
    /// `zone` is needed only when a window ended (see [`Ledger::windows_hold`]); without one the
    /// host's is read.
    pub(crate) fn at(&self, zone: Option<&Zone>, now: u64, loop_start: Option<u64>) -> Ledger {
        let mut l = self.clone();
        if !l.windows_hold(now) {
            let host;
            let zone = if let Some(z) = zone {
                z
            } else {
                host = Zone::host_or_utc();
                &host
            };
            l.day = l.day.rolled(window::day(zone, now), now);
            l.month = l.month.rolled(window::month(zone, now), now);
            l.hour = l.hour.rolled(window::hour(zone, now), now);
        }
        let loop_start = loop_start.unwrap_or(now);
        if l.this_loop.start != loop_start || l.this_loop.end != u64::MAX {
            l.this_loop = Tally {
                start: loop_start,
                end: u64::MAX,
                ..Tally::default()
            };
        }
        l
    }

    /// Records round `round`'s spend at `now` (after [`Ledger::at`]).
    pub(crate) fn record(&mut self, round: u64, cost: &Cost) {
        for tally in [
            &mut self.day,
            &mut self.month,
            &mut self.hour,
            &mut self.this_loop,
        ] {
            tally.add(cost);
        }
        match cost.usd {
            Some(usd) => {
                self.total_usd = (self.total_usd + usd).min(MAX_USD);
                self.recent.push(Spent {
                    round,
                    usd,
                    tokens: cost.tokens,
                });
                let over = self.recent.len().saturating_sub(RECENT_ROUNDS);
                self.recent.drain(..over);
            }
            None if cost.tokens > 0 => {
                self.unpriced_rounds = self.unpriced_rounds.saturating_add(1);
            }
            None => {}
        }
    }

    /// The median cost of the recent rounds (`None`: none with a cost yet).
    pub(crate) fn median_usd(&self) -> Option<f64> {
        median(self.recent.iter().map(|s| s.usd))
    }

    /// The median tokens of the recent rounds.
    pub(crate) fn median_tokens(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss, reason = "token counts are below 2^53")]
        median(self.recent.iter().map(|s| s.tokens as f64))
    }
}

/// What the last round spent, kept in the state for `status` and `round_end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundSpend {
    /// The round.
    pub round: u64,
    /// Tokens used.
    pub tokens: u64,
    /// USD, when known.
    pub cost_usd: Option<f64>,
    /// agent or price_table.
    pub cost_source: Option<String>,
}

impl RoundSpend {
    /// Round `round`'s `cost`.
    pub(crate) fn of(round: u64, cost: &Cost) -> Self {
        Self {
            round,
            tokens: cost.tokens,
            cost_usd: cost.usd,
            cost_source: cost.source.map(|s| s.as_str().to_string()),
        }
    }
}

/// A budget that parked the loop, kept in the state until the first round after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BudgetPark {
    /// The budget (daily_usd, …), `account:NAME ` before it for an account's.
    pub budget: String,
    /// When the park began (epoch seconds).
    pub since: u64,
    /// When its window resets (epoch seconds).
    pub until: u64,
}

/// The median of `values` (the mean of the middle two for an even count).
pub(crate) fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        f64::midpoint(v[mid - 1], v[mid])
    } else {
        v[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(usd: f64, tokens: u64) -> Cost {
        Cost {
            usd: Some(usd),
            source: None,
            tokens,
        }
    }

    #[test]
    fn windows_roll_and_the_median_follows_the_recent_rounds() {
        let utc = Zone::host_or_utc();
        let utc = if Zone::named("UTC").is_ok() {
            Zone::named("UTC").unwrap()
        } else {
            utc
        };
        // 2026-11-22T10:00:00Z.
        let now = 1_795_341_600;
        let mut l = Ledger::default().at(Some(&utc), now, Some(now - 50));
        for round in 1..=25 {
            l.record(round, &cost(0.5, 100));
        }
        assert_eq!(l.recent.len(), RECENT_ROUNDS);
        assert_eq!(l.recent[0].round, 6);
        assert!((l.day.usd - 12.5).abs() < 1e-9);
        assert_eq!(l.median_usd(), Some(0.5));
        // The next hour: the hour's tally is new, the day's goes on.
        let later = l.at(Some(&utc), now + 3600, Some(now - 50));
        assert_eq!(later.hour.rounds, 0);
        assert_eq!(later.day.rounds, 25);
        // The next day and a new loop: both start afresh, the month goes on.
        let tomorrow = l.at(Some(&utc), now + 86_400, Some(now + 86_000));
        assert_eq!((tomorrow.day.rounds, tomorrow.this_loop.rounds), (0, 0));
        assert_eq!(tomorrow.month.rounds, 25);
        assert_eq!(median([3.0, 1.0, 2.0, 10.0].into_iter()), Some(2.5));
    }

    #[test]
    fn a_ledger_that_lies_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Ledger::load(dir.path()).unwrap(), None);
        let mut l = Ledger::default();
        l.record(1, &cost(1.0, 5));
        l.save(dir.path()).unwrap();
        assert_eq!(Ledger::load(dir.path()).unwrap(), Some(l));
        let path = dir.path().join(LEDGER_FILE);
        for bad in [
            "{garbage",
            r#"{"day":{"usd":-5}}"#,
            r#"{"total_usd":1e300}"#,
            r#"{"day":{"start":10,"end":1}}"#,
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(Ledger::load(dir.path()).is_err(), "{bad}");
        }
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
        assert!(Ledger::load(dir.path()).is_err());
    }
}
