//! When and how a round stops its agent: the round's time limits, why the runner kills the agent,
//! and the escalation — the agent's own stop signal, then SIGTERM, then SIGKILL (repeated), each
//! given its grace — sent to the process group and to every descendant /proc shows.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use regex::Regex;

use super::procs;
use crate::config::{Project, StopSignal};

/// How long the agent's cooperative stop signal is given before SIGTERM.
const COOP_GRACE: Duration = Duration::from_secs(5);
/// How long SIGTERM is given before SIGKILL.
pub(crate) const TERM_GRACE: Duration = Duration::from_secs(5);
/// How often SIGKILL is repeated (to catch late forks).
const KILL_REPEAT: Duration = Duration::from_millis(500);
/// After SIGKILL, how long to wait for the pipe to close before giving up on it.
pub(crate) const AFTER_KILL: Duration = Duration::from_secs(2);

/// The time limits of one round.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Hard limit.
    pub timeout: Duration,
    /// Time to first output or check-in.
    pub checkin_timeout: Duration,
    /// Grace after the terminal marker (`None`: no grace kill).
    pub grace_after_result: Option<Duration>,
    /// Longest silence once checked in (`None`: no watchdog).
    pub watchdog: Option<Duration>,
    /// The agent's cooperative stop signal.
    pub stop_signal: Signal,
    /// How long the cooperative signal is given before SIGTERM.
    pub coop_grace: Duration,
    /// How long SIGTERM is given before SIGKILL.
    pub term_grace: Duration,
    /// Command lines that never keep a finished round alive.
    pub ignore: Vec<Regex>,
}

impl Limits {
    /// The limits of a round of `project` whose hard limit is `timeout_s` (its phase's, if any).
    pub(crate) fn of(project: &Project, timeout_s: u64) -> Self {
        Self {
            timeout: Duration::from_secs(timeout_s),
            checkin_timeout: Duration::from_secs(project.runtime.checkin_timeout_s),
            grace_after_result: project
                .runtime
                .max_grace_after_result_s
                .filter(|_| project.agent.terminal_marker.is_some())
                .map(Duration::from_secs),
            watchdog: project.runtime.watchdog_s.map(Duration::from_secs),
            stop_signal: match project.agent.stop_signal {
                StopSignal::Int => Signal::SIGINT,
                StopSignal::Term => Signal::SIGTERM,
            },
            coop_grace: COOP_GRACE,
            term_grace: TERM_GRACE,
            ignore: project.runtime.grace_kill_ignore_patterns.clone(),
        }
    }
}

/// Why the runner is killing the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillReason {
    /// round_timeout_s.
    Timeout,
    /// No output for watchdog_s.
    Watchdog,
    /// Lingering after the terminal marker with no live workers.
    GraceKill,
    /// No check-in in time.
    NoCheckin,
    /// The runner got this signal.
    Interrupted(Signal),
    /// The agent exited and left processes behind.
    Orphans,
}

/// A kill in progress: the stage reached and when the next, harsher one is due.
pub(crate) struct Killing {
    /// Why.
    pub why: KillReason,
    /// The signal last sent.
    pub stage: Stage,
    /// When the next stage is due.
    pub next: Instant,
}

/// The stages of a kill, each harsher than the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The agent's own stop signal (`stop_signal`).
    Coop,
    /// SIGTERM.
    Term,
    /// SIGKILL.
    Kill,
}

impl Killing {
    /// Sends the signal of `stage` to the round (group `pgid`, descendants of `me`) and notes when
    /// the next stage is due.
    pub(crate) fn start(why: KillReason, stage: Stage, pgid: i32, me: i32, lim: &Limits) -> Self {
        let (signal, wait) = match stage {
            Stage::Coop => (lim.stop_signal, lim.coop_grace),
            Stage::Term => (Signal::SIGTERM, lim.term_grace),
            Stage::Kill => (Signal::SIGKILL, KILL_REPEAT),
        };
        procs::signal_all(pgid, me, signal);
        Self {
            why,
            stage,
            next: Instant::now() + wait,
        }
    }

    /// The first stage of a kill because the runner was told to stop: the agent's own stop signal,
    /// unless that is SIGTERM anyway.
    pub(crate) fn first_stage_when_interrupted(lim: &Limits) -> Stage {
        if lim.stop_signal == Signal::SIGTERM {
            Stage::Term
        } else {
            Stage::Coop
        }
    }

    /// Moves to the next, harsher stage (SIGKILL is repeated to catch late forks).
    pub(crate) fn escalate(&mut self, pgid: i32, me: i32, lim: &Limits) {
        let stage = match self.stage {
            Stage::Coop => Stage::Term,
            Stage::Term | Stage::Kill => Stage::Kill,
        };
        *self = Self::start(self.why, stage, pgid, me, lim);
    }

    /// Whether SIGKILL has been sent long enough ago to stop waiting for the pipe to close.
    pub(crate) fn given_up(&self, now: Instant) -> bool {
        self.stage == Stage::Kill && now >= self.next + AFTER_KILL
    }
}

/// Nothing of the round may survive it: SIGKILL to whatever of group `pgid` and the descendants
/// of `me` still lives. Returns how many processes resisted.
pub(crate) fn kill_survivors(pgid: i32, me: i32) -> usize {
    let live = || {
        procs::round_members(pgid, me)
            .iter()
            .filter(|p| p.live())
            .count()
    };
    let survivors = if procs::maybe_alive(pgid) { live() } else { 0 };
    if survivors == 0 {
        return 0;
    }
    procs::signal_all(pgid, me, Signal::SIGKILL);
    std::thread::sleep(Duration::from_millis(50));
    live()
}
