//! Validation of `schedule` (a systemd OnCalendar= expression).
//!
//! systemd's calendar grammar is large; rather than re-implement it we ask `systemd-analyze
//! calendar`, which is what will interpret the expression. Without it, only a coarse check runs.

use std::process::{Command, Stdio};

/// The in-process part of [`check`]: only characters a calendar expression can hold. Config
/// loading runs this alone, because rounds and the boot-time generator load configs and must not
/// spawn a process for it.
pub(super) fn coarse(expr: &str) -> Result<(), String> {
    if !expr
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " *:,./~-+_".contains(c))
    {
        return Err(format!(
            "\"{expr}\" is not a systemd calendar expression (unexpected character)"
        ));
    }
    Ok(())
}

/// Checks a calendar expression with systemd's own parser (`check` and `generate` do); the
/// error is one line saying why it is not valid.
pub(super) fn check(expr: &str) -> Result<(), String> {
    coarse(expr)?;
    let output = Command::new("systemd-analyze")
        .args(["calendar", "--iterations=1", "--", expr])
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let reason = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("rejected by systemd-analyze");
            Err(format!(
                "\"{expr}\" is not a valid calendar expression ({})",
                reason.trim()
            ))
        }
        // No systemd-analyze: accept what passed the coarse check; systemd will say more.
        Err(_) => Ok(()),
    }
}
