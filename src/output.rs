//! Where commands print their reports.
//!
//! Presenters write into a `&mut dyn Write` and return `io::Result`, so a failed write reaches the
//! operator instead of vanishing in `let _ = writeln!`. [`Error::Output`] carries it, and
//! `cli::run` treats a closed pipe (`agent-runner status | head -1`) as the reader being done: a
//! quiet exit 0, as other Unix tools behave. Tests hand presenters a `Vec<u8>` instead of stdout.

use std::io::{self, Write};

use serde::Serialize;

use crate::error::{Error, Result};

/// Runs `present` against standard output (locked once, flushed at the end), through
/// [`Printable`]: much of what the read commands show was written by the agent.
pub(crate) fn to_stdout(present: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = Printable::new(stdout.lock());
    present(&mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// A writer that lets no terminal control through. State files, events and round logs are
/// written by the agent, and a root operator reading them must not have an escape sequence
/// retitle, recolour or rewrite their terminal. C0 controls (but newline and tab), DEL and C1
/// controls become `\u00XX`: readable in text, and the very same character inside a JSON string,
/// so `--json` stays valid and means what it meant.
pub(crate) struct Printable<W: Write> {
    inner: W,
    /// The lead byte of a two-byte UTF-8 sequence split across two writes.
    pending_c2: bool,
}

impl<W: Write> Printable<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            pending_c2: false,
        }
    }

    fn escaped(&mut self, code: u8) -> io::Result<()> {
        write!(self.inner, "\\u{code:04x}")
    }
}

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            if std::mem::take(&mut self.pending_c2) {
                if (0x80..0xa0).contains(&b) {
                    self.escaped(b)?;
                    start = i + 1;
                    continue;
                }
                self.inner.write_all(&[0xc2])?;
            }
            let control = (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f;
            if !control && b != 0xc2 {
                continue;
            }
            self.inner.write_all(&buf[start..i])?;
            start = i + 1;
            if b == 0xc2 {
                self.pending_c2 = true;
            } else {
                self.escaped(b)?;
            }
        }
        self.inner.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.pending_c2) {
            self.inner.write_all(&[0xc2])?;
        }
        self.inner.flush()
    }
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

/// `arg` as one word of a POSIX shell command line: as it is when plainly safe, else in single
/// quotes (for the commands agent-runner prints or runs over ssh).
pub(crate) fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=@:,".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Whether `error` only says that whoever read our output has gone away.
pub(crate) fn reader_gone(error: &Error) -> bool {
    matches!(error, Error::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printable(chunks: &[&[u8]]) -> String {
        let mut out = Printable::new(Vec::new());
        for chunk in chunks {
            out.write_all(chunk).unwrap();
        }
        out.flush().unwrap();
        String::from_utf8_lossy(&out.inner).into_owned()
    }

    #[test]
    fn no_terminal_control_gets_through() {
        let hostile = "round 3\x1b]0;owned\x07 ok\r\u{9b}31m\x7f\n\tnext é ¢\n";
        assert_eq!(
            printable(&[hostile.as_bytes()]),
            "round 3\\u001b]0;owned\\u0007 ok\\u000d\\u009b31m\\u007f\n\tnext é ¢\n"
        );
        // A C1 control split across two writes is still caught; a ¢ split so is kept.
        let csi = "\u{9b}".as_bytes();
        let cent = "¢".as_bytes();
        assert_eq!(
            printable(&[&csi[..1], &csi[1..], &cent[..1], &cent[1..]]),
            "\\u009b¢"
        );
        assert_eq!(
            printable(&[&cent[..1]]),
            String::from_utf8_lossy(&cent[..1])
        );
    }

    #[test]
    fn escaped_json_means_the_same() {
        let value = serde_json::json!({"last_error": "a\u{7f}b\u{85}c\u{1b}d"});
        let mut out = Printable::new(Vec::new());
        json(&mut out, &value).unwrap();
        let text = String::from_utf8(out.inner).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }

    #[test]
    fn a_closed_pipe_is_the_reader_going_away() {
        let gone = Error::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(reader_gone(&gone));
        let full = Error::Output(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!reader_gone(&full));
        assert_eq!(full.exit_code(), crate::error::exit::FAILURE);
    }
}
