//! The agent CLI's own retries: claude's `api_retry` records, codex's "Reconnecting... n/5", kimi's
//! `turn.step.retrying`, aider's "Retrying in …". A CLI can spend minutes in its back-off (claude
//! retries a 429 ten times over about three minutes), which the round would otherwise show only as
//! silence. Retries come in bursts: retry records with no progress of the agent in between. Each
//! burst is announced once (an `agent_retrying` event) and followed on the service's STATUS line,
//! however many retry lines the agent prints.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

use super::failure::Cause;
use super::notify::notify;

/// Bursts announced per round at most; later ones are only counted (round_end's agent_retries).
pub(crate) const MAX_ANNOUNCED_BURSTS: u32 = 20;
/// The STATUS line follows the retries at most this often.
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// One retry record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Retry {
    /// The failed request's HTTP status, when the agent said it.
    pub status: Option<u16>,
    /// What the failure was about, when it can be told.
    pub cause: Option<Cause>,
    /// The attempt number, when the agent counts.
    pub attempt: Option<u64>,
    /// The most attempts the agent makes, when it says.
    pub max_retries: Option<u64>,
    /// The agent's wait before the next attempt, when it says.
    pub delay_ms: Option<u64>,
    /// The record, shortened.
    pub raw: String,
}

impl Retry {
    /// "429, rate_limit_model, attempt 3/10".
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("HTTP {s}"));
        }
        if let Some(c) = self.cause {
            parts.push(c.as_str().to_string());
        }
        match (self.attempt, self.max_retries) {
            (Some(a), Some(m)) => parts.push(format!("attempt {a}/{m}")),
            (Some(a), None) => parts.push(format!("attempt {a}")),
            _ => {}
        }
        if let Some(ms) = self.delay_ms {
            parts.push(format!(
                "next in {:.1}s",
                Duration::from_millis(ms).as_secs_f64()
            ));
        }
        parts.join(", ")
    }
}

/// The retries of one round so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Retries {
    /// Retry records seen.
    pub count: u64,
    /// Bursts begun.
    pub bursts: u32,
    /// Whether the newest burst is still open (no progress since its last retry).
    open: bool,
    /// The last retry record.
    last: Option<Retry>,
    /// The first record of each burst not yet announced (at most [`MAX_ANNOUNCED_BURSTS`] in a
    /// round, so at most that many ever wait here).
    announce: Vec<(u32, Retry)>,
}

impl Retries {
    /// The agent said it retries a failed request.
    pub(crate) fn record(&mut self, retry: Retry) {
        self.count = self.count.saturating_add(1);
        if !self.open {
            self.open = true;
            self.bursts = self.bursts.saturating_add(1);
            if self.bursts <= MAX_ANNOUNCED_BURSTS {
                self.announce.push((self.bursts, retry.clone()));
            }
        }
        self.last = Some(retry);
    }

    /// The agent made progress, or gave its final answer: the burst, if one was open, is over.
    pub(crate) fn progress(&mut self) {
        self.open = false;
    }

    /// The last retry of a burst that nothing followed: what the agent was retrying when it ended.
    pub(crate) fn unresolved(&self) -> Option<&Retry> {
        self.last.as_ref().filter(|_| self.open)
    }

    /// The first record of each burst begun since the last call, with its number.
    pub(crate) fn take_announcements(&mut self) -> Vec<(u32, Retry)> {
        std::mem::take(&mut self.announce)
    }
}

/// What the supervisor shows of the retries: the STATUS line (at most once a second) and how long
/// the current burst has lasted.
#[derive(Debug, Default)]
pub(crate) struct RetryWatch {
    seen: u64,
    status_at: Option<Instant>,
    since: Option<Instant>,
}

impl RetryWatch {
    /// After output was scanned: updates STATUS when new retries came, and returns the bursts
    /// begun since, to announce.
    pub(crate) fn check(
        &mut self,
        retries: &mut Retries,
        now: Instant,
        label: &str,
    ) -> Vec<(u32, Retry)> {
        if !retries.open {
            self.since = None;
        }
        if retries.count == self.seen {
            return Vec::new();
        }
        self.seen = retries.count;
        let announce = retries.take_announcements();
        if !announce.is_empty() || self.since.is_none() {
            self.since = Some(now);
        }
        let due = self
            .status_at
            .is_none_or(|t| now.duration_since(t) >= STATUS_EVERY);
        if due && let Some(last) = &retries.last {
            self.status_at = Some(now);
            let status = format!(
                "{label}: the agent is retrying a failed request ({})",
                last.describe()
            );
            notify(&[NotifyState::Status(&status)]);
        }
        announce
    }

    /// For the periodic STATUS line: "; retrying for 42s" while a burst lasts.
    pub(crate) fn suffix(&self, now: Instant) -> String {
        self.since.map_or_else(String::new, |since| {
            format!(
                "; the agent has been retrying for {}s",
                now.duration_since(since).as_secs()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(attempt: u64) -> Retry {
        Retry {
            status: Some(429),
            attempt: Some(attempt),
            ..Retry::default()
        }
    }

    #[test]
    fn one_announcement_per_burst_and_a_bounded_number_of_them() {
        let mut r = Retries::default();
        for a in 1..=10 {
            r.record(retry(a));
        }
        let first: Vec<_> = r
            .take_announcements()
            .into_iter()
            .map(|(b, x)| (b, x.attempt))
            .collect();
        assert_eq!(first, [(1, Some(1))]);
        assert!(r.take_announcements().is_empty());
        assert_eq!(r.unresolved().and_then(|x| x.attempt), Some(10));
        r.progress();
        assert_eq!(r.unresolved(), None);
        r.record(retry(1));
        r.progress();
        r.record(retry(1));
        let bursts: Vec<u32> = r.take_announcements().into_iter().map(|(b, _)| b).collect();
        assert_eq!(bursts, [2, 3], "bursts between two looks are all announced");
        // A flood of bursts: only the first ones are announced, all are counted.
        let mut flood = Retries::default();
        let mut watch = RetryWatch::default();
        let now = Instant::now();
        let mut announced = 0;
        for _ in 0..10_000 {
            flood.record(retry(1));
            flood.record(retry(2));
            announced += watch.check(&mut flood, now, "round 1").len();
            flood.progress();
        }
        assert_eq!(flood.count, 20_000);
        assert_eq!(flood.bursts, 10_000);
        assert_eq!(announced, MAX_ANNOUNCED_BURSTS as usize);
    }

    #[test]
    fn the_watch_follows_the_burst() {
        let mut r = Retries::default();
        let mut watch = RetryWatch::default();
        let t0 = Instant::now();
        assert!(watch.check(&mut r, t0, "round 1").is_empty());
        r.record(retry(1));
        assert_eq!(watch.check(&mut r, t0, "round 1").len(), 1);
        r.record(retry(2));
        assert!(
            watch
                .check(&mut r, t0 + Duration::from_secs(5), "round 1")
                .is_empty()
        );
        assert_eq!(
            watch.suffix(t0 + Duration::from_secs(7)),
            "; the agent has been retrying for 7s"
        );
        r.progress();
        watch.check(&mut r, t0 + Duration::from_secs(8), "round 1");
        assert_eq!(watch.suffix(t0 + Duration::from_secs(9)), "");
        assert_eq!(retry(3).describe(), "HTTP 429, attempt 3");
    }
}
