//! Validation of `schedule` (a systemd OnCalendar= expression).
//!
//! systemd's calendar grammar is large; rather than re-implement it we ask `systemd-analyze
//! calendar`, which is what will interpret the expression. Without it, only a coarse check runs.

use std::process::{Command, Stdio};

/// Checks a calendar expression; the error is one line saying why it is not valid.
pub fn check(expr: &str) -> Result<(), String> {
    if !expr
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " *:,./~-+_".contains(c))
    {
        return Err(format!(
            "\"{expr}\" is not a systemd calendar expression (unexpected character)"
        ));
    }
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
