//! Where commands print their reports.
//!
//! Presenters write into a `&mut dyn Write` and return `io::Result`, so a failed write reaches the
//! operator instead of vanishing in `let _ = writeln!`. [`Error::Output`] carries it, and
//! `cli::run` treats a closed pipe (`agent-runner status | head -1`) as the reader being done: a
//! quiet exit 0, as other Unix tools behave. Tests hand presenters a `Vec<u8>` instead of stdout.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};

/// Runs `present` against standard output (locked once, flushed at the end), through
/// [`Printable`]: much of what the read commands show was written by the agent.
pub(crate) fn to_stdout(present: impl FnOnce(&mut dyn Paint) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let coloured = colour_for(stdout.is_terminal());
    let mut out = Printable::new(stdout.lock()).coloured(coloured);
    present(&mut out)
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// The `--color` choice: colour on a terminal (`Auto`), always, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColourChoice {
    /// When the stream is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Even into a pipe or file (`less -R`), whatever `NO_COLOR` says.
    Always,
    /// Never.
    Never,
}

/// The choice of this run; `Never` until the command line sets it, so that nothing run without
/// it (tests, the web server) colours by accident.
static CHOICE: AtomicU8 = AtomicU8::new(ColourChoice::Never as u8);

/// Records the `--color` choice of this run.
pub(crate) fn choose_colour(choice: ColourChoice) {
    CHOICE.store(choice as u8, Ordering::Relaxed);
}

/// Whether a stream (a terminal or not) gets colour under the choice of this run.
pub(crate) fn colour_for(is_terminal: bool) -> bool {
    let choice = CHOICE.load(Ordering::Relaxed);
    if choice == ColourChoice::Always as u8 {
        true
    } else if choice == ColourChoice::Auto as u8 {
        // no-color.org: present and not empty disables colour.
        is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    } else {
        false
    }
}

/// What a coloured word means; each has one colour, so the same meaning looks the same in
/// every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// No colour: what needs no attention.
    Plain,
    /// Working as it should: running, ok, healthy.
    Good,
    /// Worth a look: paused, finished, a warning.
    Notice,
    /// Needs the operator: failed, halted, an error.
    Bad,
}

impl Tone {
    /// The SGR sequence that starts the tone (green, yellow, bold red).
    fn start(self) -> &'static str {
        match self {
            Tone::Plain => "",
            Tone::Good => "\x1b[32m",
            Tone::Notice => "\x1b[33m",
            Tone::Bad => "\x1b[1;31m",
        }
    }
}

/// SGR: back to the terminal's default rendition.
const SGR_RESET: &str = "\x1b[0m";

/// A report's output that can colour a word. The escape sequences are ours, written after the
/// word went through [`Printable`], so nothing the agent wrote can start or stop a colour.
pub(crate) trait Paint: Write {
    /// Writes `text` in `tone` when this output is coloured, else as it is.
    fn paint(&mut self, tone: Tone, text: &str) -> io::Result<()>;
}

/// Tests and in-memory reports: never coloured.
impl Paint for Vec<u8> {
    fn paint(&mut self, _tone: Tone, text: &str) -> io::Result<()> {
        self.write_all(text.as_bytes())
    }
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
    /// Whether [`Paint::paint`] colours.
    coloured: bool,
}

impl<W: Write> Printable<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            pending_c2: false,
            coloured: false,
        }
    }

    /// The same writer, colouring painted words when `coloured`.
    pub(crate) fn coloured(mut self, coloured: bool) -> Self {
        self.coloured = coloured;
        self
    }

    /// The writer underneath (tests look at what reached it).
    #[cfg(test)]
    pub(crate) fn into_inner(self) -> W {
        self.inner
    }

    /// Writes our own escape sequence, past the escaping (a lead byte held back goes first).
    fn raw(&mut self, sequence: &str) -> io::Result<()> {
        if std::mem::take(&mut self.pending_c2) {
            self.inner.write_all(&[0xc2])?;
        }
        self.inner.write_all(sequence.as_bytes())
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
        self.raw("")?;
        self.inner.flush()
    }
}

impl<W: Write> Paint for Printable<W> {
    fn paint(&mut self, tone: Tone, text: &str) -> io::Result<()> {
        if !self.coloured || tone == Tone::Plain {
            return self.write_all(text.as_bytes());
        }
        self.raw(tone.start())?;
        self.write_all(text.as_bytes())?;
        self.raw(SGR_RESET)
    }
}

/// Prints one line of a command's report (progress of start, stop, generate…) with the error
/// handling of [`to_stdout`]: `println!` would panic on a closed pipe.
pub(crate) fn line(text: std::fmt::Arguments<'_>) -> Result<()> {
    to_stdout(|out| writeln!(out, "{text}"))
}

/// Prints one line on standard error through [`Printable`], for what a step or a command only
/// says and goes on: error texts quote what the agent wrote (a state file serde could not read,
/// a path under its directory), and root's steps print to the journal. A failed write is
/// dropped, as there is nowhere left to say it (`eprintln!` would panic instead).
pub(crate) fn stderr_line(text: fmt::Arguments<'_>) {
    let _ = line_to(io::stderr().lock(), text);
}

/// `text` and a newline into `out`, escaped.
fn line_to(out: impl Write, text: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = Printable::new(out);
    writeln!(out, "{text}")?;
    out.flush()
}

/// `text` with its control characters spelt `\u00XX`, as [`Printable`] spells them (newlines
/// kept when asked, tabs always): for text that leaves other than through a writer — an sd-notify
/// `STATUS=`, where a newline would start another assignment, or a line of an event stream.
/// Borrowed when there is nothing to escape, the usual case.
pub(crate) fn visible(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let escapes = |c: char| c.is_control() && !(keep_newlines && c == '\n') && c != '\t';
    if !text.chars().any(escapes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escapes(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
    fn text_and_lines_are_escaped_as_printable_escapes() {
        let hostile = "unknown variant `\x1b]0;PWNED\x07`\u{9b}2J\ttab\nnext";
        let escaped = "unknown variant `\\u001b]0;PWNED\\u0007`\\u009b2J\ttab\nnext";
        assert_eq!(visible(hostile, true), escaped);
        assert_eq!(visible(hostile, false), escaped.replace('\n', "\\u000a"));
        assert!(matches!(visible("plain é\ttab\n", true), Cow::Borrowed(_)));
        let mut line = Vec::new();
        line_to(
            &mut line,
            format_args!("agent-runner: after round: {hostile}"),
        )
        .unwrap();
        let line = String::from_utf8(line).unwrap();
        assert_eq!(line, format!("agent-runner: after round: {escaped}\n"));
    }

    #[test]
    fn colour_is_ours_and_what_is_painted_stays_escaped() {
        let mut out = Printable::new(Vec::new()).coloured(true);
        out.paint(Tone::Bad, "failed\x1b[32m").unwrap();
        out.write_all(b" \x1b[0m").unwrap();
        out.flush().unwrap();
        let text = String::from_utf8(out.inner).unwrap();
        assert_eq!(text, "\x1b[1;31mfailed\\u001b[32m\x1b[0m \\u001b[0m");
        let mut plain = Printable::new(Vec::new());
        plain.paint(Tone::Good, "running").unwrap();
        assert_eq!(plain.inner, b"running");
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
