//! `agent-runner logs NAME`: a round's log as the round wrote it (raw, or one JSON object a
//! line), and where round logs are for `peek`.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::fsutil::{self, Dir, Tail};
use crate::output;
use crate::round::recover::{is_log_name, log_name, round_of};

/// How often `logs --follow` looks for more output.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);
/// The most of a log `peek` reads for its last lines.
const TAIL_BYTES: u64 = 256 * 1024;
/// The most read at once while following, and the longest line `logs --json` holds back waiting
/// for its newline: a log the agent made sparse and huge costs no more memory than this.
const CHUNK_BYTES: usize = 1 << 20;

/// The most `logs -n` reads back from the end of a log looking for where its last lines begin:
/// a log of one endless line costs no more than this.
const LINES_BACK_BYTES: u64 = 4 << 20;

/// A round log, opened for reading with no link followed (the agent can write in log_dir and
/// rounds/: a link there could point at any file root can read, a FIFO would block).
pub(crate) struct RoundLog {
    /// Where it is.
    pub path: PathBuf,
    /// Its round.
    pub round: u64,
    file: File,
}

impl RoundLog {
    /// The last `max_lines` lines (from the last [`TAIL_BYTES`] at most).
    pub(crate) fn last_lines(&self, max_lines: usize) -> Result<Vec<String>> {
        fsutil::tail(&self.file, TAIL_BYTES)
            .map(|t| last_lines(&t, max_lines))
            .map_err(|e| Error::io("cannot read", &self.path, e))
    }
}

/// The log of round `round`, else the running round's (the one `round-current.log` names), else
/// the newest; `None` when there is none. `round-current.log` is only read as a name: whatever
/// it points at, the log opened is a `rounds/round-N.log`.
pub(crate) fn open_round_log(log_dir: &Path, round: Option<u64>) -> Result<Option<RoundLog>> {
    let Some(log_dir) = missing_is_none(Dir::open(log_dir))? else {
        return Ok(None);
    };
    let Some(rounds) = missing_is_none(log_dir.subdir(Path::new("rounds")))? else {
        return Ok(None);
    };
    if let Some(n) = round {
        return missing_is_none(open_in(&rounds, n));
    }
    // The current round's log may be gone (pruned): then the newest there is.
    if let Some(n) = current_round(&log_dir)
        && let Some(log) = missing_is_none(open_in(&rounds, n))?
    {
        return Ok(Some(log));
    }
    match latest_round(&rounds)? {
        Some(n) => missing_is_none(open_in(&rounds, n)),
        None => Ok(None),
    }
}

fn open_in(rounds: &Dir, n: u64) -> Result<RoundLog> {
    let name = PathBuf::from(log_name(n));
    let file = rounds.open_read(&name)?;
    Ok(RoundLog {
        path: rounds.path().join(name),
        round: n,
        file,
    })
}

/// `Ok(None)` for a file or directory that does not exist.
fn missing_is_none<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.is_missing() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The round `round-current.log` names, when it is the link the round makes.
fn current_round(log_dir: &Dir) -> Option<u64> {
    let target = log_dir.link_target("round-current.log")?;
    round_of(target.strip_prefix("rounds").ok()?.to_str()?)
}

/// The highest N of the `round-N.log` in `rounds`.
fn latest_round(rounds: &Dir) -> Result<Option<u64>> {
    Ok(rounds
        .entries(is_log_name)?
        .iter()
        .filter_map(|entry| round_of(entry.name.to_str()?))
        .max())
}

/// The last `max_lines` lines of a tail; the first is dropped when the tail began inside it.
pub(crate) fn last_lines(tail: &Tail, max_lines: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(&tail.bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if tail.skipped > 0 && !lines.is_empty() {
        lines.remove(0); // probably cut in the middle
    }
    let skip = lines.len().saturating_sub(max_lines);
    lines.split_off(skip)
}

/// Where `logs` writes: the raw bytes, or one JSON object per complete line (`--json`).
struct LogOutput<W: Write> {
    out: W,
    /// The round the log belongs to, for JSON objects.
    round: Option<u64>,
    /// `None`: raw; `Some(partial line)`: JSON mode.
    pending: Option<Vec<u8>>,
}

impl<W: Write> LogOutput<W> {
    fn new(out: W, json: bool, round: u64) -> Self {
        Self {
            out,
            round: Some(round),
            pending: json.then(Vec::new),
        }
    }

    fn emit(&mut self, line: &[u8]) -> io::Result<()> {
        let object =
            serde_json::json!({"round": self.round, "line": String::from_utf8_lossy(line)});
        writeln!(self.out, "{object}")
    }
}

impl<W: Write> Write for LogOutput<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(mut pending) = self.pending.take() else {
            return self.out.write(buf);
        };
        let mut result = Ok(buf.len());
        for &byte in buf {
            // A line longer than the cap is cut into pieces rather than held without bound.
            if byte == b'\n' || pending.len() >= CHUNK_BYTES {
                if let Err(e) = self.emit(&pending) {
                    result = Err(e);
                    break;
                }
                pending.clear();
            }
            if byte != b'\n' {
                pending.push(byte);
            }
        }
        self.pending = Some(pending);
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        // A partial last line is emitted at the end: the log may end without a newline.
        if let Some(pending) = self.pending.take() {
            if !pending.is_empty() {
                self.emit(&pending)?;
            }
            self.pending = Some(Vec::new());
        }
        self.out.flush()
    }
}

/// What `logs` shows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogsOptions {
    /// This round's log instead of the current one's.
    pub round: Option<u64>,
    /// Only the last this many lines.
    pub lines: Option<usize>,
    /// Keep printing as the log grows.
    pub follow: bool,
    /// One JSON object a line.
    pub json: bool,
}

/// `agent-runner logs NAME`.
pub(crate) fn logs(ctx: &Context, project: &ProjectRef, options: &LogsOptions) -> Result<u8> {
    let LogsOptions {
        round,
        lines,
        follow,
        json,
    } = *options;
    let project = crate::config::load_for_reading_said(project, ctx.scope)?;
    let log_dir = &project.runtime.log_dir;
    let opened = open_round_log(log_dir, round).map_err(|e| fsutil::unseen_error("log", e))?;
    let Some(mut log) = opened else {
        let what = round.map_or_else(
            || "no round log yet".to_string(),
            |n| format!("no log of round {n}"),
        );
        return Err(Error::Failed(format!(
            "{what} in {}\n  hint: `agent-runner{} peek {}` shows which rounds ran",
            log_dir.join("rounds").display(),
            project.scope.flag(),
            project.name
        )));
    };
    let len = log.file.metadata().map_or(0, |m| m.len());
    let from = match lines {
        Some(n) => start_of_last_lines(&log.file, len, n)
            .map_err(|e| Error::io("cannot read", &log.path, e))?,
        None => 0,
    };
    let mut offset = from;
    let mut read_failed = None;
    output::to_stdout(|out| {
        let mut out = LogOutput::new(out, json, log.round);
        offset = copy_log(&log.file, from..len, &mut out, &mut read_failed)?;
        out.flush()
    })?;
    if let Some(e) = read_failed {
        return Err(Error::io("cannot read", &log.path, e));
    }
    if follow {
        loop {
            std::thread::sleep(FOLLOW_INTERVAL);
            follow_step(log_dir, round, &mut log, &mut offset, json)?;
        }
    }
    Ok(exit::OK)
}

/// Where the last `lines` lines of the first `len` bytes of `file` begin, looking back at most
/// [`LINES_BACK_BYTES`]: when the window holds fewer lines, the first whole line in it (or the
/// window's start, for one line longer than it).
fn start_of_last_lines(file: &File, len: u64, lines: usize) -> io::Result<u64> {
    if lines == 0 {
        return Ok(len);
    }
    let floor = len.saturating_sub(LINES_BACK_BYTES);
    let mut buf = vec![0; 64 * 1024];
    let mut pos = len;
    let mut found = 0;
    let mut earliest = None;
    while pos > floor {
        let size = usize::try_from(pos - floor).map_or(buf.len(), |n| n.min(buf.len()));
        let from = pos - size as u64;
        file.read_exact_at(&mut buf[..size], from)?;
        for i in memchr::memrchr_iter(b'\n', &buf[..size]) {
            let line_start = from + i as u64 + 1;
            // The newline that ends the log ends its last line; it begins none.
            if line_start == len {
                continue;
            }
            found += 1;
            if found == lines {
                return Ok(line_start);
            }
            earliest = Some(line_start);
        }
        pos = from;
    }
    Ok(if floor == 0 {
        0
    } else {
        earliest.unwrap_or(floor)
    })
}

/// Copies the bytes `range` of `file` (what is added later is for `--follow`) to `out`, and says
/// where the copy ended. Its read errors land in `read_failed`, so that only what failed to be
/// written reaches the caller as an error of the output.
fn copy_log(
    file: &File,
    range: std::ops::Range<u64>,
    out: &mut dyn Write,
    read_failed: &mut Option<io::Error>,
) -> io::Result<u64> {
    let mut buf = vec![0; 64 * 1024];
    let mut at = range.start;
    while at < range.end {
        let want = usize::try_from(range.end - at).map_or(buf.len(), |n| n.min(buf.len()));
        match file.read_at(&mut buf[..want], at) {
            Ok(0) => break,
            Ok(n) => {
                out.write_all(&buf[..n])?;
                at += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                *read_failed = Some(e);
                break;
            }
        }
    }
    Ok(at)
}

/// One look at the followed log: when following the current round (no `round`) and a newer
/// round has begun, switches to its log; then prints what the log gained since `offset`.
fn follow_step(
    log_dir: &Path,
    round: Option<u64>,
    log: &mut RoundLog,
    offset: &mut u64,
    json: bool,
) -> Result<()> {
    if round.is_none()
        && let Ok(Some(newer)) = open_round_log(log_dir, None)
        && newer.round != log.round
    {
        if !json {
            output::line(format_args!("==> {} <==", newer.path.display()))?;
        }
        *log = newer;
        *offset = 0;
    }
    let Some(chunk) = new_output(&log.file, offset, json) else {
        return Ok(());
    };
    output::to_stdout(|out| {
        let mut out = LogOutput::new(out, json, log.round);
        out.write_all(&chunk)?;
        out.flush()
    })?;
    *offset += chunk.len() as u64;
    Ok(())
}

/// What `file` holds past `offset`, at most [`CHUNK_BYTES`] (whole lines only for JSON: the
/// rest is read again once its newline has arrived, unless no newline came in a whole chunk);
/// `None` when there is nothing new or it cannot be read now. A log that shrank is followed from
/// its new end.
fn new_output(file: &File, offset: &mut u64, json: bool) -> Option<Vec<u8>> {
    let len = file.metadata().map_or(0, |m| m.len());
    if len <= *offset {
        *offset = (*offset).min(len);
        return None;
    }
    let want = usize::try_from(len - *offset).map_or(CHUNK_BYTES, |n| n.min(CHUNK_BYTES));
    let mut chunk = vec![0; want];
    let got = file.read_at(&mut chunk, *offset).ok()?;
    chunk.truncate(got);
    if json {
        match chunk.iter().rposition(|&b| b == b'\n') {
            Some(end) => chunk.truncate(end + 1),
            None if chunk.len() < CHUNK_BYTES => chunk.clear(),
            // A line longer than a whole chunk goes out in pieces.
            None => {}
        }
    }
    (!chunk.is_empty()).then_some(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_drop_the_line_the_tail_began_in() {
        let whole = Tail {
            bytes: b"a\nb\nc\n".to_vec(),
            skipped: 0,
        };
        assert_eq!(last_lines(&whole, 2), ["b", "c"]);
        assert_eq!(last_lines(&whole, 5), ["a", "b", "c"]);
        let cut = Tail {
            bytes: b"ld\nb\n".to_vec(),
            skipped: 3,
        };
        assert_eq!(last_lines(&cut, 5), ["b"]);
    }

    #[test]
    fn the_last_lines_are_found_from_the_end_within_a_bound() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("round-1.log");
        let starts = |text: &[u8], lines: usize| {
            std::fs::write(&path, text).unwrap();
            let file = File::open(&path).unwrap();
            let len = file.metadata().unwrap().len();
            start_of_last_lines(&file, len, lines).unwrap()
        };
        assert_eq!(starts(b"a\nb\nc\n", 2), 2);
        assert_eq!(starts(b"a\nb\nc", 2), 2);
        assert_eq!(starts(b"a\nb\nc\n", 3), 0);
        assert_eq!(starts(b"a\nb\nc\n", 9), 0);
        assert_eq!(starts(b"a\nb\nc\n", 0), 6);
        assert_eq!(starts(b"", 3), 0);
        // Past the bound: the first whole line in it, or where it starts.
        let big = usize::try_from(LINES_BACK_BYTES).unwrap();
        let mut text = vec![b'x'; big];
        text.extend_from_slice(b"\nend\n");
        assert_eq!(starts(&text, 5), LINES_BACK_BYTES + 1);
        let long_line = vec![b'y'; big + 10];
        assert_eq!(starts(&long_line, 5), 10);
    }

    #[test]
    fn a_line_without_end_is_cut_not_held() {
        let mut out = Vec::new();
        {
            let mut log = LogOutput::new(&mut out, true, 4);
            log.write_all(&vec![b'x'; CHUNK_BYTES * 2 + 10]).unwrap();
            log.write_all(b"\nlast").unwrap();
            log.flush().unwrap();
        }
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let lengths: Vec<usize> = lines
            .iter()
            .map(|l| l["line"].as_str().unwrap().len())
            .collect();
        assert_eq!(lengths, [CHUNK_BYTES, CHUNK_BYTES, 10, 4]);
        assert!(lines.iter().all(|l| l["round"] == 4));
    }

    #[test]
    fn following_reads_at_most_a_chunk_and_whole_lines_for_json() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("round-1.log");
        std::fs::write(&path, "one\ntw").unwrap();
        let file = File::open(&path).unwrap();
        let mut offset = 0;
        assert_eq!(new_output(&file, &mut offset, true).unwrap(), b"one\n");
        assert_eq!(new_output(&file, &mut offset, false).unwrap(), b"one\ntw");
        // A log made sparse and huge is read a chunk at a time.
        let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        writer.set_len(1 << 36).unwrap();
        assert_eq!(
            new_output(&file, &mut offset, false).unwrap().len(),
            CHUNK_BYTES
        );
        offset = 1 << 37;
        assert_eq!(new_output(&file, &mut offset, false), None);
        assert_eq!(offset, 1 << 36);
    }

    #[test]
    fn the_current_round_is_known_by_the_link_s_name_only() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir(t.join("rounds")).unwrap();
        for n in [2, 10] {
            std::fs::write(
                t.join(format!("rounds/round-{n}.log")),
                format!("round {n}\n"),
            )
            .unwrap();
        }
        let open = |round| open_round_log(t, round).unwrap().map(|l| l.round);
        assert_eq!(open(None), Some(10));
        std::os::unix::fs::symlink("rounds/round-2.log", t.join("round-current.log")).unwrap();
        assert_eq!(open(None), Some(2));
        std::fs::remove_file(t.join("round-current.log")).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", t.join("round-current.log")).unwrap();
        assert_eq!(open(None), Some(10));
        // The current round's log was pruned: the newest there is.
        std::fs::remove_file(t.join("round-current.log")).unwrap();
        std::os::unix::fs::symlink("rounds/round-7.log", t.join("round-current.log")).unwrap();
        assert_eq!(open(None), Some(10));
        assert_eq!(open(Some(5)), None);
        assert_eq!(
            open_round_log(&t.join("missing"), None)
                .unwrap()
                .map(|l| l.round),
            None
        );
    }
}
