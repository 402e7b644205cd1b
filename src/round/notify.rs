//! Telling systemd how the round goes — sd_notify(3): READY=1, STATUS=, EXTEND_TIMEOUT_USEC= —
//! and keeping its watchdog fed. Every call is a no-op without `$NOTIFY_SOCKET`.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// How much longer than a kill needs the service's start/stop timeout is extended.
pub(crate) const EXTEND_SLACK: Duration = Duration::from_secs(10);

/// Tells systemd (a no-op without `$NOTIFY_SOCKET`).
pub(crate) fn notify(states: &[NotifyState<'_>]) {
    let _ = sd_notify::notify(states);
}

/// `d` in whole microseconds, as EXTEND_TIMEOUT_USEC= takes it.
pub(crate) fn usec(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// systemd's watchdog (`WatchdogSec=` → `$WATCHDOG_USEC`). It is fed by output while the agent's
/// silence counts (checked in, working, watchdog_s set), and kept alive otherwise (before check-in,
/// during grace and kills, when no watchdog_s is configured): systemd then only fires for a wedged
/// runner, and the runner ends a silent agent itself just before systemd would, so the round still
/// gets its events and state.
pub(crate) struct SysWatchdog {
    period: Option<Duration>,
    /// The last ping.
    pub last: Instant,
}

impl SysWatchdog {
    pub(crate) fn new(now: Instant) -> Self {
        let mut w = Self {
            period: sd_notify::watchdog_enabled(),
            last: now,
        };
        w.ping(now);
        w
    }

    pub(crate) fn ping(&mut self, now: Instant) {
        if self.period.is_some() {
            notify(&[NotifyState::Watchdog]);
            self.last = now;
        }
    }

    /// When the next keep-alive ping is due.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.period.map(|p| self.last + p / 3)
    }

    /// When the runner must act on a silent agent so that systemd does not fire first.
    pub(crate) fn expires(&self) -> Option<Instant> {
        self.period
            .map(|p| self.last + p.saturating_sub((p / 4).min(Duration::from_secs(1))))
    }
}
