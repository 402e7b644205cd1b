//! Read commands over the journal and the round logs: `events` and `logs`. Reading the events
//! back is [`crate::events::read`]'s; this is how they are shown.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::KindName;
use crate::events::read::{self, JournalStart, Query, Record, Source};

/// Options of `agent-runner events`.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventsOptions {
    /// Keep printing new events.
    pub follow: bool,
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
    /// journalctl-style start time.
    pub since: Option<String>,
    /// At most this many past events.
    pub lines: Option<usize>,
    /// One JSON object a line.
    pub json: bool,
}

/// "12s", "4m05s", "3h12m", "2d04h" for a duration in seconds.
pub(crate) fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, (secs / 60) % 60),
        _ => format!("{}d{:02}h", secs / 86_400, (secs / 3600) % 24),
    }
}

/// "in 12s" / "3m05s ago" relative to now, for a time in µs since the epoch.
pub(crate) fn relative(us: u64, now: u64) -> String {
    if us >= now {
        format!("in {}", human_duration((us - now).div_ceil(1_000_000)))
    } else {
        format!("{} ago", human_duration((now - us) / 1_000_000))
    }
}

/// One event as a human line: `2026-11-22 10:00:00  round 7  round_end  <message or payload>`.
/// Everything shown is as stored, so that a kind this version does not know shows as well.
pub(crate) fn human_line(event: &Record) -> String {
    let ts = event
        .get("ts")
        .and_then(Value::as_str)
        .map(|t| t.replace('T', " ").chars().take(19).collect::<String>())
        .unwrap_or_default();
    let kind = event.name().unwrap_or("?");
    let round = event
        .get("round")
        .map(|r| match r {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .map_or_else(String::new, |r| format!("round {r}"));
    let detail = match event.get("message").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => event
            .fields()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "ts" | "event" | "project" | "round"))
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
    };
    format!("{ts}  {round:<9} {kind:<24} {detail}")
}

fn print_event(out: &mut impl Write, event: &Record, json: bool) -> std::io::Result<()> {
    if json {
        writeln!(out, "{}", event.to_json())
    } else {
        writeln!(out, "{}", human_line(event))
    }
}

/// Prints one followed event at once; `false` when stdout is gone.
fn print_followed(event: &Record, json: bool) -> bool {
    let mut out = std::io::stdout().lock();
    print_event(&mut out, event, json)
        .and_then(|()| out.flush())
        .is_ok()
}

/// `agent-runner events NAME`.
pub(crate) fn events(ctx: &Context, project: &ProjectRef, options: &EventsOptions) -> Result<u8> {
    let project = crate::config::load_project(project, ctx.scope)?;
    // Following starts from here when no past event gives a cursor: nothing that happens while
    // the history is read may fall between the read and the follow.
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Any name is accepted: a kind this version does not know may be in the journal.
    let kinds: Vec<KindName> = options.kinds.iter().map(|k| KindName::parse(k)).collect();
    let query = Query {
        kinds: kinds.clone(),
        round: None,
        since: options.since.clone(),
        limit: if options.follow {
            Some(options.lines.unwrap_or(10))
        } else {
            options.lines
        },
        scan: None,
    };
    let (events, source) = if query.limit == Some(0) {
        // Only what happens from now on: no history to read, only where to follow it.
        (Vec::new(), read::answering_source(&project, &query)?)
    } else {
        read::read(&project, &query)?
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for event in &events {
        if print_event(&mut out, event, options.json).is_err() {
            return Ok(exit::OK); // a closed pipe (`| head`) is not an error
        }
    }
    let _ = out.flush();
    drop(out);
    if !options.follow {
        return Ok(exit::OK);
    }
    let json = options.json;
    match source {
        Source::Journal => {
            let cursor = events.last().and_then(Record::cursor).map(str::to_string);
            let start = cursor.map_or(JournalStart::Since(started), JournalStart::AfterCursor);
            read::follow_journal(&project.name, &kinds, &start, |e| print_followed(e, json))?;
        }
        Source::Mirror => {
            read::follow_mirror(&project.runtime.log_dir, &query, |e| {
                print_followed(e, json)
            });
        }
    }
    Ok(exit::OK)
}

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

    fn emit(&mut self, line: &[u8]) -> std::io::Result<()> {
        let object =
            serde_json::json!({"round": self.round, "line": String::from_utf8_lossy(line)});
        writeln!(self.out, "{object}")
    }
}

impl<W: Write> Write for LogOutput<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
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

    fn flush(&mut self) -> std::io::Result<()> {
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

/// The highest-numbered `round-N.log` in `rounds`.
pub(crate) fn latest_round_log(rounds: &Path) -> Option<(u64, PathBuf)> {
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
pub(crate) fn tail(path: &Path, max_lines: usize) -> std::io::Result<Vec<String>> {
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
    let stdout = std::io::stdout();
    let mut file = File::open(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    let mut out = LogOutput::new(stdout.lock(), json, &path);
    if std::io::copy(&mut file, &mut out).is_err() {
        return Ok(exit::OK);
    }
    let _ = out.flush();
    drop(out);
    if !follow {
        return Ok(exit::OK);
    }
    // Follow this log; when following the current round and a new round starts, switch to it.
    let mut current = path;
    let mut offset = file.stream_position().unwrap_or(0);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if round.is_none()
            && let Some(newer) = round_log_path(log_dir, None)
            && newer != current
        {
            if !json {
                let mut out = stdout.lock();
                let _ = writeln!(out, "==> {} <==", newer.display());
            }
            current = newer;
            offset = 0;
        }
        let Ok(mut file) = File::open(&current) else {
            continue;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len <= offset {
            offset = offset.min(len);
            continue;
        }
        let _ = file.seek(SeekFrom::Start(offset));
        let mut chunk = Vec::new();
        if (&mut file)
            .take(len - offset)
            .read_to_end(&mut chunk)
            .is_err()
        {
            continue;
        }
        if json {
            // Whole lines only: the rest is read again once its newline has arrived.
            chunk.truncate(chunk.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1));
        }
        let mut out = LogOutput::new(stdout.lock(), json, &current);
        if out.write_all(&chunk).is_err() {
            return Ok(exit::OK);
        }
        offset += chunk.len() as u64;
        if out.flush().is_err() {
            return Ok(exit::OK);
        }
    }
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
