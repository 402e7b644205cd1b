//! Starting the agent with posix_spawn(3) rather than fork + exec: in its own process group, with
//! an empty signal mask and default dispositions, in one vfork-style step.
//!
//! The runner blocks SIGCHLD and the stop signals for its signalfd, and std's `Command` passes a
//! blocked mask on to the child (as it does an ignored SIGINT inherited from a shell's `&`): an
//! agent started that way could never be stopped cooperatively. posix_spawn's attributes reset
//! both without any `unsafe` in this crate, and spare the copy of the runner's page tables.

use std::collections::BTreeMap;
use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawn};
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::Pid;

/// Spawns `program` with `argv` (argv[0] included) and exactly `env`, its stdin, stdout and
/// stderr connected to `stdio`, in the current directory. Returns the pid (also its group).
pub(crate) fn spawn(
    program: &Path,
    argv: &[String],
    env: &BTreeMap<OsString, OsString>,
    stdio: [OwnedFd; 3],
) -> nix::Result<i32> {
    // A source descriptor that already is 0, 1 or 2 would keep its close-on-exec flag through
    // dup2 onto itself and vanish at exec: move it above the standard ones first.
    let mut fds = Vec::with_capacity(3);
    for fd in stdio {
        fds.push(if fd.as_raw_fd() <= 2 {
            fd.try_clone().map_err(|_| Errno::EMFILE)?
        } else {
            fd
        });
    }
    let mut actions = PosixSpawnFileActions::init()?;
    for (target, fd) in (0..).zip(&fds) {
        actions.add_dup2(fd.as_raw_fd(), target)?;
    }
    let mut attr = PosixSpawnAttr::init()?;
    attr.set_flags(
        PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
    )?;
    attr.set_pgroup(Pid::from_raw(0))?;
    attr.set_sigmask(&SigSet::empty())?;
    let mut defaults = SigSet::empty();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGPIPE,
        Signal::SIGCHLD,
    ] {
        defaults.add(sig);
    }
    attr.set_sigdefault(&defaults)?;
    let c_argv = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Errno::EINVAL)?;
    let envp: Vec<CString> = env
        .iter()
        .filter_map(|(k, v)| {
            let mut entry = k.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(v.as_bytes());
            CString::new(entry).ok()
        })
        .collect();
    let pid = posix_spawn(program, &actions, &attr, &c_argv, &envp)?;
    Ok(pid.as_raw())
}
