//! Which systemd the units are rendered for: its version, read from the running manager or the
//! installed `systemctl`. 252 (Debian 12) is the floor; render::features says which keys each
//! version understands.

use std::process::{Command, Stdio};

/// The oldest systemd agent-runner supports.
pub(crate) const FLOOR: u32 = 252;

/// "252.38-1~deb12u1" or "systemd 252 (252.38-1~deb12u1)" → 252.
pub(crate) fn parse_major(text: &str) -> Option<u32> {
    let text = text.trim();
    let text = text.strip_prefix("systemd ").unwrap_or(text);
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
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
}
