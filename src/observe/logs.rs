//! `agent-runner logs NAME`: a round's log as the round wrote it (raw, or one JSON object a
//! line), and where round logs are for `peek`.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::output;

/// How often `logs --follow` looks for more output.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);

/// The log of round `round`, or the running round's (`round-current.log`), or the newest.
pub(crate) fn round_log_path(log_dir: &Path, round: Option<u64>) -> Option<PathBuf> {
    let rounds = log_dir.join("rounds");
    if let Some(n) = round {
        let path = rounds.join(format!("round-{n}.log"));
        return path.is_file().then_some(path);
    }
    let current = log_dir.join("round-current.log");
    if let Ok(target) = std::fs::canonicalize(&current)
        && target.is_file()
    {
        return Some(target);
    }
    latest_round_log(&rounds).map(|(_, p)| p)
}

/// The highest-numbered `round-N.log` in `rounds`.
fn latest_round_log(rounds: &Path) -> Option<(u64, PathBuf)> {
    std::fs::read_dir(rounds)
        .ok()?
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix("round-")?
                .strip_suffix(".log")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .max_by_key(|(n, _)| *n)
}

/// The last `max_lines` lines of a file (reading at most the last 256 KiB).
pub(crate) fn tail(path: &Path, max_lines: usize) -> io::Result<Vec<String>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(256 * 1024);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // probably cut in the middle
    }
    let skip = lines.len().saturating_sub(max_lines);
    Ok(lines.split_off(skip))
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
    fn new(out: W, json: bool, path: &Path) -> Self {
        let round = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.strip_prefix("round-"))
            .and_then(|n| n.parse().ok());
        Self {
            out,
            round,
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
            if byte == b'\n' {
                if let Err(e) = self.emit(&pending) {
                    result = Err(e);
                    break;
                }
                pending.clear();
            } else {
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

/// `agent-runner logs NAME`.
pub(crate) fn logs(
    ctx: &Context,
    project: &ProjectRef,
    round: Option<u64>,
    follow: bool,
    json: bool,
) -> Result<u8> {
    let project = crate::config::load_project(project, ctx.scope)?;
    let log_dir = &project.runtime.log_dir;
    let Some(path) = round_log_path(log_dir, round) else {
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
    let mut file = File::open(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    let mut read_failed = None;
    output::to_stdout(|out| {
        let mut log = LogOutput::new(out, json, &path);
        copy_log(&mut file, &mut log, &mut read_failed)?;
        log.flush()
    })?;
    if let Some(e) = read_failed {
        return Err(Error::io("cannot read", &path, e));
    }
    if follow {
        let offset = file.stream_position().unwrap_or(0);
        follow_log(log_dir, round, path, offset, json)?;
    }
    Ok(exit::OK)
}

/// Copies `file` to `out`. Its read errors land in `read_failed`, so that only what failed to
/// be written reaches the caller as an error of the output.
fn copy_log(
    file: &mut File,
    out: &mut dyn Write,
    read_failed: &mut Option<io::Error>,
) -> io::Result<()> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => out.write_all(&buf[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                *read_failed = Some(e);
                return Ok(());
            }
        }
    }
}

/// Follows the log at `current` from `offset`; when following the current round (no `round`)
/// and a new round starts, switches to its log. Ends only when stdout is gone.
fn follow_log(
    log_dir: &Path,
    round: Option<u64>,
    mut current: PathBuf,
    mut offset: u64,
    json: bool,
) -> Result<()> {
    loop {
        std::thread::sleep(FOLLOW_INTERVAL);
        if round.is_none()
            && let Some(newer) = round_log_path(log_dir, None)
            && newer != current
        {
            if !json {
                output::line(format_args!("==> {} <==", newer.display()))?;
            }
            current = newer;
            offset = 0;
        }
        let Some(chunk) = new_output(&current, &mut offset, json) else {
            continue;
        };
        output::to_stdout(|out| {
            let mut log = LogOutput::new(out, json, &current);
            log.write_all(&chunk)?;
            log.flush()
        })?;
        offset += chunk.len() as u64;
    }
}

/// What the log at `path` holds past `offset` (whole lines only for JSON: the rest is read again
/// once its newline has arrived); `None` when there is nothing new or it cannot be read now. A
/// log that shrank is followed from its new end.
fn new_output(path: &Path, offset: &mut u64, json: bool) -> Option<Vec<u8>> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().map_or(0, |m| m.len());
    if len <= *offset {
        *offset = (*offset).min(len);
        return None;
    }
    file.seek(SeekFrom::Start(*offset)).ok()?;
    let mut chunk = Vec::new();
    (&mut file)
        .take(len - *offset)
        .read_to_end(&mut chunk)
        .ok()?;
    if json {
        chunk.truncate(chunk.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1));
    }
    Some(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_returns_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l");
        std::fs::write(&p, "a\nb\nc\n").unwrap();
        assert_eq!(tail(&p, 2).unwrap(), ["b", "c"]);
    }
}
