//! Where commands print their reports.
//!
//! Presenters write into a `&mut dyn Write` and return `io::Result`, so a failed write reaches the
//! operator instead of vanishing in `let _ = writeln!`. [`Error::Output`] carries it, and
//! `cli::run` treats a closed pipe (`agent-runner status | head -1`) as the reader being done: a
//! quiet exit 0, as other Unix tools behave. Tests hand presenters a `Vec<u8>` instead of stdout.

use std::io::{self, Write};

use serde::Serialize;

use crate::error::{Error, Result};

/// Runs `present` against standard output (locked once, flushed at the end).
pub(crate) fn to_stdout(present: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    present(&mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// Prints one line of a command's report (progress of start, stop, generate…) with the error
/// handling of [`to_stdout`]: `println!` would panic on a closed pipe.
pub(crate) fn line(text: std::fmt::Arguments<'_>) -> Result<()> {
    to_stdout(|out| writeln!(out, "{text}"))
}

/// Writes `value` as pretty-printed JSON and a newline: the `--json` form of a report.
pub(crate) fn json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// Whether `error` only says that whoever read our output has gone away.
pub(crate) fn reader_gone(error: &Error) -> bool {
    matches!(error, Error::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_the_reader_going_away() {
        let gone = Error::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(reader_gone(&gone));
        let full = Error::Output(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!reader_gone(&full));
        assert_eq!(full.exit_code(), crate::error::exit::FAILURE);
    }
}
