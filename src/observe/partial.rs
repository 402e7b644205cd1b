//! What a read command does when it could not see all it answers from (no permission to the
//! state, the logs or the journal; a link or a FIFO the agent put in a file's place): it shows
//! what it saw, marked partial, then names each source it could not read and exits non-zero, so
//! that silence is never taken for "nothing happened" or "healthy".

use std::io::{self, Write};

use crate::error::{Error, Result, Unseen, exit};
use crate::fsutil;

/// The sources `error` says could not be seen (reading `source`), or `error` itself when it is
/// about something else.
pub(crate) fn unseen_in(source: &'static str, error: Error) -> Result<Vec<Unseen>> {
    match error {
        Error::Unseen(unseen) => Ok(unseen),
        other => match fsutil::unseen(source, &other) {
            Some(unseen) => Ok(vec![unseen]),
            None => Err(other),
        },
    }
}

/// What follows the one-word state of a partial view: it is a guess from what could be read.
pub(crate) fn mark(unseen: &[Unseen]) -> &'static str {
    if unseen.is_empty() {
        ""
    } else {
        " (partial view)"
    }
}

/// The lines naming what a view could not read, under its other lines.
pub(crate) fn present(out: &mut dyn Write, unseen: &[Unseen]) -> io::Result<()> {
    if !unseen.is_empty() {
        writeln!(out, "  unreadable:")?;
    }
    for u in unseen {
        writeln!(out, "    {} {}: {}", u.source, u.path.display(), u.reason)?;
    }
    Ok(())
}

/// The end of a read command that showed what it saw: exit 0 when it saw everything, else the
/// error naming each source it could not read (each once).
pub(crate) fn finish(unseen: &[Unseen]) -> Result<u8> {
    let mut distinct = unseen.to_vec();
    dedup(&mut distinct);
    if distinct.is_empty() {
        Ok(exit::OK)
    } else {
        Err(Error::Unseen(distinct))
    }
}

/// Keeps the first of each source named twice (two readers of one file, say), in order.
pub(crate) fn dedup(unseen: &mut Vec<Unseen>) {
    let mut seen: Vec<Unseen> = Vec::new();
    unseen.retain(|u| {
        let first = !seen.contains(u);
        if first {
            seen.push(u.clone());
        }
        first
    });
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn denied(path: &str) -> Unseen {
        Unseen {
            source: "state",
            path: PathBuf::from(path),
            reason: "permission denied".into(),
            hint: fsutil::HINT_DENIED,
        }
    }

    #[test]
    fn a_partial_view_ends_in_one_line_per_source_and_exit_1() {
        assert_eq!(finish(&[]).unwrap(), exit::OK);
        let e = finish(&[denied("/s/a"), denied("/s/b"), denied("/s/a")]).unwrap_err();
        assert_eq!(e.exit_code(), exit::FAILURE);
        assert_eq!(
            e.to_string(),
            format!(
                "cannot read /s/a: permission denied — {0}\ncannot read /s/b: permission denied — {0}",
                fsutil::HINT_DENIED
            )
        );
    }

    #[test]
    fn only_errors_about_files_become_unseen_sources() {
        let missing = Error::io("cannot read", "/s/x", std::io::ErrorKind::NotFound.into());
        assert!(unseen_in("log", missing).is_err());
        let denied_io = Error::io(
            "cannot read",
            "/s/x",
            std::io::ErrorKind::PermissionDenied.into(),
        );
        let unseen = unseen_in("log", denied_io).unwrap();
        assert_eq!(unseen[0].source, "log");
        assert_eq!(unseen[0].reason, "permission denied");
        assert!(unseen_in("log", Error::Failed("other".into())).is_err());
    }
}
