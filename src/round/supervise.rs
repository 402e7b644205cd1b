//! Watching a running agent: one thread, one `poll(2)` over the output pipe, a signalfd (SIGCHLD
//! and the stop signals) and the check-in socket, with every deadline (hard timeout, check-in,
//! grace after the terminal marker, watchdog, kill escalation) turned into the poll timeout.
//!
//! Output goes from a fixed 64 KiB buffer straight to the round log and through the line scanner;
//! nothing grows with the volume of output. When and how the agent is stopped is [`super::stop`]'s.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use sd_notify::NotifyState;

use super::classify::Ending;
use super::logs::LogWriter;
use super::notify::{EXTEND_SLACK, SysWatchdog, notify, usec};
use super::procs::{self, Proc};
use super::retries::{Retry, RetryWatch};
use super::scan::Scanner;
use super::stop::{AFTER_KILL, KillReason, Killing, Limits, Stage, kill_survivors};

/// Read buffer size: the only buffer output passes through.
const CHUNK: usize = 64 * 1024;
/// How often STATUS= is refreshed while nothing else happens.
const STATUS_EVERY: Duration = Duration::from_secs(10);
/// WATCHDOG=1 is sent at most this often while output flows.
const PING_EVERY: Duration = Duration::from_secs(1);
/// Once the leader has exited, how often /proc is scanned for what it left behind.
const MEMBERS_EVERY: Duration = Duration::from_millis(100);
/// Once the leader has exited and its group is gone, how long the pipe may stay open (a
/// descendant outside the group holding it).
const PIPE_AFTER_EXIT: Duration = Duration::from_secs(1);

/// Things worth an event while the round runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Note<'a> {
    /// The agent showed life: `via` is `output` or `checkin`.
    CheckedIn {
        /// How.
        via: &'static str,
        /// How long after the spawn.
        after: Duration,
    },
    /// The agent began a burst of retries of a failed request.
    Retrying {
        /// Which burst of the round.
        burst: u32,
        /// Its first retry record.
        retry: &'a Retry,
    },
    /// The grace period ended with workers still alive.
    GraceExtended {
        /// Workers that keep the round alive.
        live: &'a [Proc],
        /// Workers ignored by pattern.
        ignored: &'a [Proc],
        /// The grace that was given.
        grace: Duration,
    },
}

/// What the supervision saw of the agent's run.
#[derive(Debug)]
pub(crate) struct Supervised {
    /// How the agent's run ended.
    pub ending: Ending,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Spawn to exit.
    pub duration: Duration,
    /// Whether it checked in.
    pub checked_in: bool,
    /// Output bytes.
    pub bytes: u64,
    /// Why the runner killed it, if it did.
    pub killed: Option<KillReason>,
    /// Processes that outlived the agent and were killed.
    pub orphans: Vec<Proc>,
    /// Round processes still alive at the end (0 unless something resisted SIGKILL).
    pub survivors: usize,
    /// Why the round log is incomplete (a full disk…), if a write failed.
    pub log_error: Option<String>,
}

impl Supervised {
    /// Whether the round log holds all of the output.
    pub(crate) fn log_complete(&self) -> bool {
        self.log_error.is_none()
    }
}

/// The running agent and everything needed to watch it.
pub(crate) struct Watch<'a> {
    /// The agent's pid (also its process group).
    pub pid: i32,
    /// Read end of the merged stdout+stderr pipe.
    pub output: OwnedFd,
    /// The round log.
    pub log: LogWriter<'a>,
    /// The line scanner.
    pub scanner: &'a mut Scanner,
    /// The signalfd (SIGCHLD, SIGTERM, SIGINT, SIGHUP blocked and routed here).
    pub signals: &'a SignalFd,
    /// The check-in socket, if one could be bound.
    pub checkin: Option<&'a UnixDatagram>,
    /// The limits.
    pub limits: &'a Limits,
    /// "round 7 (build)" for STATUS lines.
    pub label: &'a str,
}

impl Watch<'_> {
    /// Runs until the agent and everything it started are gone.
    pub(crate) fn run(self, note: &mut dyn FnMut(Note<'_>)) -> Supervised {
        // Start-up is over and the agent has had time to start; what the rest of the round runs
        // is mapped again on use. Not earlier: unmapping while the agent's exec runs beside it
        // delayed the agent's first instruction (measured).
        crate::memory::drop_mapped_code();
        let mut w = Watching::new(self);
        loop {
            let now = Instant::now();
            if w.round_over(now) {
                break;
            }
            w.check_deadlines(now);
            w.check_grace(now, note);
            w.check_kill(now);
            let silence_counts = w.silence_counts();
            w.keep_watchdog_alive(now, silence_counts);
            w.refresh_status(now);
            let ready = w.wait(now, silence_counts);
            if ready.signals {
                w.read_signals();
            }
            if ready.output {
                w.read_output(note);
            }
            if ready.checkin {
                w.read_checkins(note);
            }
        }
        w.finish()
    }
}

/// Which of the poll's descriptors have something.
struct Ready {
    signals: bool,
    output: bool,
    checkin: bool,
}

/// The watch while it runs: every timer and what has been seen so far.
struct Watching<'a> {
    watch: Watch<'a>,
    start: Instant,
    /// The runner's own pid (never signalled, the root of the round's process tree).
    me: i32,
    buf: Vec<u8>,
    pipe_open: bool,
    /// When the leader exited, and how.
    leader: Option<(Instant, WaitStatus)>,
    checked_in: bool,
    marker_at: Option<Instant>,
    grace_decided: bool,
    killing: Option<Killing>,
    last_output: Instant,
    watchdog: SysWatchdog,
    last_status: Instant,
    bytes: u64,
    orphans: Vec<Proc>,
    members_checked_at: Option<Instant>,
    retry_watch: RetryWatch,
}

impl<'a> Watching<'a> {
    fn new(watch: Watch<'a>) -> Self {
        let start = Instant::now();
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        let buf = vec![0u8; CHUNK];
        let watchdog = SysWatchdog::new(start);
        Self {
            watch,
            start,
            me,
            buf,
            pipe_open: true,
            leader: None,
            checked_in: false,
            marker_at: None,
            grace_decided: false,
            killing: None,
            last_output: start,
            watchdog,
            last_status: start,
            bytes: 0,
            orphans: Vec::new(),
            members_checked_at: None,
            retry_watch: RetryWatch::default(),
        }
    }

    /// Whether the round is over: the leader is gone and so is the rest of its processes (those
    /// left behind are killed as orphans), or a kill has been given up on.
    fn round_over(&mut self, now: Instant) -> bool {
        let Some((ended, _)) = self.leader else {
            return false;
        };
        let pgid = self.watch.pid;
        if procs::maybe_alive(pgid) {
            let scan_due = self
                .members_checked_at
                .is_none_or(|t| now - t >= MEMBERS_EVERY);
            if scan_due {
                self.members_checked_at = Some(now);
                let live: Vec<Proc> = procs::round_members(pgid, self.me)
                    .into_iter()
                    .filter(Proc::live)
                    .collect();
                if live.is_empty() {
                    if !self.pipe_open {
                        return true;
                    }
                } else if self.killing.is_none() {
                    self.orphans = live;
                    self.start_kill(KillReason::Orphans, Stage::Term);
                }
            }
        } else if !self.pipe_open || now - ended > PIPE_AFTER_EXIT {
            return true;
        }
        self.killing.as_ref().is_some_and(|k| k.given_up(now))
    }

    /// The hard timeout, the check-in deadline and the watchdog, while the agent runs and nothing
    /// is stopping it yet.
    fn check_deadlines(&mut self, now: Instant) {
        if self.leader.is_some() || self.killing.is_some() {
            return;
        }
        let lim = self.watch.limits;
        let why = if now >= self.start + lim.timeout {
            KillReason::Timeout
        } else if !self.checked_in && now >= self.start + lim.checkin_timeout {
            KillReason::NoCheckin
        } else if self.checked_in
            && self.marker_at.is_none()
            && lim.watchdog.is_some_and(|w| {
                now >= self.last_output + w || self.watchdog.expires().is_some_and(|e| now >= e)
            })
        {
            KillReason::Watchdog
        } else {
            return;
        };
        notify(&[
            NotifyState::ExtendTimeoutUsec(usec(lim.term_grace + EXTEND_SLACK)),
            NotifyState::Status(&format!(
                "{}: stopping the agent ({why:?})",
                self.watch.label
            )),
        ]);
        self.start_kill(why, Stage::Term);
    }

    /// The grace after the terminal marker, once: no live workers left → grace kill; some → an
    /// event, and the hard timeout decides.
    fn check_grace(&mut self, now: Instant, note: &mut dyn FnMut(Note<'_>)) {
        if self.leader.is_some() || self.killing.is_some() || self.grace_decided {
            return;
        }
        let lim = self.watch.limits;
        let (Some(at), Some(grace)) = (self.marker_at, lim.grace_after_result) else {
            return;
        };
        if now < at + grace {
            return;
        }
        self.grace_decided = true;
        let members = procs::round_members(self.watch.pid, self.me);
        let (live, ignored) = procs::live_workers(&members, self.watch.pid, &lim.ignore);
        if live.is_empty() {
            self.start_kill(KillReason::GraceKill, Stage::Term);
        } else {
            note(Note::GraceExtended {
                live: &live,
                ignored: &ignored,
                grace,
            });
        }
    }

    /// The next, harsher stage of a kill in progress, when it is due.
    fn check_kill(&mut self, now: Instant) {
        if self.killing.as_ref().is_some_and(|k| now >= k.next) {
            self.escalate();
            notify(&[NotifyState::Watchdog]);
        }
    }

    /// Whether the agent's silence counts against watchdog_s (and systemd's watchdog is left to
    /// expire with it).
    fn silence_counts(&self) -> bool {
        self.watch.limits.watchdog.is_some()
            && self.checked_in
            && self.marker_at.is_none()
            && self.killing.is_none()
            && self.leader.is_none()
    }

    fn keep_watchdog_alive(&mut self, now: Instant, silence_counts: bool) {
        if !silence_counts && self.watchdog.due().is_some_and(|d| now >= d) {
            self.watchdog.ping(now);
        }
    }

    fn refresh_status(&mut self, now: Instant) {
        if now - self.last_status >= STATUS_EVERY {
            self.last_status = now;
            let status = format!(
                "{}: running {}s, last output {}s ago{}",
                self.watch.label,
                (now - self.start).as_secs(),
                (now - self.last_output).as_secs(),
                self.retry_watch.suffix(now)
            );
            notify(&[NotifyState::Status(&status)]);
        }
    }

    /// Sleeps in one poll(2) until something happens or the next deadline.
    fn wait(&self, now: Instant, silence_counts: bool) -> Ready {
        let mut next = self.next_deadline(now);
        let watchdog_at = if silence_counts {
            self.watchdog.expires()
        } else {
            self.watchdog.due()
        };
        if let Some(t) = watchdog_at {
            next = next.min(t.max(now));
        }
        let timeout = PollTimeout::try_from(next.saturating_duration_since(Instant::now()))
            .unwrap_or(PollTimeout::MAX);
        let mut fds = Vec::with_capacity(3);
        fds.push(PollFd::new(self.watch.signals.as_fd(), PollFlags::POLLIN));
        if self.pipe_open {
            fds.push(PollFd::new(self.watch.output.as_fd(), PollFlags::POLLIN));
        }
        if let Some(sock) = self.watch.checkin {
            fds.push(PollFd::new(sock.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => {
                // Cannot wait: fall back to a short sleep rather than spinning or dying.
                let _ = writeln!(std::io::stderr(), "agent-runner: poll failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(PollFd::revents)
                .is_some_and(|r| !r.is_empty())
        };
        Ready {
            signals: ready(0),
            output: self.pipe_open && ready(1),
            checkin: self.watch.checkin.is_some() && ready(if self.pipe_open { 2 } else { 1 }),
        }
    }

    /// The earliest of the deadlines that apply now (never in the past).
    fn next_deadline(&self, now: Instant) -> Instant {
        let lim = self.watch.limits;
        let leader_gone = self.leader.is_some();
        let mut next = self.last_status + STATUS_EVERY;
        let mut consider = |t: Instant| next = next.min(t);
        if leader_gone {
            consider(now + MEMBERS_EVERY);
        }
        match &self.killing {
            Some(k) => {
                consider(k.next);
                if k.stage == Stage::Kill {
                    consider(k.next + AFTER_KILL);
                }
            }
            None if !leader_gone => {
                consider(self.start + lim.timeout);
                if !self.checked_in {
                    consider(self.start + lim.checkin_timeout);
                }
                if let (Some(at), Some(grace), false) =
                    (self.marker_at, lim.grace_after_result, self.grace_decided)
                {
                    consider(at + grace);
                }
                if let (Some(w), true, None) = (lim.watchdog, self.checked_in, self.marker_at) {
                    consider(self.last_output + w);
                }
            }
            None => {}
        }
        next.max(now)
    }

    /// SIGCHLD reaps; a stop signal stops the agent (a repeated one escalates at once).
    fn read_signals(&mut self) {
        while let Ok(Some(info)) = self.watch.signals.read_signal() {
            let Ok(sig) = Signal::try_from(i32::try_from(info.ssi_signo).unwrap_or(0)) else {
                continue;
            };
            match sig {
                Signal::SIGCHLD => reap(self.watch.pid, &mut self.leader),
                Signal::SIGTERM | Signal::SIGINT | Signal::SIGHUP => self.interrupted(sig),
                _ => {}
            }
        }
        // SIGCHLD can coalesce: always look for an exited leader.
        reap(self.watch.pid, &mut self.leader);
    }

    fn interrupted(&mut self, sig: Signal) {
        let lim = self.watch.limits;
        notify(&[
            NotifyState::ExtendTimeoutUsec(usec(lim.coop_grace + lim.term_grace + EXTEND_SLACK)),
            NotifyState::Status(&format!(
                "{}: {sig} received, stopping the agent",
                self.watch.label
            )),
        ]);
        if self.killing.is_some() {
            // A repeated signal escalates at once.
            self.escalate();
        } else {
            let first = Killing::first_stage_when_interrupted(lim);
            self.start_kill(KillReason::Interrupted(sig), first);
        }
    }

    fn read_output(&mut self, note: &mut dyn FnMut(Note<'_>)) {
        match nix::unistd::read(&self.watch.output, &mut self.buf) {
            Ok(0) => self.pipe_open = false,
            Ok(n) => self.took_output(n, note),
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(_) => self.pipe_open = false,
        }
    }

    /// `n` bytes of output in the buffer: to the round log (masked), through the scanner; the
    /// first one is the agent's check-in, and output feeds systemd's watchdog.
    fn took_output(&mut self, n: usize, note: &mut dyn FnMut(Note<'_>)) {
        self.bytes += n as u64;
        self.watch.log.write(&self.buf[..n]);
        let now = Instant::now();
        self.last_output = now;
        if !self.checked_in {
            self.checked_in = true;
            self.announce_checkin("output", note);
        }
        if self.watch.scanner.feed(&self.buf[..n]) {
            self.marker_at = Some(now);
        }
        let retries = &mut self.watch.scanner.findings.retries;
        for (burst, retry) in self.retry_watch.check(retries, now, self.watch.label) {
            note(Note::Retrying {
                burst,
                retry: &retry,
            });
        }
        if now - self.watchdog.last >= PING_EVERY {
            self.watchdog.ping(now);
        }
    }

    fn read_checkins(&mut self, note: &mut dyn FnMut(Note<'_>)) {
        let Some(sock) = self.watch.checkin else {
            return;
        };
        let mut small = [0u8; 64];
        while sock.recv(&mut small).is_ok() {
            if !self.checked_in {
                self.checked_in = true;
                self.announce_checkin("checkin", note);
            }
        }
    }

    fn announce_checkin(&self, via: &'static str, note: &mut dyn FnMut(Note<'_>)) {
        let status = format!("{}: agent checked in ({via})", self.watch.label);
        notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
        note(Note::CheckedIn {
            via,
            after: self.start.elapsed(),
        });
    }

    fn start_kill(&mut self, why: KillReason, stage: Stage) {
        let killing = Killing::start(why, stage, self.watch.pid, self.me, self.watch.limits);
        self.killing = Some(killing);
    }

    fn escalate(&mut self) {
        if let Some(k) = &mut self.killing {
            k.escalate(self.watch.pid, self.me, self.watch.limits);
        }
    }

    /// After the loop: the last partial line, the held-back masked bytes, no survivors, and what
    /// the agent's run came to.
    fn finish(mut self) -> Supervised {
        // A last line without a newline still counts.
        self.watch.scanner.finish();
        let log_error = self.watch.log.finish();
        let survivors = kill_survivors(self.watch.pid, self.me);
        reap(self.watch.pid, &mut self.leader);

        let (ended, status) = self
            .leader
            .unwrap_or((Instant::now(), WaitStatus::StillAlive));
        let (exit_code, signal) = match status {
            WaitStatus::Exited(_, code) => (Some(code), None),
            WaitStatus::Signaled(_, sig, _) => (None, Some(sig as i32)),
            _ => (None, None),
        };
        let killed = self.killing.map(|k| k.why);
        Supervised {
            ending: ending(killed, exit_code, signal),
            exit_code,
            signal,
            duration: ended.saturating_duration_since(self.start),
            checked_in: self.checked_in,
            bytes: self.bytes,
            killed,
            orphans: self.orphans,
            survivors,
            log_error,
        }
    }
}

/// How the agent's run ended: the runner's reason when it killed the agent, else its exit.
fn ending(killed: Option<KillReason>, exit_code: Option<i32>, signal: Option<i32>) -> Ending {
    match killed {
        Some(KillReason::Timeout | KillReason::Watchdog) => Ending::Timeout,
        Some(KillReason::GraceKill) => Ending::GraceKill,
        Some(KillReason::NoCheckin) => Ending::NoCheckin,
        Some(KillReason::Interrupted(_)) => Ending::Interrupted,
        Some(KillReason::Orphans) | None => match (exit_code, signal) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(sig)) => Ending::Signaled(sig),
            (None, None) => Ending::Signaled(Signal::SIGKILL as i32),
        },
    }
}

/// Reaps every exited child (the runner is a subreaper: orphans of the agent end up here too) and
/// records the leader's status.
fn reap(leader_pid: i32, leader: &mut Option<(Instant, WaitStatus)>) {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => break,
            Ok(status) => {
                if status.pid() == Some(Pid::from_raw(leader_pid)) && leader.is_none() {
                    *leader = Some((Instant::now(), status));
                }
            }
        }
    }
}
