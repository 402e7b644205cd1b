//! What the agent's output says, read per output format as it streams: the final report of
//! success or failure, account limits, the CLI's own retries, usage and the model; and, at the
//! end of a failed run, authentication and network failures in its last lines of text.
//!
//! Every field is untrusted: missing, null, wrong-typed, negative or absurd values become
//! "unknown", never a crash or a made-up number.

use serde_json::Value;

use super::failure::{
    Cause, Failure, Transient, TransientClass, excerpt, looks_like_auth, looks_like_network,
    status_in_text,
};
use super::reset::{self, When, plausible_epoch};
use super::retries::{Retries, Retry};
use super::usage::{Usage, busiest_model, cost, count, model_name};
use crate::config::OutputFormat;
use text::WrappedError;

pub(crate) use super::failure::PATTERN_WINDOW;

/// Everything the stream told us.
#[derive(Debug, Clone, Default)]
pub(crate) struct Findings {
    /// An account-wide limit (claude's rejected `rate_limit_event`): outranks every other
    /// failure, and only a later success clears it.
    pub account_limit: Option<Transient>,
    /// The agent's last report that its work failed; a later report of success clears it.
    pub failure: Option<Failure>,
    /// The CLI's own retries.
    pub retries: Retries,
    /// Usage, when reported.
    pub usage: Option<Usage>,
    /// The model the agent announced at its start.
    announced_model: Option<String>,
    /// The model its usage record names as the one that did the work.
    working_model: Option<String>,
    /// Gemini's last error record: a stream broken mid-answer names its cause only there.
    stream_error: Option<String>,
    /// Claude said a 429 was "rejected" while none of the account's windows was exhausted.
    windows_not_exhausted: bool,
    /// Gemini's last "Attempt N failed…" line: what the retry announced after it is about.
    gemini_attempt: Option<Retry>,
    /// Aider's provider error while its wrapped lines come.
    aider_error: Option<WrappedError>,
    /// The last reset a text line at the end of a failed run gave (gemini prints its quota's
    /// "Please retry in 18000s" only on stderr).
    pub tail_reset: When,
    /// The last text line that looked like an authentication failure.
    pub auth_text: Option<String>,
    /// The last text line that looked like a network failure.
    pub network_text: Option<String>,
    /// Lines seen.
    pub lines: u64,
    /// Lines longer than the scanner's cap ([`LINE_CAP`](super::scan::LINE_CAP)).
    pub long_lines: u64,
    /// Lines that started like JSON but did not parse.
    pub bad_json: u64,
}

impl Findings {
    /// The model the agent used, as far as it said: the one its usage names, else the one it
    /// announced (placeholders such as `auto` and `<synthetic>` are no model).
    pub(crate) fn model(&self) -> Option<&str> {
        self.working_model
            .as_deref()
            .or(self.announced_model.as_deref())
    }

    /// Looks at a line of text at the end of a failed run for authentication and network
    /// failures, and for a reset time.
    pub(crate) fn text(&mut self, text: &str, now: u64) {
        if looks_like_auth(text) {
            self.auth_text = Some(excerpt(text));
        } else if looks_like_network(text) {
            self.network_text = Some(excerpt(text));
        }
        let when = reset::in_text(text, now);
        if when != When::default() {
            self.tail_reset = when;
        }
    }

    /// Reads one JSON record of the agent's output, as `format` defines it; `now` (epoch seconds)
    /// bounds plausible reset times.
    pub(crate) fn record(&mut self, format: OutputFormat, v: &Value, now: u64) {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        // kimi's retry records (`turn.step.retrying`), whatever the format.
        if kind.ends_with("retrying") {
            self.retries.record(kimi_retry(kind, v));
            return;
        }
        match format {
            OutputFormat::ClaudeStreamJson => self.claude(kind, v, now),
            OutputFormat::GeminiStreamJson => self.gemini(kind, v, now),
            OutputFormat::CodexJson => self.codex(kind, v, now),
            OutputFormat::Text => self.retries.progress(),
        }
    }

    fn claude(&mut self, kind: &str, v: &Value, now: u64) {
        match kind {
            "system" => match v.get("subtype").and_then(Value::as_str) {
                Some("init") => self.announce_model(v.get("model")),
                Some("api_retry") => self.retries.record(claude_retry(v)),
                _ => {}
            },
            "assistant" => {
                self.retries.progress();
                if self.announced_model.is_none() {
                    // Not `pointer`: it allocates for every record, and this is every answer.
                    self.announce_model(v.get("message").and_then(|m| m.get("model")));
                }
            }
            "user" => self.retries.progress(),
            "rate_limit_event" => {
                self.claude_rate_limit(v.get("rate_limit_info").unwrap_or(&Value::Null), now);
            }
            "result" => self.claude_result(v, now),
            _ => {}
        }
    }

    /// A rejected `rate_limit_event` (subscription logins only). The CLI calls every 429 a
    /// subscription gets "rejected" and names the five-hour window, full or not; its per-window
    /// view (`unifiedWindows`) says whether an account window really is exhausted. When none is,
    /// the 429 was a plain rate limit, whatever the result's words ("You've hit your 5-hour
    /// limit") say.
    fn claude_rate_limit(&mut self, info: &Value, now: u64) {
        if info.get("status").and_then(Value::as_str) != Some("rejected") {
            return;
        }
        let exhausted = match info.get("unifiedWindows").and_then(Value::as_object) {
            None => Some(info),
            Some(windows) => windows
                .values()
                .find(|w| w.get("status").and_then(Value::as_str) == Some("rejected")),
        };
        let Some(window) = exhausted else {
            self.windows_not_exhausted = true;
            return;
        };
        let limit = info
            .get("rateLimitType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut t = Transient::new(
            TransientClass::RateLimitAccount,
            &format!("rate_limit_event {limit} rejected"),
        );
        t.reset_at = window
            .get("resetsAt")
            .or_else(|| info.get("resetsAt"))
            .and_then(|t| plausible_epoch(t, now));
        self.account_limit = Some(t);
    }

    fn claude_result(&mut self, v: &Value, now: u64) {
        self.retries.progress();
        let usage = v.get("usage").unwrap_or(&Value::Null);
        self.set_usage(Usage {
            input_tokens: usage.get("input_tokens").and_then(count),
            output_tokens: usage.get("output_tokens").and_then(count),
            cache_read_tokens: usage.get("cache_read_input_tokens").and_then(count),
            cache_creation_tokens: usage.get("cache_creation_input_tokens").and_then(count),
            cost_usd: v.get("total_cost_usd").and_then(cost),
            duration_ms: v.get("duration_ms").and_then(count),
            num_turns: v.get("num_turns").and_then(count),
            is_error: v.get("is_error").and_then(Value::as_bool),
            ..Usage::default()
        });
        let per_model = v
            .get("model_usage_since_last_result")
            .or_else(|| v.get("modelUsage"));
        if let Some(m) = busiest_model(per_model, |s| {
            ["inputTokens", "outputTokens", "cacheReadInputTokens"]
                .iter()
                .filter_map(|k| s.get(*k).and_then(count))
                .fold(0u64, u64::saturating_add)
        }) {
            self.working_model = Some(m);
        }
        match v.get("is_error").and_then(Value::as_bool) {
            Some(true) => {
                let mut text = v
                    .get("result")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                // The error's type and name ("usage_limit_reached") say more than its text.
                for key in ["api_error_type", "api_error"] {
                    if let Some(s) = v.get(key).and_then(Value::as_str) {
                        text.push_str(" · ");
                        text.push_str(s);
                    }
                }
                let status = v.get("api_error_status").and_then(as_status);
                let failure = match Failure::of(status, &text, now) {
                    Failure::Transient(t)
                        if t.class == TransientClass::RateLimitAccount
                            && self.windows_not_exhausted =>
                    {
                        Failure::Transient(Transient::new(TransientClass::RateLimitModel, &t.raw))
                    }
                    failure => failure,
                };
                self.failure = Some(failure);
            }
            Some(false) => {
                self.failure = None;
                self.account_limit = None;
            }
            None => {}
        }
    }

    fn gemini(&mut self, kind: &str, v: &Value, now: u64) {
        match kind {
            "init" => self.announce_model(v.get("model")),
            "message" | "tool_use" | "tool_result" => self.retries.progress(),
            "error" => {
                let text = v.get("message").and_then(Value::as_str).unwrap_or("");
                if v.get("severity").and_then(Value::as_str) != Some("warning") {
                    self.stream_error = Some(excerpt(text));
                }
            }
            "result" => self.gemini_result(v, now),
            _ => {}
        }
    }

    fn gemini_result(&mut self, v: &Value, now: u64) {
        self.retries.progress();
        let stats = v.get("stats").unwrap_or(&Value::Null);
        let failed = v.get("status").and_then(Value::as_str) == Some("error");
        self.set_usage(Usage {
            input_tokens: stats.get("input_tokens").and_then(count),
            output_tokens: stats.get("output_tokens").and_then(count),
            cache_read_tokens: stats.get("cached").and_then(count),
            total_tokens: stats.get("total_tokens").and_then(count),
            duration_ms: stats.get("duration_ms").and_then(count).filter(|d| *d > 0),
            is_error: Some(failed),
            ..Usage::default()
        });
        if let Some(m) = busiest_model(stats.get("models"), |s| {
            s.get("total_tokens").and_then(count).unwrap_or(0)
        }) {
            self.working_model = Some(m);
        }
        if !failed {
            self.failure = None;
            return;
        }
        self.failure = Some(match v.get("error").filter(|e| e.is_object()) {
            Some(err) => {
                let text = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("error");
                let code = err.get("code").and_then(as_status);
                match Failure::of(code, text, now) {
                    Failure::Unexplained { raw, .. } => Failure::Unexplained {
                        raw,
                        status_from_exit: true,
                    },
                    named => named,
                }
            }
            // A stream that broke mid-answer: an error record, then a result without an error.
            None => broken_gemini_stream(self.stream_error.as_deref()),
        });
    }

    fn codex(&mut self, kind: &str, v: &Value, now: u64) {
        match kind {
            "item.started" | "item.updated" | "item.completed" => self.retries.progress(),
            "turn.completed" => {
                self.retries.progress();
                self.failure = None;
                self.add_codex_usage(v.get("usage").unwrap_or(&Value::Null));
            }
            "error" | "turn.failed" => {
                let text = v
                    .pointer("/error/message")
                    .or_else(|| v.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if kind == "error" && text.trim_start().starts_with("Reconnecting") {
                    self.retries.record(codex_retry(text));
                } else {
                    // Its final word: whatever it was retrying is decided.
                    self.retries.progress();
                    self.failure = Some(Failure::of(None, text, now));
                }
            }
            _ => {}
        }
    }

    fn add_codex_usage(&mut self, usage: &Value) {
        let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        };
        let prev = self.usage.take().unwrap_or_default();
        self.usage = Some(Usage {
            input_tokens: add(prev.input_tokens, usage.get("input_tokens").and_then(count)),
            output_tokens: add(
                prev.output_tokens,
                usage.get("output_tokens").and_then(count),
            ),
            cache_read_tokens: add(
                prev.cache_read_tokens,
                usage.get("cached_input_tokens").and_then(count),
            ),
            reasoning_tokens: add(
                prev.reasoning_tokens,
                usage.get("reasoning_output_tokens").and_then(count),
            ),
            num_turns: Some(prev.num_turns.unwrap_or(0).saturating_add(1)),
            ..Usage::default()
        });
    }

    pub(super) fn announce_model(&mut self, v: Option<&Value>) {
        if self.announced_model.is_none() {
            self.announced_model = model_name(v);
        }
    }

    fn set_usage(&mut self, u: Usage) {
        if u != Usage::default() {
            self.usage = Some(u);
        }
    }
}

/// Gemini's result `status:"error"` without an error: the stream broke. A server error hidden by
/// the CLI, unless its error record says the answer was blocked or cut off, which waiting will
/// not change.
fn broken_gemini_stream(error_record: Option<&str>) -> Failure {
    let raw = error_record.unwrap_or("the stream ended with status error");
    let lower = raw.to_ascii_lowercase();
    if ["blocked", "token limit", "truncated"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Failure::Unexplained {
            raw: excerpt(raw),
            status_from_exit: false,
        };
    }
    Failure::Transient(Transient::new(TransientClass::ApiTransient5xx, raw))
}

/// `{"type":"system","subtype":"api_retry","attempt":N,"max_retries":10,"retry_delay_ms":…,
/// "error_status":429|null,"error":"rate_limit"|"authentication_failed"|…}`.
fn claude_retry(v: &Value) -> Retry {
    let status = v.get("error_status").and_then(as_status);
    let error = v.get("error").and_then(Value::as_str).unwrap_or("");
    Retry {
        status,
        cause: Cause::of(status, error),
        attempt: v.get("attempt").and_then(count),
        max_retries: v.get("max_retries").and_then(count),
        delay_ms: v.get("retry_delay_ms").and_then(count),
        raw: excerpt(&format!("api_retry {error}")),
    }
}

/// "Reconnecting... 2/5 (unexpected status 429 Too Many Requests: …)".
fn codex_retry(text: &str) -> Retry {
    let status = status_in_text(text);
    let (attempt, max_retries) = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.split_once('/'))
        .map_or((None, None), |(a, m)| (a.parse().ok(), m.parse().ok()));
    Retry {
        status,
        cause: Cause::of(status, text),
        attempt,
        max_retries,
        delay_ms: None,
        raw: excerpt(text),
    }
}

/// `{"role":"meta","type":"turn.step.retrying","status_code":429,"error_message":…}`.
fn kimi_retry(kind: &str, v: &Value) -> Retry {
    let status = v.get("status_code").and_then(as_status);
    let message = v
        .get("error_message")
        .and_then(Value::as_str)
        .unwrap_or(kind);
    Retry {
        status,
        cause: Cause::of(status, message),
        attempt: v.get("attempt").and_then(count),
        max_retries: v.get("max_retries").and_then(count),
        delay_ms: None,
        raw: excerpt(message),
    }
}

/// An HTTP status (100–599), as a number or a numeric string.
fn as_status(v: &Value) -> Option<u16> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    u16::try_from(n).ok().filter(|s| (100..600).contains(s))
}

mod text;

#[cfg(test)]
mod tests;
