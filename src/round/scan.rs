//! Reading the agent's output as it streams: split into lines incrementally with a fixed cap (so
//! memory stays bounded whatever the agent prints), watched for the terminal marker, its lines
//! handed to [`Findings`] (JSON records parsed, text lines only when they start like a report)
//! and its last 64 KiB kept for failure patterns and crash reports.

use memchr::memmem::Finder;
use serde_json::Value;

use super::findings::{Findings, PATTERN_WINDOW};
use crate::config::OutputFormat;

/// Lines longer than this are cut (the rest is still logged, just not parsed).
pub(crate) const LINE_CAP: usize = 512 * 1024;
/// How much of the end of the output is kept (for failure patterns and crash reports).
pub(crate) const TAIL_CAP: usize = 64 * 1024;

/// The incremental line scanner.
pub(crate) struct Scanner {
    format: OutputFormat,
    /// The terminal marker, searched for in every line until it is seen (for stream-json agents
    /// that is every line of the round: the result comes last), hence a substring searcher built
    /// once rather than a comparison at every position.
    marker: Option<Finder<'static>>,
    line: Vec<u8>,
    overflow: bool,
    tail: Vec<u8>,
    /// Whether the terminal marker has been seen.
    pub marker_seen: bool,
    /// What was found so far.
    pub findings: Findings,
    now: u64,
}

impl Scanner {
    /// A scanner for `format`, watching for `marker`; `now` (epoch seconds) bounds plausible
    /// reset times.
    pub(crate) fn new(format: OutputFormat, marker: Option<&str>, now: u64) -> Self {
        Self {
            format,
            marker: marker
                .filter(|m| !m.is_empty())
                .map(|m| Finder::new(m.as_bytes()).into_owned()),
            line: Vec::with_capacity(4096),
            overflow: false,
            tail: Vec::new(),
            marker_seen: false,
            findings: Findings::default(),
            now,
        }
    }

    /// Feeds a chunk of output. Returns true when the terminal marker was seen for the first time.
    pub(crate) fn feed(&mut self, mut chunk: &[u8]) -> bool {
        let before = self.marker_seen;
        self.keep_tail(chunk);
        while !chunk.is_empty() {
            if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                self.push(&chunk[..i]);
                self.end_line();
                chunk = &chunk[i + 1..];
            } else {
                self.push(chunk);
                chunk = &[];
            }
        }
        !before && self.marker_seen
    }

    /// Processes a last line without a newline (a truncated stream).
    pub(crate) fn finish(&mut self) -> bool {
        let before = self.marker_seen;
        if !self.line.is_empty() || self.overflow {
            self.end_line();
        }
        !before && self.marker_seen
    }

    fn keep_tail(&mut self, chunk: &[u8]) {
        let chunk = &chunk[chunk.len().saturating_sub(TAIL_CAP)..];
        if self.tail.len() + chunk.len() > 2 * TAIL_CAP {
            let drop = self.tail.len() + chunk.len() - TAIL_CAP;
            self.tail.drain(..drop.min(self.tail.len()));
        }
        self.tail.extend_from_slice(chunk);
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = LINE_CAP.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.overflow = true;
        }
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn end_line(&mut self) {
        let mut line = std::mem::take(&mut self.line);
        let overflow = std::mem::replace(&mut self.overflow, false);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.findings.lines += 1;
        if overflow {
            self.findings.long_lines += 1;
        }
        if let Some(marker) = &self.marker
            && !self.marker_seen
            && marker.find(&line).is_some()
        {
            self.marker_seen = true;
        }
        let trimmed = trim_start(&line);
        if trimmed.first() == Some(&b'{') {
            if !overflow {
                match serde_json::from_slice::<Value>(trimmed) {
                    Ok(v) => self.findings.record(self.format, &v, self.now),
                    Err(_) => self.findings.bad_json += 1,
                }
            }
        } else {
            self.findings.text_line(self.format, trimmed, self.now);
        }
        self.reuse(line);
    }

    /// The last bytes of output (at most [`TAIL_CAP`]).
    pub(crate) fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// Looks for authentication and network failures in the last lines of output. Done once at
    /// the end (such failures end a run, and scanning every line of a 100 MB stream would cost
    /// more than the round is worth); JSON lines of stream formats are the agent's tool traffic,
    /// not its own errors, and are skipped.
    pub(crate) fn scan_tail(&mut self) {
        let tail = std::mem::take(&mut self.tail);
        let json_format = self.format != OutputFormat::Text;
        let mut lines = tail.split(|&b| b == b'\n');
        if tail.len() >= TAIL_CAP {
            lines.next(); // a partial first line
        }
        for line in lines {
            let trimmed = trim_start(line);
            if json_format && trimmed.first() == Some(&b'{') {
                continue;
            }
            let window = &trimmed[..trimmed.len().min(PATTERN_WINDOW)];
            self.findings
                .text(&String::from_utf8_lossy(window), self.now);
        }
        self.tail = tail;
    }

    fn reuse(&mut self, mut line: Vec<u8>) {
        // Keep a modest buffer; give back the memory of a huge line.
        if line.capacity() > 64 * 1024 {
            line = Vec::with_capacity(4096);
        }
        line.clear();
        self.line = line;
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_341_600;

    #[test]
    fn garbage_truncated_and_huge_lines_never_crash() {
        let mut s = Scanner::new(
            OutputFormat::ClaudeStreamJson,
            Some("\"type\":\"result\""),
            NOW,
        );
        s.feed(b"{\"type\":\"result\",\"usage\":{\"input_tokens\":1");
        s.feed(b"\n\x00\xff\xfe not json {{{\n{\"type\": [1,2,\n");
        let huge = vec![b'a'; LINE_CAP * 3];
        s.feed(b"{\"type\":\"result\",\"x\":\"");
        s.feed(&huge);
        s.feed(b"\"}\n");
        s.feed(b"{\"type\":\"result\",\"total_cost_usd\":NaN}");
        s.finish();
        assert_eq!(s.findings.lines, 5);
        assert_eq!(s.findings.long_lines, 1);
        assert!(s.findings.bad_json >= 3);
        assert!(s.findings.usage.is_none());
        assert!(s.line.capacity() <= LINE_CAP + 4096);
    }

    #[test]
    fn marker_split_across_chunks_is_seen() {
        let mut s = Scanner::new(OutputFormat::Text, Some("DONE"), NOW);
        assert!(!s.feed(b"working\nDO"));
        assert!(s.feed(b"NE\n"));
        assert!(!s.feed(b"DONE\n"));
    }
}
