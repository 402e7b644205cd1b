//! `--host [USER@]HOST`: checking the value, the ssh program, and a D-Bus connection to the
//! remote manager through `ssh HOST systemd-stdio-bridge`, exactly the transport `systemctl -H`
//! uses.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};

use crate::error::{Error, Result};
use crate::paths::Scope;
use crate::systemd::errors::unreachable_error;

/// The program `--host` runs to reach a remote machine: `$AGENT_RUNNER_SSH` or `ssh`.
pub(crate) fn ssh_program() -> String {
    std::env::var("AGENT_RUNNER_SSH")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "ssh".into())
}

/// Checks a `--host` value: `[USER@]HOST`, nothing ssh could read as an option.
pub(crate) fn validate_host(host: &str) -> Result<()> {
    let ok = !host.is_empty()
        && !host.starts_with('-')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._-:[]%".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid --host {host:?}: expected [USER@]HOST"
        )))
    }
}

/// `ssh -xT HOST systemd-stdio-bridge [--user]` with its stdio on one end of a socket pair, the
/// other end carrying our D-Bus connection (what sd-bus's `unixexec:` transport does). The
/// child must live as long as the connection.
pub(crate) fn connect_bridge(scope: Scope, host: &str) -> Result<(zbus::Connection, Child)> {
    validate_host(host)?;
    let fail = |msg: String| unreachable_error(scope, Some(host), &msg);
    let (ours, theirs) = UnixStream::pair().map_err(|e| fail(e.to_string()))?;
    let theirs_out: OwnedFd = theirs.try_clone().map_err(|e| fail(e.to_string()))?.into();
    let mut command = Command::new(ssh_program());
    command.args(["-xT", "--", host, "systemd-stdio-bridge"]);
    if scope == Scope::User {
        command.arg("--user");
    }
    let mut child = command
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::from(theirs_out))
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", ssh_program())))?;
    // The command still holds the child's ends of the socket pair: without closing them, a
    // dead ssh would never look like an EOF to the handshake.
    drop(command);
    let conn = zbus::block_on(async {
        // The bridge speaks D-Bus as a server on its stdio: its peer credentials are an ssh
        // pipe, so EXTERNAL cannot work and it offers ANONYMOUS, as sd-bus expects.
        zbus::connection::Builder::unix_stream(ours)
            .auth_mechanism(zbus::connection::AuthMechanism::Anonymous)
            .build()
            .await
    });
    match conn {
        Ok(conn) => Ok((conn, child)),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(fail(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_are_checked() {
        assert!(validate_host("alice@build-1.example").is_ok());
        assert!(validate_host("-oProxyCommand=x").is_err());
        assert!(validate_host("a b").is_err());
        assert!(validate_host("").is_err());
    }
}
