//! Watching a running agent: one thread, one `poll(2)` over the output pipe, a signalfd (SIGCHLD
//! and the stop signals) and the check-in socket, with every deadline (hard timeout, check-in,
//! grace after the terminal marker, watchdog, kill escalation) turned into the poll timeout.
//!
//! Output goes from a fixed 64 KiB buffer straight to the round log and through the line scanner;
//! nothing grows with the volume of output.

use std::fs::File;
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
use regex::Regex;
use sd_notify::NotifyState;

use super::classify::Ending;
use super::procs::{self, Proc};
use super::scan::Scanner;

/// Read buffer size: the only buffer output passes through.
const CHUNK: usize = 64 * 1024;
/// How often STATUS= is refreshed while nothing else happens.
const STATUS_EVERY: Duration = Duration::from_secs(10);
/// WATCHDOG=1 is sent at most this often while output flows.
const PING_EVERY: Duration = Duration::from_secs(1);

/// systemd's watchdog (`WatchdogSec=` → `$WATCHDOG_USEC`). It is fed by output while the agent's
/// silence counts (checked in, working, watchdog_s set), and kept alive otherwise (before check-in,
/// during grace and kills, when no watchdog_s is configured): systemd then only fires for a wedged
/// runner, and the runner ends a silent agent itself just before systemd would, so the round still
/// gets its events and state.
struct SysWatchdog {
    period: Option<Duration>,
    last: Instant,
}

impl SysWatchdog {
    fn new(now: Instant) -> Self {
        let mut w = Self {
            period: sd_notify::watchdog_enabled(),
            last: now,
        };
        w.ping(now);
        w
    }

    fn ping(&mut self, now: Instant) {
        if self.period.is_some() {
            notify(&[NotifyState::Watchdog]);
            self.last = now;
        }
    }

    /// When the next keep-alive ping is due.
    fn due(&self) -> Option<Instant> {
        self.period.map(|p| self.last + p / 3)
    }

    /// When the runner must act on a silent agent so that systemd does not fire first.
    fn expires(&self) -> Option<Instant> {
        self.period
            .map(|p| self.last + p.saturating_sub((p / 4).min(Duration::from_secs(1))))
    }
}
/// After SIGKILL, how long to wait for the pipe to close before giving up on it.
const AFTER_KILL: Duration = Duration::from_secs(2);

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

/// Why the runner is killing the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
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

/// Things worth an event while the round runs.
#[derive(Debug)]
pub(crate) enum Note<'a> {
    /// The agent showed life: `via` is `output` or `checkin`.
    CheckedIn {
        /// How.
        via: &'static str,
        /// How long after the spawn.
        after: Duration,
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

/// What happened.
#[derive(Debug)]
pub(crate) struct Report {
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
    pub killed: Option<Why>,
    /// Processes that outlived the agent and were killed.
    pub orphans: Vec<Proc>,
    /// Round processes still alive at the end (0 unless something resisted SIGKILL).
    pub survivors: usize,
    /// A problem writing the round log (disk full…), if any.
    pub log_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_across_chunk_boundaries() {
        let mut m = Masker::new(vec![b"hunter2-secret".to_vec(), b"abcdef".to_vec()]).unwrap();
        let mut log = Vec::new();
        let mut out = Vec::new();
        for chunk in [
            &b"pass=hunter2-se"[..],
            b"cret and abc",
            b"def, ok\n",
            b"tail",
        ] {
            m.filter(chunk, &mut out);
            log.extend_from_slice(&out);
        }
        log.extend_from_slice(&m.carry);
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "pass=[REDACTED] and [REDACTED], ok\ntail"
        );
        assert!(Masker::new(vec![]).is_none());
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Coop,
    Term,
    Kill,
}

struct Killing {
    why: Why,
    stage: Stage,
    next: Instant,
}

/// Tells systemd (a no-op without `$NOTIFY_SOCKET`).
pub(crate) fn notify(states: &[NotifyState<'_>]) {
    let _ = sd_notify::notify(states);
}

/// The running agent and everything needed to watch it.
pub(crate) struct Watch<'a> {
    /// The agent's pid (also its process group).
    pub pid: i32,
    /// Read end of the merged stdout+stderr pipe.
    pub output: OwnedFd,
    /// The round log.
    pub log: &'a mut File,
    /// The line scanner.
    pub scanner: &'a mut Scanner,
    /// The signalfd (SIGCHLD, SIGTERM, SIGINT, SIGHUP blocked and routed here).
    pub signals: &'a SignalFd,
    /// The check-in socket, if one could be bound.
    pub checkin: Option<&'a UnixDatagram>,
    /// The limits.
    pub limits: &'a Limits,
    /// "round 7 (build)" for STATUS lines.
    pub label: String,
    /// Credential values to mask in the round log (empty: the log is the raw output).
    pub secrets: Vec<Vec<u8>>,
}

impl Watch<'_> {
    /// Runs until the agent and everything it started are gone.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn run(mut self, note: &mut dyn FnMut(Note<'_>)) -> Report {
        let start = Instant::now();
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        let pgid = self.pid;
        let lim = self.limits;
        let mut buf = vec![0u8; CHUNK];
        let mut pipe_open = true;
        let mut leader: Option<(Instant, WaitStatus)> = None;
        let mut checked_in = false;
        let mut marker_at: Option<Instant> = None;
        let mut grace_decided = false;
        let mut killing: Option<Killing> = None;
        let mut last_output = start;
        let mut watchdog = SysWatchdog::new(start);
        let mut last_status = start;
        let mut bytes: u64 = 0;
        let mut orphans = Vec::new();
        let mut log_error = None;
        let mut members_checked_at: Option<Instant> = None;
        let mut masker = Masker::new(std::mem::take(&mut self.secrets));
        let mut to_log = Vec::new();

        loop {
            let now = Instant::now();

            // The leader is gone: the round ends once the rest of its processes are gone too.
            if let Some((ended, _)) = leader {
                if procs::maybe_alive(pgid) {
                    let scan_due =
                        members_checked_at.is_none_or(|t| now - t >= Duration::from_millis(100));
                    if scan_due {
                        members_checked_at = Some(now);
                        let live: Vec<Proc> = procs::round_members(pgid, me)
                            .into_iter()
                            .filter(Proc::live)
                            .collect();
                        if live.is_empty() {
                            if !pipe_open {
                                break;
                            }
                        } else if killing.is_none() {
                            orphans = live;
                            killing = Some(start_kill(Why::Orphans, Stage::Term, pgid, me, lim));
                        }
                    }
                } else if !pipe_open || now - ended > Duration::from_secs(1) {
                    break;
                }
                if let Some(k) = &killing
                    && k.stage == Stage::Kill
                    && now >= k.next + AFTER_KILL
                {
                    break;
                }
            }

            // Deadlines.
            if leader.is_none() && killing.is_none() {
                let why = if now >= start + lim.timeout {
                    Some(Why::Timeout)
                } else if !checked_in && now >= start + lim.checkin_timeout {
                    Some(Why::NoCheckin)
                } else if checked_in
                    && marker_at.is_none()
                    && lim.watchdog.is_some_and(|w| {
                        now >= last_output + w || watchdog.expires().is_some_and(|e| now >= e)
                    })
                {
                    Some(Why::Watchdog)
                } else {
                    None
                };
                if let Some(why) = why {
                    notify(&[
                        NotifyState::ExtendTimeoutUsec(usec(
                            lim.term_grace + Duration::from_secs(10),
                        )),
                        NotifyState::Status(&format!(
                            "{}: stopping the agent ({why:?})",
                            self.label
                        )),
                    ]);
                    killing = Some(start_kill(why, Stage::Term, pgid, me, lim));
                }
            }
            if leader.is_none()
                && killing.is_none()
                && !grace_decided
                && let (Some(at), Some(grace)) = (marker_at, lim.grace_after_result)
                && now >= at + grace
            {
                grace_decided = true;
                let members = procs::round_members(pgid, me);
                let (live, ignored) = procs::live_workers(&members, self.pid, &lim.ignore);
                if live.is_empty() {
                    killing = Some(start_kill(Why::GraceKill, Stage::Term, pgid, me, lim));
                } else {
                    note(Note::GraceExtended {
                        live: &live,
                        ignored: &ignored,
                        grace,
                    });
                }
            }
            if let Some(k) = &mut killing
                && now >= k.next
            {
                advance(k, pgid, me, lim);
                notify(&[NotifyState::Watchdog]);
            }
            let silence_counts = lim.watchdog.is_some()
                && checked_in
                && marker_at.is_none()
                && killing.is_none()
                && leader.is_none();
            if !silence_counts && watchdog.due().is_some_and(|d| now >= d) {
                watchdog.ping(now);
            }
            if now - last_status >= STATUS_EVERY {
                last_status = now;
                let status = format!(
                    "{}: running {}s, last output {}s ago",
                    self.label,
                    (now - start).as_secs(),
                    (now - last_output).as_secs()
                );
                notify(&[NotifyState::Status(&status)]);
            }

            // Sleep until something happens or the next deadline.
            let mut next = self.next_deadline(
                now,
                start,
                checked_in,
                marker_at,
                grace_decided,
                last_output,
                last_status,
                killing.as_ref(),
                leader.is_some(),
            );
            let watchdog_at = if silence_counts {
                watchdog.expires()
            } else {
                watchdog.due()
            };
            if let Some(t) = watchdog_at {
                next = next.min(t.max(now));
            }
            let timeout = PollTimeout::try_from(next.saturating_duration_since(Instant::now()))
                .unwrap_or(PollTimeout::MAX);
            let mut fds = Vec::with_capacity(3);
            fds.push(PollFd::new(self.signals.as_fd(), PollFlags::POLLIN));
            if pipe_open {
                fds.push(PollFd::new(self.output.as_fd(), PollFlags::POLLIN));
            }
            if let Some(sock) = self.checkin {
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
            let sig_ready = ready(0);
            let pipe_ready = pipe_open && ready(1);
            let sock_ready = self.checkin.is_some() && ready(if pipe_open { 2 } else { 1 });
            drop(fds);

            if sig_ready {
                while let Ok(Some(info)) = self.signals.read_signal() {
                    let Ok(sig) = Signal::try_from(i32::try_from(info.ssi_signo).unwrap_or(0))
                    else {
                        continue;
                    };
                    match sig {
                        Signal::SIGCHLD => reap(self.pid, &mut leader),
                        Signal::SIGTERM | Signal::SIGINT | Signal::SIGHUP => {
                            notify(&[
                                NotifyState::ExtendTimeoutUsec(usec(
                                    lim.coop_grace + lim.term_grace + Duration::from_secs(10),
                                )),
                                NotifyState::Status(&format!(
                                    "{}: {sig} received, stopping the agent",
                                    self.label
                                )),
                            ]);
                            match &mut killing {
                                None => {
                                    let first = if lim.stop_signal == Signal::SIGTERM {
                                        Stage::Term
                                    } else {
                                        Stage::Coop
                                    };
                                    killing = Some(start_kill(
                                        Why::Interrupted(sig),
                                        first,
                                        pgid,
                                        me,
                                        lim,
                                    ));
                                }
                                // A repeated signal escalates at once.
                                Some(k) => advance(k, pgid, me, lim),
                            }
                        }
                        _ => {}
                    }
                }
                // SIGCHLD can coalesce: always look for an exited leader.
                reap(self.pid, &mut leader);
            }

            if pipe_ready {
                match nix::unistd::read(&self.output, &mut buf) {
                    Ok(0) => pipe_open = false,
                    Ok(n) => {
                        let chunk = &buf[..n];
                        bytes += n as u64;
                        let written = match &mut masker {
                            None => self.log.write_all(chunk),
                            Some(m) => {
                                m.filter(chunk, &mut to_log);
                                self.log.write_all(&to_log)
                            }
                        };
                        if let Err(e) = written
                            && log_error.is_none()
                        {
                            log_error = Some(e.to_string());
                        }
                        let now = Instant::now();
                        last_output = now;
                        if !checked_in {
                            checked_in = true;
                            self.checked_in("output", start, note);
                        }
                        if self.scanner.feed(chunk) {
                            marker_at = Some(now);
                        }
                        if now - watchdog.last >= PING_EVERY {
                            watchdog.ping(now);
                        }
                    }
                    Err(Errno::EINTR | Errno::EAGAIN) => {}
                    Err(_) => pipe_open = false,
                }
            }

            if sock_ready && let Some(sock) = self.checkin {
                let mut small = [0u8; 64];
                while sock.recv(&mut small).is_ok() {
                    if !checked_in {
                        checked_in = true;
                        self.checked_in("checkin", start, note);
                    }
                }
            }
        }

        if self.scanner.finish() && marker_at.is_none() {
            marker_at = Some(Instant::now());
        }
        let _ = marker_at;
        if let Some(m) = &mut masker {
            let _ = self.log.write_all(&m.carry);
        }
        let _ = self.log.flush();

        // Nothing of the round may survive it.
        let mut survivors = if procs::maybe_alive(pgid) {
            procs::round_members(pgid, me)
                .iter()
                .filter(|p| p.live())
                .count()
        } else {
            0
        };
        if survivors > 0 {
            procs::signal_all(pgid, me, Signal::SIGKILL);
            std::thread::sleep(Duration::from_millis(50));
            survivors = procs::round_members(pgid, me)
                .iter()
                .filter(|p| p.live())
                .count();
        }
        reap(self.pid, &mut leader);

        let (ended, status) = leader.unwrap_or((Instant::now(), WaitStatus::StillAlive));
        let (exit_code, signal) = match status {
            WaitStatus::Exited(_, code) => (Some(code), None),
            WaitStatus::Signaled(_, sig, _) => (None, Some(sig as i32)),
            _ => (None, None),
        };
        let ending = match killing.as_ref().map(|k| k.why) {
            Some(Why::Timeout | Why::Watchdog) => Ending::Timeout,
            Some(Why::GraceKill) => Ending::GraceKill,
            Some(Why::NoCheckin) => Ending::NoCheckin,
            Some(Why::Interrupted(_)) => Ending::Interrupted,
            Some(Why::Orphans) | None => match (exit_code, signal) {
                (Some(code), _) => Ending::Exited(code),
                (None, Some(sig)) => Ending::Signaled(sig),
                (None, None) => Ending::Signaled(Signal::SIGKILL as i32),
            },
        };
        Report {
            ending,
            exit_code,
            signal,
            duration: ended.saturating_duration_since(start),
            checked_in,
            bytes,
            killed: killing.map(|k| k.why),
            orphans,
            survivors,
            log_error,
        }
    }

    fn checked_in(&self, via: &'static str, start: Instant, note: &mut dyn FnMut(Note<'_>)) {
        let status = format!("{}: agent checked in ({via})", self.label);
        notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
        note(Note::CheckedIn {
            via,
            after: start.elapsed(),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn next_deadline(
        &self,
        now: Instant,
        start: Instant,
        checked_in: bool,
        marker_at: Option<Instant>,
        grace_decided: bool,
        last_output: Instant,
        last_status: Instant,
        killing: Option<&Killing>,
        leader_gone: bool,
    ) -> Instant {
        let lim = self.limits;
        let mut next = last_status + STATUS_EVERY;
        let mut consider = |t: Instant| next = next.min(t);
        if leader_gone {
            consider(now + Duration::from_millis(100));
        }
        match killing {
            Some(k) => {
                consider(k.next);
                if k.stage == Stage::Kill {
                    consider(k.next + AFTER_KILL);
                }
            }
            None if !leader_gone => {
                consider(start + lim.timeout);
                if !checked_in {
                    consider(start + lim.checkin_timeout);
                }
                if let (Some(at), Some(grace), false) =
                    (marker_at, lim.grace_after_result, grace_decided)
                {
                    consider(at + grace);
                }
                if let (Some(w), true, None) = (lim.watchdog, checked_in, marker_at) {
                    consider(last_output + w);
                }
            }
            None => {}
        }
        next.max(now)
    }
}

/// Masks credential values in the output stream before it reaches the round log. The last
/// `longest − 1` bytes are held back between chunks, so a secret split across two reads is still
/// caught; they are written at the end.
struct Masker {
    secrets: Vec<Vec<u8>>,
    keep: usize,
    carry: Vec<u8>,
}

impl Masker {
    fn new(mut secrets: Vec<Vec<u8>>) -> Option<Self> {
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let keep = secrets.first()?.len() - 1;
        Some(Self {
            secrets,
            keep,
            carry: Vec::new(),
        })
    }

    /// Puts into `out` what can be written now.
    fn filter(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(chunk);
        for secret in &self.secrets {
            buf = replace_all(&buf, secret, crate::redact::MASK.as_bytes());
        }
        let cut = buf.len().saturating_sub(self.keep);
        self.carry = buf.split_off(cut);
        out.clear();
        out.extend_from_slice(&buf);
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(pos) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..pos]);
        out.extend_from_slice(with);
        rest = &rest[pos + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn usec(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn start_kill(why: Why, stage: Stage, pgid: i32, me: i32, lim: &Limits) -> Killing {
    let (signal, wait) = match stage {
        Stage::Coop => (lim.stop_signal, lim.coop_grace),
        Stage::Term => (Signal::SIGTERM, lim.term_grace),
        Stage::Kill => (Signal::SIGKILL, Duration::from_millis(500)),
    };
    procs::signal_all(pgid, me, signal);
    Killing {
        why,
        stage,
        next: Instant::now() + wait,
    }
}

/// Moves to the next, harsher stage (SIGKILL is repeated to catch late forks).
fn advance(k: &mut Killing, pgid: i32, me: i32, lim: &Limits) {
    let stage = match k.stage {
        Stage::Coop => Stage::Term,
        Stage::Term | Stage::Kill => Stage::Kill,
    };
    let next = start_kill(k.why, stage, pgid, me, lim);
    k.stage = next.stage;
    k.next = next.next;
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
