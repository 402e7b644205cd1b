//! Reading events back: from the journal (`journalctl -o json`, matched on
//! `AGENT_RUNNER_PROJECT=`; no C library) when it is readable, else from the JSON mirror
//! `LOG_DIR/events.jsonl`. Both are read newest first and only as far back as asked, so the cost
//! does not grow with the history.
//!
//! Each event comes back as a [`Record`] (`record.rs`): the object as it was stored, in the
//! mirror's format (what `events` prints, losslessly, whatever version wrote it), and its
//! [`Kind`](super::Kind) when this version knows it, from which [`Record::event`] parses the
//! typed payload.
//!
//! A reader who may see only part of the journal (journalctl says so on stderr) or none of the
//! mirror gets an error naming what it could not read, never an empty answer.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Map, Value};

use super::KindName;
use super::emit::{MIRROR_FILE, MIRROR_KEEP, MIRROR_MAX_BYTES, rotated};
pub(crate) use super::record::{Query, Record, Source};
use crate::config::Project;
use crate::error::{Error, Result, Unseen};
use crate::fsutil::{self, Dir};
use crate::time::{iso_utc_us, now_us, parse_since};

/// What the journal answered.
enum Journal {
    /// Nothing: journalctl is missing or failed.
    Unavailable,
    /// The events it holds.
    Seen(Vec<Record>),
    /// Only part of it could be read (an unprivileged reader sees no more than its own
    /// entries): silence there says nothing.
    Partial,
}

/// Where the journal lives, for messages.
const JOURNAL_DIR: &str = "/var/log/journal";
/// What a reader who sees only part of the journal can do about it.
const JOURNAL_HINT: &str = "run it with sudo, or join group systemd-journal (or adm)";

/// Events oldest first, and where they came from. The journal answers when it can be read and
/// has them; else the mirror. When neither can be read the error names both: an empty answer
/// would say "nothing happened" where the truth is "cannot see".
pub(crate) fn read(project: &Project, query: &Query) -> Result<(Vec<Record>, Source)> {
    let log_dir = &project.runtime.log_dir;
    let journal = read_journal(&project.name, query)?;
    if let Journal::Seen(events) = &journal
        && (!events.is_empty() || !mirror_may_have_events(log_dir))
    {
        return Ok((events.clone(), Source::Journal));
    }
    match read_mirror(log_dir, query) {
        Ok(events) => Ok((events, Source::Mirror)),
        Err(e) if matches!(journal, Journal::Partial) => Err(blind(e)),
        Err(e) => Err(e),
    }
}

/// Events of the mirror alone (what `status` uses: no process to spawn per project).
pub(crate) fn read_mirror_only(project: &Project, query: &Query) -> Result<Vec<Record>> {
    read_mirror(&project.runtime.log_dir, query)
}

/// Where [`read`] would find the events of `query`, without reading more than one.
pub(crate) fn answering_source(project: &Project, query: &Query) -> Result<Source> {
    let one = Query {
        limit: Some(1),
        ..query.clone()
    };
    let log_dir = &project.runtime.log_dir;
    let journal = read_journal(&project.name, &one)?;
    if let Journal::Seen(events) = &journal
        && (!events.is_empty() || !mirror_may_have_events(log_dir))
    {
        return Ok(Source::Journal);
    }
    match mirror_files(log_dir) {
        Ok(_) => Ok(Source::Mirror),
        Err(e) if matches!(journal, Journal::Partial) => Err(blind(e)),
        Err(e) => Err(e),
    }
}

/// The error of a reader who sees part of the journal and none of the mirror (`mirror`).
fn blind(mirror: Error) -> Error {
    let journal = Unseen {
        source: "journal",
        path: JOURNAL_DIR.into(),
        reason: "only your own entries are readable".into(),
        hint: JOURNAL_HINT,
    };
    let mut unseen = vec![journal];
    match mirror {
        Error::Unseen(more) => unseen.extend(more),
        other => match fsutil::unseen("events", &other) {
            Some(more) => unseen.push(more),
            None => return other,
        },
    }
    Error::Unseen(unseen)
}

fn journal_args(name: &str, query: &Query) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "-o".into(),
        "json".into(),
        "--no-pager".into(),
        format!("AGENT_RUNNER_PROJECT={name}"),
    ];
    if let Some(round) = query.round {
        args.push(format!("AGENT_RUNNER_ROUND={round}"));
    }
    for kind in &query.kinds {
        args.push(format!("AGENT_RUNNER_EVENT={}", kind.as_str()));
    }
    if let Some(since) = &query.since {
        args.push(format!("--since={since}"));
    }
    args
}

/// The journal's events of `query`. journalctl is not asked to be quiet: what it says on stderr
/// tells whether it could read all of the journal.
fn read_journal(name: &str, query: &Query) -> Result<Journal> {
    let mut args = journal_args(name, query);
    // Newest first, so reading can stop as soon as `limit` events are in.
    args.push("--reverse".into());
    let Ok(mut child) = Command::new("journalctl")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return Ok(Journal::Unavailable);
    };
    let mut events = Vec::new();
    let mut ended_early = false;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::with_capacity(1 << 16, stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(event) = journal_entry_to_record(&line) {
                events.push(event);
                if query.limit.is_some_and(|n| events.len() >= n) {
                    ended_early = true;
                    break;
                }
            }
        }
    }
    if ended_early {
        let _ = child.kill();
    }
    let status = child.wait();
    let mut stderr = String::new();
    if let Some(e) = child.stderr.take() {
        let _ = e.take(1 << 16).read_to_string(&mut stderr);
    }
    if journal_partly_hidden(&stderr) {
        return Ok(Journal::Partial);
    }
    if !ended_early && !status.is_ok_and(|s| s.success()) && events.is_empty() {
        if let Some(since) = &query.since
            && (stderr.contains("--since") || stderr.contains("Failed to parse timestamp"))
        {
            // The mirror's words for the same mistake, whichever source would have answered.
            return Err(parse_since(since, now_us()).err().unwrap_or_else(|| {
                Error::Usage(format!(
                    "--since {since:?}: {}",
                    stderr.lines().next().unwrap_or("invalid time").trim()
                ))
            }));
        }
        return Ok(Journal::Unavailable);
    }
    events.reverse();
    Ok(Journal::Seen(events))
}

/// Whether journalctl said (on stderr) that it could not open every journal file: the hint it
/// gives a reader outside the journal's groups, or its error when it could open none.
pub(crate) fn journal_partly_hidden(stderr: &str) -> bool {
    stderr.contains("not seeing messages from") || stderr.contains("insufficient permissions")
}

/// One `journalctl -o json` line → the event in the mirror format; `None` for entries that are
/// not agent-runner events (the unit's own output carries AGENT_RUNNER_PROJECT too).
pub(crate) fn journal_entry_to_record(line: &str) -> Option<Record> {
    let Value::Object(entry) = serde_json::from_str::<Value>(line).ok()? else {
        return None;
    };
    let field = |key: &str| entry.get(key).and_then(journal_text);
    let kind = field("AGENT_RUNNER_EVENT")?;
    let mut event = Map::new();
    let ts = field("__REALTIME_TIMESTAMP")
        .and_then(|t| t.parse::<u64>().ok())
        .map_or_else(String::new, iso_utc_us);
    event.insert("ts".into(), Value::String(ts));
    event.insert("event".into(), Value::String(kind));
    if let Some(project) = field("AGENT_RUNNER_PROJECT") {
        event.insert("project".into(), Value::String(project));
    }
    if let Some(round) = field("AGENT_RUNNER_ROUND") {
        event.insert("round".into(), typed(&round));
    }
    let mut keys: Vec<&String> = entry.keys().collect();
    keys.sort();
    for key in keys {
        let Some(rest) = key.strip_prefix("AGENT_RUNNER_") else {
            continue;
        };
        if matches!(rest, "EVENT" | "PROJECT" | "ROUND") {
            continue;
        }
        if let Some(text) = entry.get(key).and_then(journal_text) {
            event.insert(rest.to_ascii_lowercase(), typed(&text));
        }
    }
    if let Some(message) = field("MESSAGE") {
        event.insert("message".into(), Value::String(message));
    }
    if let Some(priority) = field("PRIORITY").and_then(|p| p.parse::<u64>().ok()) {
        event.insert("priority".into(), Value::from(priority));
    }
    if let Some(cursor) = field("__CURSOR") {
        event.insert("__cursor".into(), Value::String(cursor));
    }
    Some(Record::from_fields(event))
}

/// A journal field: a string, an array of bytes (binary-safe form), or, when repeated, the last
/// of several values.
fn journal_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(items) => items.last().and_then(journal_text),
        _ => None,
    }
}

/// Journal fields are text; numbers, booleans, null and JSON objects get their type back.
fn typed(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(
            v @ (Value::Number(_)
            | Value::Bool(_)
            | Value::Null
            | Value::Object(_)
            | Value::Array(_)),
        ) => v,
        _ => Value::String(text.to_string()),
    }
}

/// The most of each mirror file read, from its end. The runner rotates the mirror at
/// [`MIRROR_MAX_BYTES`]; whatever lies further back was not written by it (the agent can write in
/// the log directory), and reading it would cost time and memory without bound.
const MIRROR_WINDOW: u64 = MIRROR_MAX_BYTES + (6 << 20);
/// The longest mirror line read; a longer one is skipped (an event is a few kilobytes at most).
const MAX_LINE_BYTES: usize = 1 << 20;

/// The mirror files that exist, newest first: events.jsonl, events.jsonl.1, …, each opened with no
/// link followed and only as a regular file. A missing file or directory is no events; one that
/// cannot be read (no permission, or a link, a FIFO or a device the agent planted in its place:
/// it can write in the log directory) is an error naming it.
fn mirror_files(log_dir: &Path) -> Result<Vec<File>> {
    let dir = match Dir::open(log_dir) {
        Ok(dir) => dir,
        Err(e) if e.is_missing() => return Ok(Vec::new()),
        Err(e) => return Err(denied_is_unseen(e)),
    };
    let mut files = Vec::new();
    let names = std::iter::once(MIRROR_FILE.to_string()).chain((1..=MIRROR_KEEP).map(rotated));
    for name in names {
        match dir.open_read(Path::new(&name)) {
            Ok(file) => files.push(file),
            Err(e) if e.is_missing() => {}
            Err(e) => return Err(denied_is_unseen(e)),
        }
    }
    Ok(files)
}

/// A permission the reader lacks, as a source it could not see (with what to do about it); any
/// other error as it is.
fn denied_is_unseen(error: Error) -> Error {
    if error.io_source().map(std::io::Error::kind) == Some(std::io::ErrorKind::PermissionDenied) {
        fsutil::unseen_error("events", error)
    } else {
        error
    }
}

/// Whether the mirror holds events, or is hidden behind something the agent put in its place (a
/// link, a FIFO): an empty journal is then no answer, and [`read_mirror`] names what is there.
/// A mirror the reader may not open is not that: a reader who sees the whole journal (root, its
/// groups) has the answer there, and one who sees part of it was told so already.
fn mirror_may_have_events(log_dir: &Path) -> bool {
    match mirror_files(log_dir) {
        Ok(files) => files
            .iter()
            .any(|f| f.metadata().is_ok_and(|m| m.len() > 0)),
        Err(e) => !matches!(e, Error::Unseen(_)),
    }
}

/// One mirror line; `None` for a line that is not a JSON object (cut short, say).
fn mirror_line_to_record(line: &[u8]) -> Option<Record> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(fields)) => Some(Record::from_fields(fields)),
        _ => None,
    }
}

fn read_mirror(log_dir: &Path, query: &Query) -> Result<Vec<Record>> {
    let since_us = match &query.since {
        Some(s) => Some(parse_since(s, now_us())?),
        None => None,
    };
    let mut events = Vec::new();
    let mut scanned = 0usize;
    'files: for file in mirror_files(log_dir)? {
        let mut lines = ReverseLines::new(file, MIRROR_WINDOW);
        while let Some(line) = lines.next_line() {
            scanned += 1;
            if query.scan.is_some_and(|n| scanned > n) {
                break 'files;
            }
            let Some(event) = mirror_line_to_record(&line) else {
                continue;
            };
            if let Some(since) = since_us
                && event.ts_us().is_some_and(|ts| ts < since)
            {
                break 'files;
            }
            if !event.matches(query) {
                continue;
            }
            events.push(event);
            if query.limit.is_some_and(|n| events.len() >= n) {
                break 'files;
            }
        }
    }
    events.reverse();
    Ok(events)
}

/// Reads a file's lines from the end, in 64 KiB blocks, no further back than a window: the newest
/// events cost the same whatever the size of the history. A line longer than [`MAX_LINE_BYTES`]
/// is skipped, so memory stays bounded whatever the file holds.
struct ReverseLines {
    file: File,
    pos: u64,
    /// Where the window begins; a line cut by it is skipped.
    floor: u64,
    buf: Vec<u8>,
    /// The bytes before `pos`, up to the next newline back, end a line too long to keep.
    overlong: bool,
}

impl ReverseLines {
    fn new(mut file: File, window: u64) -> Self {
        let pos = file.seek(SeekFrom::End(0)).unwrap_or(0);
        Self {
            file,
            pos,
            floor: pos.saturating_sub(window),
            buf: Vec::new(),
            overlong: false,
        }
    }

    fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            // A complete line is after the last newline in the buffer (ignoring a trailing one).
            let trimmed = self.buf.len() - usize::from(self.buf.last() == Some(&b'\n'));
            if let Some(nl) = self.buf[..trimmed].iter().rposition(|b| *b == b'\n') {
                let line = self.buf[nl + 1..trimmed].to_vec();
                self.buf.truncate(nl + 1);
                if line.is_empty() || std::mem::take(&mut self.overlong) {
                    continue;
                }
                return Some(line);
            }
            if self.pos == self.floor {
                let whole = self.floor == 0 && !self.overlong;
                let line = self.buf[..trimmed].to_vec();
                self.buf.clear();
                return (whole && !line.is_empty()).then_some(line);
            }
            if self.buf.len() > MAX_LINE_BYTES {
                self.buf.clear();
                self.overlong = true;
            }
            let step = (self.pos - self.floor).min(1 << 16);
            self.pos -= step;
            let mut block = vec![0u8; usize::try_from(step).unwrap_or(0)];
            if self.file.seek(SeekFrom::Start(self.pos)).is_err()
                || self.file.read_exact(&mut block).is_err()
            {
                return None;
            }
            block.extend_from_slice(&self.buf);
            self.buf = block;
        }
    }
}

/// Where following the journal begins.
pub(crate) enum JournalStart {
    /// Right after the last event shown.
    AfterCursor(String),
    /// From this UNIX time (seconds).
    Since(u64),
}

/// Follows the journal's new events of `kinds`, handing each to `each` until it returns `false`
/// (its reader went away) or journalctl ends.
pub(crate) fn follow_journal(
    name: &str,
    kinds: &[KindName],
    start: &JournalStart,
    mut each: impl FnMut(&Record) -> bool,
) -> Result<()> {
    let query = Query {
        kinds: kinds.to_vec(),
        ..Query::default()
    };
    let mut args = journal_args(name, &query);
    args.extend(["--follow".into(), "-q".into()]);
    match start {
        JournalStart::AfterCursor(c) => args.push(format!("--after-cursor={c}")),
        JournalStart::Since(t) => args.push(format!("--since=@{t}")),
    }
    let mut child = Command::new("journalctl")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Failed(format!("cannot run journalctl: {e}")))?;
    if let Some(pipe) = child.stdout.take() {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(event) = journal_entry_to_record(&line)
                && !each(&event)
            {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}

/// Follows the mirror's new events of `query`'s kinds (whatever their round), through rotations,
/// handing each to `each` until it returns `false`. The mirror is opened as [`mirror_files`] does;
/// while something else stands in its place, nothing is read.
pub(crate) fn follow_mirror(log_dir: &Path, query: &Query, mut each: impl FnMut(&Record) -> bool) {
    let query = Query {
        round: None,
        ..query.clone()
    };
    let path = log_dir.join(MIRROR_FILE);
    let mut offset = path.symlink_metadata().map_or(0, |m| m.len());
    let mut inode = file_id(&path);
    let mut partial = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let id = file_id(&path);
        if id != inode {
            // Rotated: the new file is read from its start.
            inode = id;
            offset = 0;
            partial.clear();
        }
        let Ok(mut file) = Dir::open(log_dir).and_then(|dir| dir.open_read(Path::new(MIRROR_FILE)))
        else {
            continue;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < offset {
            offset = 0;
        }
        if len == offset {
            continue;
        }
        let _ = file.seek(SeekFrom::Start(offset));
        let mut chunk = Vec::new();
        let _ = (&mut file)
            .take((len - offset).min(MIRROR_WINDOW))
            .read_to_end(&mut chunk);
        offset += chunk.len() as u64;
        partial.extend_from_slice(&chunk);
        while let Some(nl) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=nl).collect();
            let Some(event) = mirror_line_to_record(&line) else {
                continue;
            };
            if event.matches(&query) && !each(&event) {
                return;
            }
        }
        if partial.len() > MAX_LINE_BYTES {
            // A line too long to be an event: what of it has arrived is dropped (its rest will
            // not parse as one either).
            partial.clear();
        }
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    path.symlink_metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::events::payload::{LoopHalted, RoundEnd};
    use crate::events::{Event, Kind};

    #[test]
    fn journalctl_saying_it_cannot_see_everything_is_heard() {
        // What journalctl 252 prints to a user outside the journal's groups: the hint when it
        // opened some files, the error when it opened none.
        let hint = "Hint: You are currently not seeing messages from other users and the system.\n      Users in groups 'adm', 'systemd-journal' can see all messages.\n      Pass -q to turn off this notice.\n";
        assert!(journal_partly_hidden(hint));
        assert!(journal_partly_hidden(
            "No journal files were opened due to insufficient permissions.\n"
        ));
        assert!(!journal_partly_hidden("No journal files were found.\n"));
        assert!(!journal_partly_hidden(""));
    }

    #[test]
    fn journal_entries_become_mirror_events() {
        let line = r#"{"__REALTIME_TIMESTAMP":"1795341600123000","__CURSOR":"c1","MESSAGE":"round 7 ended: ok in 12.3s","PRIORITY":"6","AGENT_RUNNER_EVENT":"round_end","AGENT_RUNNER_PROJECT":"demo","AGENT_RUNNER_ROUND":"7","AGENT_RUNNER_OUTCOME":"ok","AGENT_RUNNER_DURATION_MS":"12300","AGENT_RUNNER_RAW":[104,105]}"#;
        let record = journal_entry_to_record(line).unwrap();
        let event = record.fields();
        assert_eq!(event["ts"], "2026-11-22T10:00:00.123Z");
        assert_eq!(event["event"], "round_end");
        assert_eq!(event["round"], 7);
        assert_eq!(event["duration_ms"], 12300);
        assert_eq!(event["outcome"], "ok");
        assert_eq!(event["raw"], "hi");
        assert_eq!(event["priority"], 6);
        // The unit's own output carries the project field but is not an event.
        assert!(
            journal_entry_to_record(r#"{"AGENT_RUNNER_PROJECT":"demo","MESSAGE":"x"}"#).is_none()
        );
    }

    #[test]
    fn journal_events_parse_into_typed_payloads() {
        // The journal keeps a null as an empty field: it reads back as absent.
        let line = r#"{"__REALTIME_TIMESTAMP":"1795341600123000","AGENT_RUNNER_EVENT":"round_end","AGENT_RUNNER_PROJECT":"demo","AGENT_RUNNER_ROUND":"7","AGENT_RUNNER_OUTCOME":"ok","AGENT_RUNNER_EXIT_CODE":"0","AGENT_RUNNER_AGENT_SIGNAL":"","AGENT_RUNNER_UNTIL":"","AGENT_RUNNER_DURATION_MS":"12300"}"#;
        let record = journal_entry_to_record(line).unwrap();
        assert_eq!(record.kind(), Some(Kind::RoundEnd));
        assert_eq!(record.round(), Some(7));
        assert_eq!(record.ts_us(), Some(1_795_341_600_123_000));
        let Some(Event::RoundEnd(end)) = record.event() else {
            panic!("{record:?} is a round_end");
        };
        assert_eq!(
            end,
            RoundEnd {
                outcome: "ok".into(),
                duration_ms: 12300,
                ..RoundEnd::default()
            }
        );
        // A kind of a newer version keeps its name and fields, without a typed payload.
        let newer = r#"{"AGENT_RUNNER_EVENT":"budget_exceeded","AGENT_RUNNER_PROJECT":"demo","AGENT_RUNNER_SPENT_USD":"12.5"}"#;
        let record = journal_entry_to_record(newer).unwrap();
        assert_eq!(record.kind(), None);
        assert_eq!(record.name(), Some("budget_exceeded"));
        assert_eq!(record.event(), None);
        assert_eq!(record.fields()["spent_usd"], 12.5);
    }

    #[test]
    fn mirror_events_parse_into_typed_payloads() {
        let record = mirror_line_to_record(
            br#"{"ts":"2026-11-22T10:00:00.000Z","event":"loop_halted","project":"p","round":3,"message":"m","reason":"max_rounds"}"#,
        )
        .unwrap();
        assert_eq!(
            record.event(),
            Some(Event::LoopHalted(LoopHalted {
                reason: "max_rounds".into()
            }))
        );
        // A payload of the wrong shape is no typed event, but still a record.
        let odd = mirror_line_to_record(br#"{"event":"loop_halted","reason":[1]}"#).unwrap();
        assert_eq!(odd.kind(), Some(Kind::LoopHalted));
        assert_eq!(odd.event(), None);
    }

    #[test]
    fn mirror_is_read_newest_first_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for round in 1..=300 {
            for kind in ["round_start", "round_end"] {
                let sec = round % 60;
                let _ = writeln!(
                    text,
                    "{{\"ts\":\"2026-11-22T10:00:{sec:02}.000Z\",\"event\":\"{kind}\",\"project\":\"p\",\"round\":{round}}}"
                );
            }
        }
        std::fs::write(
            dir.path().join("events.jsonl.1"),
            "{\"event\":\"round_end\",\"round\":0}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("events.jsonl"), text).unwrap();
        let q = Query {
            kinds: vec![Kind::RoundEnd.into()],
            limit: Some(3),
            ..Query::default()
        };
        let got = read_mirror(dir.path(), &q).unwrap();
        let rounds: Vec<u64> = got.iter().map(|e| e.round().unwrap()).collect();
        assert_eq!(rounds, [298, 299, 300]);
        let q = Query {
            round: Some(7),
            ..Query::default()
        };
        assert_eq!(read_mirror(dir.path(), &q).unwrap().len(), 2);
        let all = read_mirror(dir.path(), &Query::default()).unwrap();
        assert_eq!(all.len(), 601);
        assert_eq!(all[0].fields()["round"], 0, "rotated files come first");
    }

    #[test]
    fn a_link_or_a_fifo_in_place_of_the_mirror_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret.json");
        std::fs::write(&secret, "{\"event\":\"round_end\",\"token\":\"root's\"}\n").unwrap();
        std::os::unix::fs::symlink(&secret, dir.path().join("events.jsonl")).unwrap();
        let e = read_mirror(dir.path(), &Query::default()).unwrap_err();
        let mirror = dir.path().join("events.jsonl");
        assert_eq!(
            e.to_string(),
            format!("cannot read {}: is a symbolic link", mirror.display())
        );
        assert!(mirror_may_have_events(dir.path()));

        std::fs::remove_file(&mirror).unwrap();
        std::fs::write(&mirror, "").unwrap();
        let rotated = dir.path().join("events.jsonl.2");
        nix::unistd::mkfifo(&rotated, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log_dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            tx.send(read_mirror(&log_dir, &Query::default()).map_err(|e| e.to_string()))
        });
        let e = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("a FIFO does not block the reader")
            .unwrap_err();
        assert!(
            e.ends_with("events.jsonl.2: is a FIFO, not a regular file"),
            "{e}"
        );
    }

    #[test]
    fn the_mirror_is_read_within_a_window_and_overlong_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let line = |round: u32| format!("{{\"event\":\"round_end\",\"round\":{round}}}\n");
        let mut text = line(1).into_bytes();
        text.extend(vec![b'x'; MAX_LINE_BYTES + 10]);
        text.push(b'\n');
        text.extend(line(2).into_bytes());
        text.extend(vec![b'y'; 3 * MAX_LINE_BYTES]);
        text.push(b'\n');
        text.extend(line(3).into_bytes());
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, &text).unwrap();
        let rounds = |window: u64| {
            let mut lines = ReverseLines::new(File::open(&path).unwrap(), window);
            let mut found = Vec::new();
            while let Some(line) = lines.next_line() {
                if let Some(record) = mirror_line_to_record(&line) {
                    found.push(record.round().unwrap());
                }
            }
            found
        };
        assert_eq!(rounds(u64::MAX), [3, 2, 1]);
        // A window that ends inside round 1's line skips it rather than reading a piece of it.
        assert_eq!(rounds(text.len() as u64 - 5), [3, 2]);
        // The newline before a line tells that it is whole.
        assert_eq!(rounds(line(3).len() as u64 + 1), [3]);
    }
}
