//! The reports agents print as plain text while they run: aider's (all of its output is text) and
//! gemini's retries on stderr (a stream-json agent prints few text lines). A line is looked at only
//! when it starts like a report, at the cost of a byte comparison, so ordinary output stays cheap.

use memchr::memmem;
use serde_json::Value;

use super::Findings;
use crate::config::OutputFormat;
use crate::round::failure::{Cause, Failure, PATTERN_WINDOW, excerpt, status_in_text};
use crate::round::retries::Retry;

/// Aider's report lines, by how they start.
const AIDER_REPORTS: [&[u8]; 5] = [
    b"Tokens: ",
    b"Retrying in ",
    b"litellm.",
    b"Model: ",
    b"Main model: ",
];
/// Aider wraps an error at 80 columns; this many lines after its first are read with it.
const AIDER_ERROR_LINES: usize = 12;

/// Aider's provider error being read: its lines so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct WrappedError {
    text: String,
    lines: usize,
}

impl Findings {
    /// Reads one line of plain text while the agent runs.
    pub(crate) fn text_line(&mut self, format: OutputFormat, line: &[u8], now: u64) {
        let window = &line[..line.len().min(PATTERN_WINDOW)];
        match format {
            OutputFormat::Text if AIDER_REPORTS.iter().any(|p| line.starts_with(p)) => {
                self.aider_error = None;
                self.aider(&String::from_utf8_lossy(window), now);
            }
            OutputFormat::Text if self.aider_error.is_some() => {
                self.aider_error_goes_on(&String::from_utf8_lossy(window), now);
            }
            OutputFormat::GeminiStreamJson
                if line.starts_with(b"Attempt ")
                    || memmem::find(window, b"Retrying ").is_some() =>
            {
                self.gemini_retry(&String::from_utf8_lossy(window));
            }
            _ => {}
        }
    }

    /// Gemini's retries on stderr: "Attempt 1 failed with status 500. Retrying with backoff...",
    /// or "Attempt 1 failed: You exceeded your current quota…" and, lines later, "… Retrying after
    /// 5066ms...". An attempt after which it gave up ("Max attempts reached") is no retry.
    fn gemini_retry(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("Attempt ") {
            let status = status_in_text(line);
            self.gemini_attempt = Some(Retry {
                status,
                cause: Cause::of(status, line),
                attempt: rest.split(' ').next().and_then(|n| n.parse().ok()),
                max_retries: None,
                delay_ms: None,
                raw: excerpt(line),
            });
        }
        let Some(at) = line.find("Retrying ") else {
            return;
        };
        let mut retry = self.gemini_attempt.take().unwrap_or_default();
        retry.delay_ms = line[at..]
            .strip_prefix("Retrying after ")
            .and_then(|rest| rest.split("ms").next())
            .and_then(|n| n.parse().ok());
        if retry.raw.is_empty() {
            retry.raw = excerpt(line);
        }
        self.retries.record(retry);
    }

    /// Aider's reports: usage after each answer, its model at the start, provider errors
    /// (`litellm.RateLimitError: …`, wrapped over several lines) and its retries. An error no
    /// answer followed is the run's failure even when aider then exits 0, as it does after giving
    /// up.
    fn aider(&mut self, line: &str, now: u64) {
        if line.starts_with("Tokens: ") {
            let mut usage = self.usage.take().unwrap_or_default();
            if usage.add_aider_line(line) {
                self.retries.progress();
                self.failure = None;
            }
            self.usage = Some(usage);
        } else if let Some(rest) = line.strip_prefix("Retrying in ") {
            self.aider_retry(rest, line);
        } else if line.starts_with("litellm.") {
            self.failure = Some(Failure::of(None, line, now));
            self.aider_error = Some(WrappedError {
                text: line.to_string(),
                lines: 1,
            });
        } else if let Some(rest) = line
            .strip_prefix("Model: ")
            .or_else(|| line.strip_prefix("Main model: "))
        {
            let name = rest.split(" with ").next().unwrap_or(rest);
            self.announce_model(Some(&Value::String(name.to_string())));
        }
    }

    /// The next line of a wrapped provider error: read with the lines before it, until a blank
    /// line, aider's own explanation ("The API provider …") or the line limit.
    fn aider_error_goes_on(&mut self, line: &str, now: u64) {
        let Some(mut error) = self.aider_error.take() else {
            return;
        };
        if line.is_empty() || line.starts_with("The API provider") {
            return;
        }
        error.text.push(' ');
        error.text.push_str(line);
        error.lines += 1;
        self.failure = Some(Failure::of(None, &error.text, now));
        if error.lines < AIDER_ERROR_LINES && error.text.len() < PATTERN_WINDOW {
            self.aider_error = Some(error);
        }
    }

    /// "Retrying in 0.2 seconds...": a retry of the request whose error came before.
    fn aider_retry(&mut self, rest: &str, line: &str) {
        let cause = match &self.failure {
            Some(Failure::Transient(t)) => Some(Cause::Transient(t.class)),
            Some(Failure::Auth(_)) => Some(Cause::Auth),
            _ => None,
        };
        let delay_ms = rest
            .split_once(" second")
            .and_then(|(n, _)| n.parse::<f64>().ok())
            .filter(|s| s.is_finite() && (0.0..86_400.0).contains(s))
            .map(|s| {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "bounded to [0, 86400) seconds above"
                )]
                let ms = (s * 1000.0) as u64;
                ms
            });
        self.retries.record(Retry {
            status: None,
            cause,
            attempt: None,
            max_retries: None,
            delay_ms,
            raw: excerpt(line),
        });
    }
}
