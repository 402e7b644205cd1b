//! One result of the startup battery or of `check`: which check, how bad, what is wrong and what
//! to do about it. The field names are `check --json`'s.

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    /// The round cannot run: `config_broken`, exit 78.
    Error,
    /// Worth knowing; does not stop rounds.
    Warning,
    /// Not a problem: what agent-runner made of the file (only `check` says these).
    Note,
}

/// One result of the startup battery (or, in `check`, a problem of the file itself).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Finding {
    /// Which check (stable identifier, e.g. `work_dir_is_git_repo`).
    pub check: &'static str,
    /// Error, warning or note.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

impl Finding {
    pub(super) fn error(
        check: &'static str,
        message: String,
        hint: impl Into<Option<String>>,
    ) -> Self {
        Self::new(check, Severity::Error, message, hint.into())
    }

    pub(super) fn warning(
        check: &'static str,
        message: String,
        hint: impl Into<Option<String>>,
    ) -> Self {
        Self::new(check, Severity::Warning, message, hint.into())
    }

    pub(super) fn note(check: &'static str, message: String, hint: String) -> Self {
        Self::new(check, Severity::Note, message, Some(hint))
    }

    fn new(check: &'static str, severity: Severity, message: String, hint: Option<String>) -> Self {
        Self {
            check,
            severity,
            message,
            hint,
        }
    }
}
