//! A small hand-written D-Bus proxy for the few systemd Manager calls agent-runner needs.
//!
//! zbus 6 is async-only; every public function here wraps its call in [`zbus::block_on`], so the
//! rest of the crate stays synchronous.

use crate::error::{Error, Result};
use crate::paths::Scope;

/// `org.freedesktop.systemd1.Manager`, reduced to what we call.
#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
pub trait Manager {
    /// Reloads every unit file (`systemctl daemon-reload`).
    fn reload(&self) -> zbus::Result<()>;

    /// The manager's version string, e.g. "252.38-1~deb12u1".
    #[zbus(property)]
    fn version(&self) -> zbus::Result<String>;
}

/// Connects to the bus of the given manager: the system bus, or the user's session bus.
pub async fn connect(scope: Scope) -> Result<zbus::Connection> {
    let connection = match scope {
        Scope::System => zbus::Connection::system().await,
        Scope::User => zbus::Connection::session().await,
    };
    connection.map_err(|e| unreachable_error(scope, &e))
}

/// The error for a bus that cannot be reached (exit 69).
pub fn unreachable_error(scope: Scope, err: &zbus::Error) -> Error {
    let which = match scope {
        Scope::System => "the system manager (systemd on the system bus)",
        Scope::User => "your user manager (systemd --user on the session bus)",
    };
    Error::Unavailable(format!(
        "cannot reach {which}: {err}\n  hint: is systemd running here? For a user manager, log in or run `loginctl enable-linger`"
    ))
}

/// Maps a failed call to an operator-facing error.
pub fn call_error(scope: Scope, what: &str, err: &zbus::Error) -> Error {
    if let zbus::Error::MethodError(name, _, _) = err
        && (name.as_str() == "org.freedesktop.DBus.Error.AccessDenied"
            || name.as_str() == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")
    {
        let hint = match scope {
            Scope::System => "run it with sudo, or use --user for your own manager",
            Scope::User => "check that the user manager belongs to you",
        };
        return Error::Failed(format!("{what}: permission denied\n  hint: {hint}"));
    }
    Error::Failed(format!("{what}: {err}"))
}

/// `daemon-reload` over D-Bus.
pub fn reload(scope: Scope) -> Result<()> {
    zbus::block_on(async {
        let conn = connect(scope).await?;
        let manager = ManagerProxy::new(&conn)
            .await
            .map_err(|e| unreachable_error(scope, &e))?;
        manager
            .reload()
            .await
            .map_err(|e| call_error(scope, "reloading systemd", &e))
    })
}

/// The running manager's major version.
pub fn manager_version(scope: Scope) -> Result<u32> {
    zbus::block_on(async {
        let conn = connect(scope).await?;
        let manager = ManagerProxy::new(&conn)
            .await
            .map_err(|e| unreachable_error(scope, &e))?;
        let version = manager
            .version()
            .await
            .map_err(|e| call_error(scope, "reading the systemd version", &e))?;
        crate::sysver::parse_major(&version)
            .ok_or_else(|| Error::Failed(format!("cannot understand systemd version {version:?}")))
    })
}
