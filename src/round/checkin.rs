//! The check-in socket: the round binds an abstract unix datagram socket
//! `@agent-runner/NAME/PID` (abstract, so it needs no writable path and leaves nothing behind)
//! and names it in the agent's environment; `agent-runner checkin`, run by the agent, sends to it.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

use crate::error::{Error, Result};

/// The environment variable naming the check-in socket for `agent-runner checkin`.
pub(crate) const CHECKIN_ENV: &str = "AGENT_RUNNER_CHECKIN";

/// Binds the socket of the round run by `runner_pid` (non-blocking); returns it with its abstract
/// name, or `None` when it cannot be bound (output alone then shows the agent's life).
pub(crate) fn bind(project: &str, runner_pid: u32) -> Option<(UnixDatagram, String)> {
    let name = format!("agent-runner/{project}/{runner_pid}");
    let socket = SocketAddr::from_abstract_name(name.as_bytes())
        .and_then(|addr| UnixDatagram::bind_addr(&addr))
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .ok()?;
    Some((socket, name))
}

/// `agent-runner checkin`, called by the agent: tells the running round it is alive.
pub(crate) fn checkin() -> Result<()> {
    let Some(target) = std::env::var_os(CHECKIN_ENV).filter(|t| !t.is_empty()) else {
        return Err(Error::Usage(format!(
            "agent-runner checkin only works inside a round (${CHECKIN_ENV} is not set)"
        )));
    };
    let target = target.to_string_lossy().into_owned();
    let sock = UnixDatagram::unbound()
        .map_err(|e| Error::Failed(format!("cannot create a socket: {e}")))?;
    let sent = match target.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes())
            .and_then(|addr| sock.send_to_addr(b"checkin", &addr)),
        None => sock.send_to(b"checkin", &target),
    };
    sent.map(|_| ()).map_err(|e| {
        Error::Failed(format!(
            "cannot reach the round at {target}: {e} (has the round already ended?)"
        ))
    })
}
