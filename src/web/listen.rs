//! Where the page listens, and who may read it.
//!
//! Under socket activation the unit hands the listening socket over as standard input
//! (`StandardInput=socket`): std can take a socket from a descriptor it already owns without
//! unsafe code, which a bare descriptor number (`LISTEN_FDS`) would need.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::path::Path;

use nix::sys::stat::{SFlag, fstat};

use crate::error::{Error, Result};

/// The credential that holds the bearer token (`LoadCredential=web-token:FILE`).
pub(crate) const TOKEN_CREDENTIAL: &str = "web-token";
/// The most of the credential read: a token, not a file.
const TOKEN_MAX_BYTES: u64 = 4096;

/// The listener: bound to `listen`, else the socket systemd passed on standard input. The flag
/// says which (socket activation exits when idle by default).
pub(crate) fn listener(listen: Option<&str>) -> Result<(TcpListener, bool)> {
    if let Some(addr) = listen {
        let listener = TcpListener::bind(addr)
            .map_err(|e| Error::Failed(format!("cannot listen on {addr}: {e}")))?;
        return Ok((listener, false));
    }
    let stdin = std::io::stdin();
    // A socket that does not listen fails at the first accept, with the error said then.
    let is_socket = fstat(stdin.as_fd())
        .is_ok_and(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFSOCK);
    if !is_socket {
        return Err(Error::Usage(
            "no socket to serve: run it through agent-runner-web.socket, or give --listen ADDR (e.g. 127.0.0.1:8765)".into(),
        ));
    }
    let owned = nix::unistd::dup(stdin.as_fd())
        .map_err(|e| Error::Failed(format!("cannot take the socket systemd passed: {e}")))?;
    let listener = TcpListener::from(owned);
    // A unix socket comes through too, but is not what the unit listens on.
    listener
        .local_addr()
        .map_err(|e| Error::Failed(format!("the socket systemd passed is not TCP: {e}")))?;
    Ok((listener, true))
}

/// The bearer token requests must carry: none on loopback, where only this machine's users
/// reach the page; elsewhere the credential's, and no start without one.
pub(crate) fn token_for(address: &SocketAddr) -> Result<Option<String>> {
    let loopback = match address {
        SocketAddr::V4(a) => a.ip().is_loopback(),
        SocketAddr::V6(a) => {
            a.ip().is_loopback() || a.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    if loopback {
        return Ok(None);
    }
    let token = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|dir| Path::new(&dir).join(TOKEN_CREDENTIAL))
        .and_then(|file| read_token(&file));
    match token {
        Some(t) => Ok(Some(t)),
        None => Err(Error::Usage(format!(
            "refusing to serve {address} without a bearer token: bound beyond loopback, the page needs the credential {TOKEN_CREDENTIAL} (LoadCredential={TOKEN_CREDENTIAL}:/etc/agent-runner/web-token in a drop-in of agent-runner-web.service)"
        ))),
    }
}

/// The token in `file`, trimmed; `None` when there is none or it is empty. systemd owns the
/// credentials directory, so a plain bounded read is enough.
fn read_token(file: &Path) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(file)
        .ok()?
        .take(TOKEN_MAX_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let token = text.trim();
    (!token.is_empty() && !token.chars().any(char::is_control)).then(|| token.to_string())
}
