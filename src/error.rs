//! The crate-wide error type and the exit statuses it maps to: the sysexits-style codes the
//! round and every command share (0 ok, 1 failure, 2 usage, 69 unreachable, 75 try later,
//! 78 configuration, 124 timeout), so that scripts and the units' `SuccessExitStatus=` and
//! `RestartPreventExitStatus=` can tell them apart.

use std::fmt;
use std::path::PathBuf;

/// Process exit statuses with a documented meaning (sysexits where one fits).
pub(crate) mod exit {
    /// Success.
    pub(crate) const OK: u8 = 0;
    /// Generic failure (a crashed round, a failed check, an unhealthy diagnosis).
    pub(crate) const FAILURE: u8 = 1;
    /// Command-line usage error.
    pub(crate) const USAGE: u8 = 2;
    /// systemd (or D-Bus) is unreachable: EX_UNAVAILABLE.
    pub(crate) const UNAVAILABLE: u8 = 69;
    /// A transient condition (rate limit, back-off): EX_TEMPFAIL.
    pub(crate) const TEMPFAIL: u8 = 75;
    /// Configuration error, never retried: EX_CONFIG.
    pub(crate) const CONFIG: u8 = 78;
    /// The round hit its hard timeout (as timeout(1) reports it).
    pub(crate) const TIMEOUT: u8 = 124;

    /// What one exit status means, for `--help` and agent-runner(1).
    pub(crate) struct Meaning {
        pub code: u8,
        /// A few words, for the one line of `--help`.
        pub brief: &'static str,
        /// A sentence, for the manual.
        pub detail: &'static str,
    }

    /// Every exit status above with its meaning, in order.
    pub(crate) const MEANINGS: [Meaning; 7] = [
        Meaning {
            code: OK,
            brief: "ok",
            detail: "Success.",
        },
        Meaning {
            code: FAILURE,
            brief: "failure",
            detail: "Failure (for round: the agent crashed).",
        },
        Meaning {
            code: USAGE,
            brief: "usage",
            detail: "Usage error: unknown command or flag, bad argument, invalid project name.",
        },
        Meaning {
            code: UNAVAILABLE,
            brief: "systemd unreachable",
            detail: "systemd is unreachable (EX_UNAVAILABLE).",
        },
        Meaning {
            code: TEMPFAIL,
            brief: "transient error (try later)",
            detail: "round only: a transient error (rate limit, server error); the loop backs off (EX_TEMPFAIL).",
        },
        Meaning {
            code: CONFIG,
            brief: "configuration error",
            detail: "Configuration error (EX_CONFIG); a round exiting 78 is never retried.",
        },
        Meaning {
            code: TIMEOUT,
            brief: "round timed out",
            detail: "round only: the round hit round_timeout_s.",
        },
    ];

    /// The exit statuses in one line: `0 ok, 1 failure, …`.
    pub(crate) fn summary() -> String {
        MEANINGS
            .iter()
            .map(|m| format!("{} {}", m.code, m.brief))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One problem found in a project configuration, positioned in its file when possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigProblem {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line and column of the offending key or value, when known.
    pub position: Option<(usize, usize)>,
    /// Dotted key path (`runtime.round_timeout_s`), when the problem is about one key.
    pub key: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it, when there is something specific to say.
    pub hint: Option<String>,
}

impl ConfigProblem {
    /// A problem with no position (e.g. an unreadable file).
    pub(crate) fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            position: None,
            key: None,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint line.
    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Everything that can make a command fail, each variant mapped to one exit status.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The project configuration is invalid (exit 78).
    #[error("{}", display_problems(.0))]
    Config(Vec<ConfigProblem>),
    /// The command line is wrong in a way clap could not catch (exit 2).
    #[error("{0}")]
    Usage(String),
    /// systemd or its bus cannot be reached (exit 69).
    #[error("{0}")]
    Unavailable(String),
    /// A transient condition; trying again later may succeed (exit 75).
    #[error("{0}")]
    TempFail(String),
    /// A file operation failed.
    #[error("{}", io_message(action, path, source))]
    Io {
        /// What we were doing ("cannot write", "cannot read").
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing the command's own output failed (exit 1; a closed pipe exits 0, see `output`).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// Any other failure, already phrased for the operator (exit 1).
    #[error("{0}")]
    Failed(String),
    /// A read command could not see what it would have answered from (exit 1): its answer
    /// would be a guess, so it says what it could not read instead.
    #[error("{}", unseen_lines(.0))]
    Unseen(Vec<Unseen>),
}

/// A source a read command could not see (the state file, the events, a round log, the
/// journal), so that what it shows is partial.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Unseen {
    /// Which source: `state`, `events`, `journal`, `log`, `stop_trigger`, `narrative`.
    pub source: &'static str,
    /// Where it is.
    pub path: PathBuf,
    /// Why it could not be read: "permission denied", "is a symbolic link", …
    pub reason: String,
    /// What to do about it.
    #[serde(skip)]
    pub hint: &'static str,
}

impl fmt::Display for Unseen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read {}: {} — {}",
            self.path.display(),
            self.reason,
            self.hint
        )
    }
}

fn unseen_lines(unseen: &[Unseen]) -> String {
    unseen
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An I/O error as a plain reason: "not a directory", not "Not a directory (os error 20)".
pub(crate) fn plain_io(source: &std::io::Error) -> String {
    let text = source.to_string();
    let text = text.split(" (os error ").next().unwrap_or_default();
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

fn io_message(action: &str, path: &std::path::Path, source: &std::io::Error) -> String {
    let reason = match source.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        _ => plain_io(source),
    };
    let hint = match source.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "\n  hint: run it with sudo, or use --user to work with your own systemd manager"
        }
        std::io::ErrorKind::StorageFull => {
            "\n  hint: free some disk space and run it again; nothing was half-written"
        }
        _ => "",
    };
    format!("{action} {}: {reason}{hint}", path.display())
}

fn display_problems(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The process exit status for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) => exit::CONFIG,
            Error::Usage(_) => exit::USAGE,
            Error::Unavailable(_) => exit::UNAVAILABLE,
            Error::TempFail(_) => exit::TEMPFAIL,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                exit::CONFIG
            }
            Error::Io { .. } | Error::Output(_) | Error::Failed(_) | Error::Unseen(_) => {
                exit::FAILURE
            }
        }
    }

    /// Wraps an I/O error with the action and path it concerns.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A single configuration problem.
    pub(crate) fn config(problem: ConfigProblem) -> Self {
        Error::Config(vec![problem])
    }

    /// Whether it only says that a file or directory does not exist.
    pub(crate) fn is_missing(&self) -> bool {
        self.io_source().map(std::io::Error::kind) == Some(std::io::ErrorKind::NotFound)
    }

    /// The I/O error underneath, for a caller that words the file and action itself.
    pub(crate) fn io_source(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io { source, .. } | Error::Output(source) => Some(source),
            _ => None,
        }
    }
}

/// Result alias used throughout the crate.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_plain_words() {
        let e = std::io::Error::from_raw_os_error(20);
        assert_eq!(plain_io(&e), "not a directory");
        let e = Error::Io {
            action: "cannot create directory",
            path: "afile".into(),
            source: std::io::Error::from_raw_os_error(17),
        };
        assert_eq!(e.to_string(), "cannot create directory afile: file exists");
        assert_eq!(plain_io(&std::io::Error::other("Custom")), "custom");
    }

    /// One error of each variant (and both kinds of `Io`).
    fn one_of_each() -> Vec<Error> {
        let denied = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        vec![
            Error::Config(Vec::new()),
            Error::Usage(String::new()),
            Error::Unavailable(String::new()),
            Error::TempFail(String::new()),
            Error::io("cannot read", "/x", denied()),
            Error::io("cannot read", "/x", std::io::ErrorKind::NotFound.into()),
            Error::Output(denied()),
            Error::Failed(String::new()),
            Error::Unseen(Vec::new()),
        ]
    }

    #[test]
    fn every_status_an_error_maps_to_has_a_meaning() {
        for error in one_of_each() {
            // A new variant fails to compile here until it is added above.
            match error {
                Error::Config(_)
                | Error::Usage(_)
                | Error::Unavailable(_)
                | Error::TempFail(_)
                | Error::Io { .. }
                | Error::Output(_)
                | Error::Failed(_)
                | Error::Unseen(_) => {}
            }
            let code = error.exit_code();
            assert!(
                exit::MEANINGS.iter().any(|m| m.code == code),
                "exit {code} of {error:?} has no meaning in exit::MEANINGS"
            );
        }
    }
}
