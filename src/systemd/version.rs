//! Which systemd the units are rendered for, and which keys that version understands.
//!
//! 252 (Debian 12) is the floor. Newer keys are only rendered when the target has them, because
//! an older systemd warns about unknown keys and then silently ignores them.

use std::process::{Command, Stdio};

use serde::Serialize;

use crate::paths::Scope;

/// The oldest systemd agent-runner supports.
pub(crate) const FLOOR: u32 = 252;

/// What a systemd version supports among the keys we may render.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Features {
    /// The major version.
    pub version: u32,
    /// `RestartSteps=` / `RestartMaxDelaySec=` (254).
    pub restart_steps: bool,
    /// `ImportCredential=` (254).
    pub import_credential: bool,
}

impl Features {
    /// The features of systemd `version`.
    pub(crate) fn of(version: u32) -> Self {
        Self {
            version,
            restart_steps: version >= 254,
            import_credential: version >= 254,
        }
    }
}

/// "252.38-1~deb12u1" or "systemd 252 (252.38-1~deb12u1)" → 252.
pub(crate) fn parse_major(text: &str) -> Option<u32> {
    let text = text.trim();
    let text = text.strip_prefix("systemd ").unwrap_or(text);
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The version to render for: the running manager's, else the installed `systemctl`'s, else the floor.
pub(crate) fn detect(scope: Scope) -> u32 {
    if let Ok(v) = crate::systemd::bus::manager_version(scope) {
        return v;
    }
    installed_version().unwrap_or(FLOOR)
}

/// The version of the installed systemctl binary (no running manager needed).
pub(crate) fn installed_version() -> Option<u32> {
    let out = Command::new("systemctl")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_major(text.lines().next()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(parse_major("252.38-1~deb12u1"), Some(252));
        assert_eq!(parse_major("systemd 257 (257.13-1~deb13u1)"), Some(257));
        assert_eq!(parse_major("v"), None);
    }

    #[test]
    fn gates_keys_by_version() {
        assert!(!Features::of(252).restart_steps);
        assert!(Features::of(254).restart_steps);
    }
}
