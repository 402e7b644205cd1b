//! Control characters: what a systemd unit cannot carry.
//!
//! Unit files are line-based and systemd has no escape for a newline inside a value; a newline in
//! a path that reaches a rendered drop-in starts a new setting there (an `ExecStopPost=+…` line in
//! a file name would run as root). Escaping cannot be made safe for every setting, so every path
//! or value that reaches a unit is refused when it holds any control character (U+0000–U+001F,
//! U+007F–U+009F), tab included: in a path a tab is a mistake, and settings that take lists
//! split on it. Free text that never reaches a unit (arguments, environment values, the terminal
//! marker, the prompt separator) keeps its newlines and tabs: execve and stdin carry them as
//! they are.

use std::path::Path;

use crate::error::ConfigProblem;

/// The first control character of `s`, spelt the way Rust and TOML write it (`\n`, `\u{7f}`).
pub(super) fn first_control_char(s: &str) -> Option<String> {
    s.chars()
        .find(|c| c.is_control())
        .map(|c| c.escape_debug().to_string())
}

/// `text` for a message: control characters spelt as escapes, so that the message stays on its
/// line and cannot forge another (in a terminal, the journal or a kernel log record).
pub(crate) fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// `path` for a message, as [`escaped`] spells text.
pub(super) fn printable(path: &Path) -> String {
    escaped(&path.to_string_lossy())
}

/// The project file's own path reaches every unit rendered from it (the header, `SourcePath=`,
/// the `--config` argument of each `Exec*=`): a control character in it is a problem of the file.
pub(super) fn check_file_path(path: &Path) -> Result<(), ConfigProblem> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = absolute.to_string_lossy();
    let Some(found) = first_control_char(&text) else {
        return Ok(());
    };
    Err(ConfigProblem::new(
        printable(&absolute),
        format!(
            "the path of this file contains a control character ({found}), which a systemd unit cannot carry"
        ),
    )
    .hint("rename the file (or the directory holding it) to a name without control characters"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_c0_del_and_c1() {
        for bad in [
            "a\nb",
            "a\tb",
            "a\rb",
            "\u{7f}",
            "\u{1b}[31m",
            "\u{85}",
            "\0",
        ] {
            assert!(first_control_char(bad).is_some(), "{bad:?}");
        }
        for good in ["/srv/a b", "/srv/ä", "/srv/\u{202e}x", "%h/$x"] {
            assert!(first_control_char(good).is_none(), "{good:?}");
        }
    }

    #[test]
    fn printable_escapes_only_control_characters() {
        assert_eq!(
            printable(Path::new("/etc/a\nb ä.toml")),
            "/etc/a\\nb ä.toml"
        );
        assert_eq!(printable(Path::new("/x\u{7f}")), "/x\\u{7f}");
    }

    #[test]
    fn a_file_path_with_a_newline_is_refused_on_one_line() {
        let problem = check_file_path(Path::new("/etc/agent-runner/x\nExecStopPost=+/bin/sh.toml"))
            .unwrap_err();
        let text = problem.to_string();
        assert!(
            text.starts_with("/etc/agent-runner/x\\nExecStopPost"),
            "{text}"
        );
        assert!(text.contains("control character (\\n)"), "{text}");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(check_file_path(Path::new("/etc/agent-runner/x.toml")).is_ok());
    }
}
