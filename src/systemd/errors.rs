//! What a failed D-Bus call means to the operator: systemd unreachable (exit 69), permission
//! denied, or the call's own failure, each with a hint.

use crate::error::Error;
use crate::paths::Scope;

/// The error for a manager that cannot be reached (exit 69).
pub(crate) fn unreachable_error(scope: Scope, host: Option<&str>, detail: &str) -> Error {
    let which = match scope {
        Scope::System => "the system manager (systemd on the system bus)",
        Scope::User => "your user manager (systemd --user on the session bus)",
    };
    let on = host.map(|h| format!(" on {h}")).unwrap_or_default();
    let hint = match (scope, host) {
        (_, Some(_)) => {
            "check that `ssh HOST systemd-stdio-bridge` works (key-based login, systemd installed there)"
        }
        (Scope::System, None) => {
            "is systemd running here (PID 1)? --user reaches your own manager, --host another machine"
        }
        (Scope::User, None) => {
            "log in as that user, or run `loginctl enable-linger USER` so the user manager runs"
        }
    };
    Error::Unavailable(format!(
        "cannot reach {which}{on}: {detail}\n  hint: {hint}"
    ))
}

/// Maps a failed call to an operator-facing error.
pub(crate) fn call_error(scope: Scope, what: &str, err: &zbus::Error) -> Error {
    if let Some(name) = error_name(err).as_deref() {
        if name == "org.freedesktop.DBus.Error.AccessDenied"
            || name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
        {
            let hint = match scope {
                Scope::System => "run it with sudo, or use --user for your own manager",
                Scope::User => "check that the user manager belongs to you",
            };
            return Error::Failed(format!("{what}: permission denied\n  hint: {hint}"));
        }
        if name.starts_with("org.freedesktop.DBus.Error.ServiceUnknown")
            || name.starts_with("org.freedesktop.DBus.Error.NoReply")
            || name.starts_with("org.freedesktop.DBus.Error.Disconnected")
        {
            return unreachable_error(scope, None, &err.to_string());
        }
    }
    if matches!(err, zbus::Error::InputOutput(_)) {
        return unreachable_error(scope, None, &err.to_string());
    }
    Error::Failed(format!("{what}: {err}"))
}

/// The D-Bus error name of a failed call, when it has one.
pub(crate) fn error_name(err: &zbus::Error) -> Option<String> {
    match err {
        zbus::Error::MethodError(name, _, _) => Some(name.as_str().to_string()),
        // Errors of the org.freedesktop.DBus namespace arrive already decoded.
        zbus::Error::FDO(e) => {
            let text = e.to_string();
            Some(text.split(':').next().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_is_exit_69() {
        let e = unreachable_error(Scope::System, None, "No such file");
        assert_eq!(e.exit_code(), crate::error::exit::UNAVAILABLE);
        assert_eq!(e.to_string().lines().count(), 2);
    }
}
