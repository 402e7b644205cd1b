//! Commands a round runs after its agent — git for the progress measure, the operator's goal
//! checks — with bounds on everything the work tree could stretch: each runs in its own process
//! group that is killed at a deadline (and killed anyway once it ends, so nothing it started stays
//! behind), and only the first bytes of its output are kept while the rest is read and counted,
//! so that a command printing without end neither blocks nor grows the runner. A stop signal to
//! the runner (`systemctl stop`) ends the command at once; systemd's watchdog is fed meanwhile.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::notify::SysWatchdog;

/// The longest one poll sleeps, so that the watchdog is fed in time and a finished command noticed.
const TICK: Duration = Duration::from_millis(200);
/// How long output is still read after the command itself exited, from what it left running.
const DRAIN: Duration = Duration::from_millis(500);

/// What a bounded command left.
#[derive(Debug, Default)]
pub(crate) struct Ran {
    /// How it exited; `None` when it was killed at the deadline or by a stop.
    pub status: Option<ExitStatus>,
    /// The first bytes of its standard output (and standard error, when merged).
    pub output: Vec<u8>,
    /// The first bytes of its standard error, when kept apart.
    pub errors: Vec<u8>,
    /// Bytes read past what was kept.
    pub dropped: u64,
    /// Killed at the deadline.
    pub timed_out: bool,
    /// Killed because the runner was told to stop.
    pub stopped: bool,
}

impl Ran {
    /// Whether it exited 0 by itself.
    pub(crate) fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

/// How a command is bounded.
#[derive(Clone, Copy)]
pub(crate) struct Bounds<'a> {
    /// When its process group is killed.
    pub deadline: Instant,
    /// How many bytes of each stream are kept.
    pub keep: usize,
    /// Standard error joins standard output (the checks' log) instead of being kept apart.
    pub merge_stderr: bool,
    /// The runner's signalfd: a stop signal read from it ends the command (SIGCHLD is only
    /// drained: the commands' own exits arrive there too).
    pub stop: Option<&'a SignalFd>,
}

/// Runs `cmd` (stdin from /dev/null) within `bounds`.
pub(crate) fn run(mut cmd: Command, bounds: Bounds<'_>) -> std::io::Result<Ran> {
    let pipes = Pipes::new(bounds.merge_stderr)?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(pipes.out_write))
        .stderr(Stdio::from(pipes.err_write))
        .process_group(0);
    let child = cmd.spawn();
    // The write ends live in `cmd`: dropped here, so the pipes end when the command's do.
    drop(cmd);
    Ok(watch(Proc::Child(child?), pipes.reads, bounds))
}

/// Runs `program` with `argv` and exactly `env` (stdin from /dev/null) within `bounds`, started
/// like the agent: in the current directory, its own process group, an empty signal mask and
/// default dispositions, so that the operator's hooks see what the agent sees (a runner started
/// from a shell's `&` has SIGINT ignored, which std's `Command` would pass on).
pub(crate) fn run_clean(
    program: &std::path::Path,
    argv: &[String],
    env: &BTreeMap<OsString, OsString>,
    bounds: Bounds<'_>,
) -> std::io::Result<Ran> {
    let pipes = Pipes::new(bounds.merge_stderr)?;
    let stdin = OwnedFd::from(std::fs::File::open("/dev/null")?);
    let pid = super::spawn::spawn(
        program,
        argv,
        env,
        [stdin, pipes.out_write, pipes.err_write],
    )?;
    Ok(watch(
        Proc::Spawned(Pid::from_raw(pid)),
        pipes.reads,
        bounds,
    ))
}

/// The command's output pipes: the runner's read ends, the command's write ends.
struct Pipes {
    reads: [Option<std::fs::File>; 2],
    out_write: OwnedFd,
    err_write: OwnedFd,
}

impl Pipes {
    fn new(merge_stderr: bool) -> std::io::Result<Self> {
        let (out_read, out_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let (err_read, err_write): (Option<OwnedFd>, OwnedFd) = if merge_stderr {
            (None, out_write.try_clone()?)
        } else {
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            (Some(r), w)
        };
        Ok(Self {
            reads: [
                Some(std::fs::File::from(out_read)),
                err_read.map(std::fs::File::from),
            ],
            out_write,
            err_write,
        })
    }
}

/// A started command, however it was started.
enum Proc {
    Child(Child),
    Spawned(Pid),
}

impl Proc {
    fn pid(&self) -> Pid {
        match self {
            Proc::Child(child) => Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX)),
            Proc::Spawned(pid) => *pid,
        }
    }

    /// Its exit status once it exited (and is reaped), else `None`.
    fn try_wait(&mut self) -> Option<ExitStatus> {
        use std::os::unix::process::ExitStatusExt;
        match self {
            Proc::Child(child) => child.try_wait().ok().flatten(),
            Proc::Spawned(pid) => match waitpid(*pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => Some(ExitStatus::from_raw((code & 0xff) << 8)),
                Ok(WaitStatus::Signaled(_, signal, _)) => Some(ExitStatus::from_raw(signal as i32)),
                _ => None,
            },
        }
    }

    /// Reaps it if it has not been.
    fn reap(&mut self) {
        match self {
            Proc::Child(child) => {
                let _ = child.wait();
            }
            Proc::Spawned(pid) => {
                let _ = waitpid(*pid, None);
            }
        }
    }
}

/// Reads the command's output within `bounds` until it ends, then kills its whole group.
fn watch(mut child: Proc, mut streams: [Option<std::fs::File>; 2], bounds: Bounds<'_>) -> Ran {
    let mut ran = Ran::default();
    let mut watchdog = SysWatchdog::new(Instant::now());
    let mut exited: Option<(ExitStatus, Instant)> = None;
    while streams.iter().any(Option::is_some) {
        let now = Instant::now();
        if exited.is_none() {
            exited = child.try_wait().map(|status| (status, now));
        }
        if exited.is_some_and(|(_, at)| now >= at + DRAIN) {
            break; // what it left running holds the pipe open: it is killed below
        }
        if now >= bounds.deadline {
            ran.timed_out = true;
            break;
        }
        if watchdog.due().is_some_and(|t| t <= now) {
            watchdog.ping(now);
        }
        let wait = bounds.deadline.saturating_duration_since(now).min(TICK);
        let ready = wait_for(&streams, bounds.stop, wait);
        if ready.stop {
            ran.stopped = true;
            break;
        }
        for (i, readable) in ready.streams.into_iter().enumerate() {
            if readable && !read_some(&mut streams[i], i, &mut ran, bounds.keep) {
                streams[i] = None;
            }
        }
    }
    let status = match exited {
        Some((status, _)) => Some(status),
        // Its output ended: it exits now, or closed its output and runs on until the deadline.
        None if !ran.timed_out && !ran.stopped => exit_by(&mut child, bounds.deadline),
        None => None,
    };
    ran.timed_out |= status.is_none() && !ran.stopped;
    // The whole group goes: at the deadline, at a stop, and whatever outlived a finished command.
    let _ = killpg(child.pid(), Signal::SIGKILL);
    if status.is_none() {
        child.reap();
    }
    ran.status = status.filter(|_| !ran.timed_out && !ran.stopped);
    ran
}

/// The command's exit status once it exits, `None` when it is still running at `deadline`.
fn exit_by(child: &mut Proc, deadline: Instant) -> Option<ExitStatus> {
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Some(status) => return Some(status),
            None if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(TICK);
            }
            _ => return None,
        }
    }
}

/// Which streams are readable (or closed), and whether a stop arrived.
struct Ready {
    streams: [bool; 2],
    stop: bool,
}

fn wait_for(
    streams: &[Option<std::fs::File>; 2],
    stop: Option<&SignalFd>,
    wait: Duration,
) -> Ready {
    let mut fds = Vec::with_capacity(3);
    let mut slots = [None; 2];
    for (i, stream) in streams.iter().enumerate() {
        if let Some(s) = stream {
            slots[i] = Some(fds.len());
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        }
    }
    let stop_slot = stop.map(|fd| {
        fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
        fds.len() - 1
    });
    let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, timeout) {
        Ok(_) | Err(Errno::EINTR) => {}
        Err(_) => std::thread::sleep(Duration::from_millis(100)),
    }
    let ready = |slot: Option<usize>| {
        slot.and_then(|i| fds.get(i))
            .and_then(PollFd::revents)
            .is_some_and(|r| !r.is_empty())
    };
    let signalled = ready(stop_slot);
    Ready {
        streams: [ready(slots[0]), ready(slots[1])],
        stop: signalled && stop.is_some_and(told_to_stop),
    }
}

/// Drains the signalfd; whether a stop signal was among what it held.
fn told_to_stop(signals: &SignalFd) -> bool {
    let mut stop = false;
    while let Ok(Some(info)) = signals.read_signal() {
        let signal = Signal::try_from(i32::try_from(info.ssi_signo).unwrap_or(0));
        stop |= matches!(
            signal,
            Ok(Signal::SIGTERM | Signal::SIGINT | Signal::SIGHUP)
        );
    }
    stop
}

/// Reads what stream `i` has; false at its end (or on an error).
fn read_some(stream: &mut Option<std::fs::File>, i: usize, ran: &mut Ran, keep: usize) -> bool {
    let Some(file) = stream else { return false };
    let mut buf = [0u8; 16 * 1024];
    match file.read(&mut buf) {
        Ok(0) => false,
        Ok(n) => {
            let kept = if i == 0 {
                &mut ran.output
            } else {
                &mut ran.errors
            };
            let room = keep.saturating_sub(kept.len()).min(n);
            kept.extend_from_slice(&buf[..room]);
            ran.dropped += (n - room) as u64;
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(secs: u64) -> Bounds<'static> {
        Bounds {
            deadline: Instant::now() + Duration::from_secs(secs),
            keep: 16,
            merge_stderr: false,
            stop: None,
        }
    }

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn output_is_kept_up_to_the_cap_and_the_rest_counted() {
        let ran = run(sh("yes | head -c 100000; echo err >&2"), bounds(10)).unwrap();
        assert!(ran.succeeded());
        assert_eq!(ran.output.len(), 16);
        assert_eq!(ran.dropped, 100_000 - 16);
        assert_eq!(ran.errors, b"err\n");
    }

    #[test]
    fn a_command_past_its_deadline_is_killed_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let started = Instant::now();
        let ran = run(sh(&script), bounds(1)).unwrap();
        assert!(ran.timed_out && ran.status.is_none() && !ran.succeeded());
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "a process of the group outlived the kill");
    }

    #[test]
    fn a_clean_command_does_not_inherit_the_runner_s_blocked_signals() {
        use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGTERM);
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&mask), None).unwrap();
        let script = [
            "sh".to_string(),
            "-c".into(),
            "grep SigBlk /proc/self/status".into(),
        ];
        let env = BTreeMap::new();
        let wide = Bounds {
            keep: 64,
            ..bounds(10)
        };
        let clean = run_clean(std::path::Path::new("/bin/sh"), &script, &env, wide).unwrap();
        pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&mask), None).unwrap();
        assert!(clean.succeeded());
        assert_eq!(clean.output, b"SigBlk:\t0000000000000000\n");
        let failed = run_clean(
            std::path::Path::new("/bin/sh"),
            &["sh".into(), "-c".into(), "kill -9 $$".into()],
            &env,
            bounds(10),
        )
        .unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&failed.status.unwrap()),
            Some(9)
        );
    }

    #[test]
    fn a_background_child_holding_the_pipe_does_not_hold_the_round() {
        let started = Instant::now();
        let ran = run(sh("sleep 30 & exit 3"), bounds(20)).unwrap();
        assert!(!ran.timed_out);
        assert_eq!(ran.status.and_then(|s| s.code()), Some(3));
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
