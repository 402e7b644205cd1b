//! Read commands over the journal and the round logs: `events` and `logs`, plus the event reader
//! `status`, `peek` and `diagnose` share.
//!
//! Events come from the journal (`journalctl -o json`, matched on `AGENT_RUNNER_PROJECT=`; no C
//! library) when it is readable, else from the JSON mirror `LOG_DIR/events.jsonl`. Both are read
//! newest first and only as far back as asked, so the cost does not grow with the history.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::config::Project;
use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};

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

/// Where events were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Source {
    /// The systemd journal.
    Journal,
    /// `LOG_DIR/events.jsonl` (and its rotations).
    Mirror,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
    /// Only this round.
    pub round: Option<u64>,
    /// Only events at or after this time (journalctl syntax; the mirror understands a subset).
    pub since: Option<String>,
    /// The newest `limit` events (all when `None`).
    pub limit: Option<usize>,
    /// Look at no more than this many of the newest events of the mirror (all when `None`): a
    /// question about "lately" must not cost the whole history.
    pub scan: Option<usize>,
}

/// Events in the mirror format (`{"ts","event","project","round",…payload}`), oldest first, and
/// where they came from.
pub(crate) fn read(project: &Project, query: &Query) -> Result<(Vec<Value>, Source)> {
    if let Some(events) = read_journal(&project.name, query)?
        && (!events.is_empty() || !mirror_has_events(&project.runtime.log_dir))
    {
        return Ok((events, Source::Journal));
    }
    Ok((
        read_mirror(&project.runtime.log_dir, query)?,
        Source::Mirror,
    ))
}

/// Events of the mirror alone (what `status` uses: no process to spawn per project).
pub(crate) fn read_mirror_only(project: &Project, query: &Query) -> Result<Vec<Value>> {
    read_mirror(&project.runtime.log_dir, query)
}

fn journal_args(name: &str, query: &Query) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "-o".into(),
        "json".into(),
        "--no-pager".into(),
        "-q".into(),
        format!("AGENT_RUNNER_PROJECT={name}"),
    ];
    if let Some(round) = query.round {
        args.push(format!("AGENT_RUNNER_ROUND={round}"));
    }
    for kind in &query.kinds {
        args.push(format!("AGENT_RUNNER_EVENT={kind}"));
    }
    if let Some(since) = &query.since {
        args.push(format!("--since={since}"));
    }
    args
}

/// `None` when the journal cannot be read at all (no journalctl, or it refused).
fn read_journal(name: &str, query: &Query) -> Result<Option<Vec<Value>>> {
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
        return Ok(None);
    };
    let mut events = Vec::new();
    let mut ended_early = false;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::with_capacity(1 << 16, stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(event) = journal_entry_to_event(&line) {
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
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    if !ended_early && !status.is_ok_and(|s| s.success()) && events.is_empty() {
        if stderr.contains("--since") || stderr.contains("Failed to parse timestamp") {
            return Err(Error::Usage(format!(
                "--since: {}",
                stderr.lines().next().unwrap_or("invalid time").trim()
            )));
        }
        return Ok(None);
    }
    events.reverse();
    Ok(Some(events))
}

/// One `journalctl -o json` line → an event in the mirror format; `None` for entries that are not
/// agent-runner events (the unit's own output carries AGENT_RUNNER_PROJECT too).
pub(crate) fn journal_entry_to_event(line: &str) -> Option<Value> {
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
    Some(Value::Object(event))
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

/// The mirror files, newest first: events.jsonl, events.jsonl.1, events.jsonl.2, …
fn mirror_files(log_dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<(u32, PathBuf)> = std::fs::read_dir(log_dir)
        .into_iter()
        .flatten()
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("events.jsonl.")?.parse::<u32>().ok()?;
            Some((n, e.path()))
        })
        .collect();
    rotated.sort();
    let mut files = vec![log_dir.join("events.jsonl")];
    files.extend(rotated.into_iter().map(|(_, p)| p));
    files.retain(|p| p.is_file());
    files
}

fn mirror_has_events(log_dir: &Path) -> bool {
    mirror_files(log_dir)
        .iter()
        .any(|p| p.metadata().is_ok_and(|m| m.len() > 0))
}

fn read_mirror(log_dir: &Path, query: &Query) -> Result<Vec<Value>> {
    let since_us = match &query.since {
        Some(s) => Some(parse_since(s, now_us())?),
        None => None,
    };
    let mut events = Vec::new();
    let mut scanned = 0usize;
    'files: for file in mirror_files(log_dir) {
        let Ok(handle) = File::open(&file) else {
            continue;
        };
        let mut lines = ReverseLines::new(handle);
        while let Some(line) = lines.next_line() {
            scanned += 1;
            if query.scan.is_some_and(|n| scanned > n) {
                break 'files;
            }
            let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            if let Some(since) = since_us
                && event
                    .get("ts")
                    .and_then(Value::as_str)
                    .and_then(parse_iso_us)
                    .is_some_and(|ts| ts < since)
            {
                break 'files;
            }
            if !matches_query(&event, query) {
                continue;
            }
            events.push(Value::Object(event));
            if query.limit.is_some_and(|n| events.len() >= n) {
                break 'files;
            }
        }
    }
    events.reverse();
    Ok(events)
}

fn matches_query(event: &Map<String, Value>, query: &Query) -> bool {
    let kind = event.get("event").and_then(Value::as_str).unwrap_or("");
    if !query.kinds.is_empty() && !query.kinds.iter().any(|k| k == kind) {
        return false;
    }
    if let Some(round) = query.round
        && event_round(event) != Some(round)
    {
        return false;
    }
    true
}

/// The round an event belongs to (a number, or a numeric string from the journal).
pub(crate) fn event_round(event: &Map<String, Value>) -> Option<u64> {
    match event.get("round")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Reads a file's lines from the end, in 64 KiB blocks: the newest events cost the same whatever
/// the size of the history.
struct ReverseLines {
    file: File,
    pos: u64,
    buf: Vec<u8>,
}

impl ReverseLines {
    fn new(mut file: File) -> Self {
        let pos = file.seek(SeekFrom::End(0)).unwrap_or(0);
        Self {
            file,
            pos,
            buf: Vec::new(),
        }
    }

    fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            // A complete line is after the last newline in the buffer (ignoring a trailing one).
            let trimmed = self.buf.len() - usize::from(self.buf.last() == Some(&b'\n'));
            if let Some(nl) = self.buf[..trimmed].iter().rposition(|b| *b == b'\n') {
                let line = self.buf[nl + 1..trimmed].to_vec();
                self.buf.truncate(nl + 1);
                if line.is_empty() {
                    continue;
                }
                return Some(line);
            }
            if self.pos == 0 {
                let line = self.buf[..trimmed].to_vec();
                self.buf.clear();
                return (!line.is_empty()).then_some(line);
            }
            let step = self.pos.min(1 << 16);
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

/// Microseconds since the epoch, now.
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `2026-11-22T10:00:00.123Z` for a time in µs since the epoch (the events' own format).
pub(crate) fn iso_utc_us(us: u64) -> String {
    crate::events::timestamp(UNIX_EPOCH + Duration::from_micros(us))
}

/// `2026-11-22T10:00:00Z` for seconds since the epoch.
pub(crate) fn iso_utc_s(secs: u64) -> String {
    let full = iso_utc_us(secs.saturating_mul(1_000_000));
    format!("{}Z", &full[..19])
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z]` (UTC) into µs since the epoch.
pub(crate) fn parse_iso_us(text: &str) -> Option<u64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, t),
        None => (text, "00:00:00"),
    };
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let year = date_parts.next()??;
    let month = date_parts.next()??;
    let day = date_parts.next()??;
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut clock = hms.split(':').map(|p| p.parse::<i64>().ok());
    let hour = clock.next()??;
    let minute = clock.next().flatten().unwrap_or(0);
    let second = clock.next().flatten().unwrap_or(0);
    // Microseconds from at most six ASCII digits (the text may come from an agent-written file).
    let digits: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(6)
        .collect();
    let frac_us: i64 = format!("{digits:0<6}").parse().unwrap_or(0);
    let secs = days_from_civil(year, month, day)
        .checked_mul(86_400)?
        .checked_add(hour.checked_mul(3600)?)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)?;
    u64::try_from(secs.checked_mul(1_000_000)?.checked_add(frac_us)?).ok()
}

/// The subset of journalctl's `--since` syntax the mirror understands: an ISO time (UTC),
/// `@EPOCH`, `today`, `yesterday`, `now`, `N{s,m,min,h,d} ago` and `-N{unit}`.
pub(crate) fn parse_since(text: &str, now: u64) -> Result<u64> {
    let t = text.trim();
    let bad = || {
        Error::Usage(format!(
            "--since {text:?}: not a time (use \"2026-11-22 10:00\", \"1h ago\" or @EPOCH)"
        ))
    };
    if let Some(epoch) = t.strip_prefix('@') {
        let secs: f64 = epoch.parse().map_err(|_| bad())?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Ok((secs * 1e6) as u64);
    }
    let day = 86_400_000_000;
    match t {
        "now" => return Ok(now),
        "today" => return Ok(now - now % day),
        "yesterday" => return Ok((now - now % day).saturating_sub(day)),
        _ => {}
    }
    let relative = t
        .strip_suffix(" ago")
        .or_else(|| t.strip_prefix('-'))
        .map(str::trim);
    if let Some(rel) = relative {
        let digits: String = rel.chars().take_while(char::is_ascii_digit).collect();
        let n: u64 = digits.parse().map_err(|_| bad())?;
        let unit = match rel[digits.len()..].trim() {
            "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            _ => return Err(bad()),
        };
        let back = n.checked_mul(unit * 1_000_000).ok_or_else(bad)?;
        return Ok(now.saturating_sub(back));
    }
    parse_iso_us(t).ok_or_else(bad)
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
pub(crate) fn human_line(event: &Value) -> String {
    let get = |k: &str| event.get(k);
    let ts = get("ts")
        .and_then(Value::as_str)
        .map(|t| t.replace('T', " ").chars().take(19).collect::<String>())
        .unwrap_or_default();
    let kind = get("event").and_then(Value::as_str).unwrap_or("?");
    let round = get("round")
        .map(|r| match r {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .map_or_else(String::new, |r| format!("round {r}"));
    let detail = match get("message").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => event
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "ts" | "event" | "project" | "round"))
                    .map(|(k, v)| match v {
                        Value::String(s) => format!("{k}={s}"),
                        other => format!("{k}={other}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
    };
    format!("{ts}  {round:<9} {kind:<24} {detail}")
}

fn print_event(out: &mut impl Write, event: &Value, json: bool) -> std::io::Result<()> {
    if json {
        let mut clean = event.clone();
        if let Some(o) = clean.as_object_mut() {
            o.remove("__cursor");
        }
        writeln!(out, "{clean}")
    } else {
        writeln!(out, "{}", human_line(event))
    }
}

/// `agent-runner events NAME`.
pub(crate) fn events(ctx: &Context, project: &ProjectRef, options: &EventsOptions) -> Result<u8> {
    if let Some(host) = &ctx.host {
        return crate::control::lifecycle::remote(ctx, host);
    }
    let project = crate::config::load_project(project, ctx.scope)?;
    // Following starts from here when no past event gives a cursor: nothing that happens while
    // the history is read may fall between the read and the follow.
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let query = Query {
        kinds: options.kinds.clone(),
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
        let journal = read_journal(
            &project.name,
            &Query {
                limit: Some(1),
                ..query.clone()
            },
        )?;
        let source = match journal {
            Some(e) if !e.is_empty() || !mirror_has_events(&project.runtime.log_dir) => {
                Source::Journal
            }
            _ => Source::Mirror,
        };
        (Vec::new(), source)
    } else {
        read(&project, &query)?
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
    match source {
        Source::Journal => {
            let cursor = events
                .last()
                .and_then(|e| e.get("__cursor"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let start = cursor.map_or(JournalStart::Since(started), JournalStart::AfterCursor);
            follow_journal(&project.name, &options.kinds, &start, options.json)
        }
        Source::Mirror => follow_mirror(&project.runtime.log_dir, &query, options.json),
    }
}

/// Where following the journal begins.
enum JournalStart {
    /// Right after the last event printed.
    AfterCursor(String),
    /// From this UNIX time (seconds): when `events` started.
    Since(u64),
}

fn follow_journal(name: &str, kinds: &[String], start: &JournalStart, json: bool) -> Result<u8> {
    let query = Query {
        kinds: kinds.to_vec(),
        ..Query::default()
    };
    let mut args = journal_args(name, &query);
    args.push("--follow".into());
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
    let stdout = std::io::stdout();
    if let Some(pipe) = child.stdout.take() {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(event) = journal_entry_to_event(&line) {
                let mut out = stdout.lock();
                if print_event(&mut out, &event, json)
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(exit::OK)
}

fn follow_mirror(log_dir: &Path, query: &Query, json: bool) -> Result<u8> {
    let path = log_dir.join("events.jsonl");
    let mut offset = path.metadata().map_or(0, |m| m.len());
    let mut inode = file_id(&path);
    let stdout = std::io::stdout();
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
        let Ok(mut file) = File::open(&path) else {
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
        let _ = (&mut file).take(len - offset).read_to_end(&mut chunk);
        offset += chunk.len() as u64;
        partial.extend_from_slice(&chunk);
        while let Some(nl) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=nl).collect();
            let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            if !matches_query(
                &event,
                &Query {
                    round: None,
                    ..query.clone()
                },
            ) {
                continue;
            }
            let mut out = stdout.lock();
            if print_event(&mut out, &Value::Object(event), json)
                .and_then(|()| out.flush())
                .is_err()
            {
                return Ok(exit::OK);
            }
        }
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    path.metadata().ok().map(|m| (m.dev(), m.ino()))
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
    if let Some(host) = &ctx.host {
        return crate::control::lifecycle::remote(ctx, host);
    }
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
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn hostile_times_are_rejected_not_panicked_on() {
        assert_eq!(
            parse_iso_us("2026-01-01T10:00:00.aaaaaéZ"),
            Some(1_767_261_600_000_000)
        );
        assert_eq!(parse_iso_us("999999999999999-01-01"), None);
        assert_eq!(parse_iso_us("2026-01-01 99999999999999999:00"), None);
        assert!(parse_since("99999999999999999 days ago", 1_000_000).is_err());
        assert!(parse_since("2026-01-01 10:00:00.aaaaaé", 1_000_000).is_ok());
    }

    #[test]
    fn iso_times_round_trip() {
        let us = 1_795_341_600_123_000; // 2026-11-22T10:00:00.123Z
        assert_eq!(iso_utc_us(us), "2026-11-22T10:00:00.123Z");
        assert_eq!(parse_iso_us("2026-11-22T10:00:00.123Z"), Some(us));
        assert_eq!(parse_iso_us("2026-11-22 10:00"), Some(us - 123_000));
        assert_eq!(iso_utc_s(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_iso_us("yesterday"), None);
    }

    #[test]
    fn since_understands_relative_times() {
        let now = 10_000_000_000;
        assert_eq!(parse_since("1h ago", now).unwrap(), now - 3_600_000_000);
        assert_eq!(parse_since("-30s", now).unwrap(), now - 30_000_000);
        assert_eq!(parse_since("@5", now).unwrap(), 5_000_000);
        assert!(parse_since("soon", now).is_err());
    }

    #[test]
    fn journal_entries_become_mirror_events() {
        let line = r#"{"__REALTIME_TIMESTAMP":"1795341600123000","__CURSOR":"c1","MESSAGE":"round 7 ended: ok in 12.3s","PRIORITY":"6","AGENT_RUNNER_EVENT":"round_end","AGENT_RUNNER_PROJECT":"demo","AGENT_RUNNER_ROUND":"7","AGENT_RUNNER_OUTCOME":"ok","AGENT_RUNNER_DURATION_MS":"12300","AGENT_RUNNER_RAW":[104,105]}"#;
        let event = journal_entry_to_event(line).unwrap();
        assert_eq!(event["ts"], "2026-11-22T10:00:00.123Z");
        assert_eq!(event["event"], "round_end");
        assert_eq!(event["round"], 7);
        assert_eq!(event["duration_ms"], 12300);
        assert_eq!(event["outcome"], "ok");
        assert_eq!(event["raw"], "hi");
        assert_eq!(event["priority"], 6);
        // The unit's own output carries the project field but is not an event.
        assert!(
            journal_entry_to_event(r#"{"AGENT_RUNNER_PROJECT":"demo","MESSAGE":"x"}"#).is_none()
        );
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
            kinds: vec!["round_end".into()],
            limit: Some(3),
            ..Query::default()
        };
        let got = read_mirror(dir.path(), &q).unwrap();
        let rounds: Vec<u64> = got.iter().map(|e| e["round"].as_u64().unwrap()).collect();
        assert_eq!(rounds, [298, 299, 300]);
        let q = Query {
            round: Some(7),
            ..Query::default()
        };
        assert_eq!(read_mirror(dir.path(), &q).unwrap().len(), 2);
        let all = read_mirror(dir.path(), &Query::default()).unwrap();
        assert_eq!(all.len(), 601);
        assert_eq!(all[0]["round"], 0, "rotated files come first");
    }

    #[test]
    fn tail_returns_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l");
        std::fs::write(&p, "a\nb\nc\n").unwrap();
        assert_eq!(tail(&p, 2).unwrap(), ["b", "c"]);
    }
}
