//! What the agent's output says: its JSON records read per output format (usage, model, rate
//! limits, API errors), and authentication and network failures in plain text.
//!
//! Every field is untrusted: missing, null, wrong-typed, negative or absurd values become
//! "unknown", never a crash or a made-up number.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::config::OutputFormat;
use crate::events::payload::AgentUsageRecorded;

/// Only this much of a text line is pattern-matched (errors are short; tool output is not).
pub(crate) const PATTERN_WINDOW: usize = 4096;
/// Excerpts kept for events.
const RAW_CAP: usize = 200;

/// A transient error's class, with its default back-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transient {
    /// `rate_limit_account`, `rate_limit_model`, `api_transient_5xx`, `api_timeout`, `network`.
    pub class: &'static str,
    /// Server-given reset time (epoch seconds), when present and plausible.
    pub reset_at: Option<u64>,
    /// A short excerpt of what showed it.
    pub raw: String,
}

impl Transient {
    /// How long to wait when the server gave no reset time.
    pub(crate) fn default_back_off_s(&self) -> u64 {
        match self.class {
            "rate_limit_account" => 1800,
            "api_timeout" | "network" => 30,
            _ => 60,
        }
    }
}

/// Token usage and cost from the agent's final record(s). `None` fields were not reported (or
/// reported as nonsense).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Usage {
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Tokens read from the prompt cache.
    pub cache_read_tokens: Option<u64>,
    /// Tokens written to the prompt cache.
    pub cache_creation_tokens: Option<u64>,
    /// Total tokens, when the agent reports only that.
    pub total_tokens: Option<u64>,
    /// Cost in USD.
    pub cost_usd: Option<f64>,
    /// The agent's own duration.
    pub duration_ms: Option<u64>,
    /// Turns.
    pub num_turns: Option<u64>,
    /// Whether the agent reported an error.
    pub is_error: Option<bool>,
}

impl Usage {
    fn is_empty(&self) -> bool {
        *self == Usage::default()
    }

    /// The `agent_usage_recorded` payload (only known fields).
    pub(crate) fn to_payload(&self, model: Option<&str>) -> AgentUsageRecorded {
        AgentUsageRecorded {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_tokens,
            cache_creation_tokens: self.cache_creation_tokens,
            total_tokens: self.total_tokens,
            cost_usd: self.cost_usd,
            agent_duration_ms: self.duration_ms,
            num_turns: self.num_turns,
            is_error: self.is_error,
            model: model.map(str::to_string),
        }
    }
}

/// Everything the stream told us.
#[derive(Debug, Clone, Default)]
pub(crate) struct Findings {
    /// A transient error from a structured record (outranks everything but check-in/stop).
    pub transient: Option<Transient>,
    /// An authentication failure from a structured record.
    pub auth_structured: Option<String>,
    /// The last HTTP status of a retry record (kimi `turn.step.retrying`).
    pub retry_status: Option<(u16, String)>,
    /// Usage, when reported.
    pub usage: Option<Usage>,
    /// The model, when reported.
    pub model: Option<String>,
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
    /// Looks at a line of text (or an error message) for authentication and network failures.
    pub(crate) fn text(&mut self, text: &str) {
        if AUTH.is_match(text) {
            self.auth_text = Some(excerpt(text));
        } else if NETWORK.is_match(text) {
            self.network_text = Some(excerpt(text));
        }
    }

    /// Reads one JSON record of the agent's output, as `format` defines it.
    pub(crate) fn record(&mut self, format: OutputFormat, v: &Value, now: u64) {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        // Retry records (kimi), whatever the format: remembered, used only if the round fails.
        if kind.contains("retrying")
            && let Some(code) = v.get("status_code").and_then(as_status)
        {
            let msg = v
                .get("error_message")
                .and_then(Value::as_str)
                .unwrap_or(kind);
            self.retry_status = Some((code, excerpt(msg)));
        }
        match format {
            OutputFormat::ClaudeStreamJson => self.claude(kind, v, now),
            OutputFormat::GeminiStreamJson => self.gemini(kind, v),
            OutputFormat::CodexJson => self.codex(kind, v),
            OutputFormat::Text => {}
        }
    }

    fn claude(&mut self, kind: &str, v: &Value, now: u64) {
        match kind {
            "assistant" => {
                if self.model.is_none()
                    && let Some(m) = v.pointer("/message/model").and_then(Value::as_str)
                {
                    self.model = Some(excerpt(m));
                }
            }
            "rate_limit_event" => {
                let info = v.get("rate_limit_info").unwrap_or(&Value::Null);
                let rejected = info.get("status").and_then(Value::as_str) == Some("rejected");
                let limit = info
                    .get("rateLimitType")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if rejected {
                    // An account limit outranks any status class seen before or after.
                    self.transient = Some(Transient {
                        class: "rate_limit_account",
                        reset_at: info.get("resetsAt").and_then(|t| plausible_epoch(t, now)),
                        raw: excerpt(&format!("rate_limit_event {limit} rejected")),
                    });
                }
            }
            "result" => {
                let usage = v.get("usage").unwrap_or(&Value::Null);
                let u = Usage {
                    input_tokens: usage.get("input_tokens").and_then(count),
                    output_tokens: usage.get("output_tokens").and_then(count),
                    cache_read_tokens: usage.get("cache_read_input_tokens").and_then(count),
                    cache_creation_tokens: usage.get("cache_creation_input_tokens").and_then(count),
                    total_tokens: None,
                    cost_usd: v.get("total_cost_usd").and_then(cost),
                    duration_ms: v.get("duration_ms").and_then(count),
                    num_turns: v.get("num_turns").and_then(count),
                    is_error: v.get("is_error").and_then(Value::as_bool),
                };
                if !u.is_empty() {
                    self.usage = Some(u);
                }
                if v.get("is_error").and_then(Value::as_bool) == Some(true) {
                    let text = v.get("result").and_then(Value::as_str).unwrap_or("");
                    let status = v
                        .get("api_error_status")
                        .and_then(as_status)
                        .or_else(|| api_error_in_text(text));
                    self.status(status, text);
                }
            }
            _ => {}
        }
    }

    fn gemini(&mut self, kind: &str, v: &Value) {
        match kind {
            "init" => {
                if let Some(m) = v.get("model").and_then(Value::as_str) {
                    self.model = Some(excerpt(m));
                }
            }
            "result" => {
                let stats = v.get("stats").unwrap_or(&Value::Null);
                let u = Usage {
                    input_tokens: stats.get("input_tokens").and_then(count),
                    output_tokens: stats.get("output_tokens").and_then(count),
                    cache_read_tokens: stats.get("cached").and_then(count),
                    total_tokens: stats.get("total_tokens").and_then(count),
                    duration_ms: stats.get("duration_ms").and_then(count),
                    is_error: v
                        .get("status")
                        .and_then(Value::as_str)
                        .map(|s| s == "error"),
                    ..Usage::default()
                };
                if !u.is_empty() {
                    self.usage = Some(u);
                }
                if v.get("status").and_then(Value::as_str) == Some("error") {
                    let err = v.get("error").unwrap_or(&Value::Null);
                    let text = err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("error");
                    let code = err.get("code").and_then(as_status);
                    self.status(code, text);
                }
            }
            "error" => {
                let text = v.get("message").and_then(Value::as_str).unwrap_or("");
                self.text(text);
            }
            _ => {}
        }
    }

    fn codex(&mut self, kind: &str, v: &Value) {
        match kind {
            "turn.completed" => {
                let usage = v.get("usage").unwrap_or(&Value::Null);
                let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                };
                let prev = self.usage.clone().unwrap_or_default();
                let u = Usage {
                    input_tokens: add(prev.input_tokens, usage.get("input_tokens").and_then(count)),
                    output_tokens: add(
                        prev.output_tokens,
                        usage.get("output_tokens").and_then(count),
                    ),
                    cache_read_tokens: add(
                        prev.cache_read_tokens,
                        usage.get("cached_input_tokens").and_then(count),
                    ),
                    num_turns: Some(prev.num_turns.unwrap_or(0) + 1),
                    ..Usage::default()
                };
                self.usage = Some(u);
            }
            "turn.failed" | "error" => {
                let text = v
                    .pointer("/error/message")
                    .or_else(|| v.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let lower = text.to_ascii_lowercase();
                if lower.contains("usage limit") {
                    self.transient = Some(Transient {
                        class: "rate_limit_account",
                        reset_at: None,
                        raw: excerpt(text),
                    });
                    return;
                }
                let status = api_error_in_text(text)
                    .or_else(|| http_status_in_text(text))
                    .or_else(|| {
                        (lower.contains("rate limit") || lower.contains("too many requests"))
                            .then_some(429)
                    });
                self.status(status, text);
            }
            _ => {}
        }
    }

    /// Applies the status ladder to a failed request: 429 is a model rate limit, 500/502/503/504/529
    /// a transient server error, 408 a request timeout, 401/403 an authentication failure; an
    /// account limit seen already outranks them all. Anything else is left to the text patterns.
    fn status(&mut self, status: Option<u16>, text: &str) {
        if matches!(status, Some(401 | 403)) {
            self.auth_structured = Some(excerpt(text));
            return;
        }
        let class = status.and_then(transient_class);
        match class {
            Some(class) => {
                let outranked = self
                    .transient
                    .as_ref()
                    .is_some_and(|t| t.class == "rate_limit_account");
                if !outranked {
                    self.transient = Some(Transient {
                        class,
                        reset_at: None,
                        raw: excerpt(text),
                    });
                }
            }
            None => self.text(text),
        }
    }
}

/// The transient class of a failed request's HTTP status: 429 a model rate limit, 500/502/503/
/// 504/529 a transient server error, 408 a request timeout; anything else is none.
pub(crate) fn transient_class(status: u16) -> Option<&'static str> {
    match status {
        429 => Some("rate_limit_model"),
        500 | 502 | 503 | 504 | 529 => Some("api_transient_5xx"),
        408 => Some("api_timeout"),
        _ => None,
    }
}

static AUTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:status|error|code|http|api error)[^0-9a-z]{0,3}401\b",
        r"|\b401\b[^\n]{0,40}(?:unauthori[sz]ed|authentic|api.?key|token)",
        r"|\bunauthori[sz]ed\b",
        r"|invalid[ _-](?:api[ _-]?key|x-api-key|bearer token|token|credentials)",
        r"|invalid_api_key|authentication_error|authentication failed",
        r"|(?:oauth|access|auth|session)[ _-]?token[^\n]{0,20}(?:expired|revoked)",
        r"|expired[^\n]{0,12}(?:oauth|access|auth|session)[ _-]?token",
        r"|please run /login|not logged in|provider\.auth_error",
    ))
    .expect("auth pattern is valid")
});

static NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(?:econnrefused|econnreset|etimedout|enotfound|eai_again|ehostunreach|enetunreach)\b",
        r"|connection (?:refused|reset|timed out)|network (?:is )?unreachable",
        r"|could not resolve host|name or service not known|temporary failure in name resolution",
        r"|getaddrinfo|socket hang up|fetch failed|no route to host|tls handshake timeout",
    ))
    .expect("network pattern is valid")
});

static API_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"API Error: (\d{3})\b").expect("valid"));

static HTTP_STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:status(?: code)?|http)[: ]{0,2}(\d{3})\b|\b(\d{3}) (?:too many requests|service unavailable|bad gateway|gateway timeout|internal server error|request timeout|unauthorized|overloaded)")
        .expect("valid")
});

/// A status code in an error message ("unexpected status 429", "503 Service Unavailable").
fn http_status_in_text(text: &str) -> Option<u16> {
    let window = &text[..floor_char_boundary(text, PATTERN_WINDOW)];
    let caps = HTTP_STATUS.captures(window)?;
    caps.get(1).or_else(|| caps.get(2))?.as_str().parse().ok()
}

fn api_error_in_text(text: &str) -> Option<u16> {
    let window = &text[..floor_char_boundary(text, PATTERN_WINDOW)];
    API_ERROR.captures(window).and_then(|c| c[1].parse().ok())
}

/// A non-negative integer count; anything else is unknown.
fn count(v: &Value) -> Option<u64> {
    v.as_u64().filter(|n| *n < (1 << 53))
}

/// A cost in USD: finite, non-negative, below a sanity ceiling.
fn cost(v: &Value) -> Option<f64> {
    v.as_f64()
        .filter(|c| c.is_finite() && *c >= 0.0 && *c < 1e6)
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

/// An epoch-seconds reset time within a day before and 30 days after `now`; milliseconds are
/// recognised and converted. Anything else is unknown.
fn plausible_epoch(v: &Value, now: u64) -> Option<u64> {
    let n = v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e15)
            // Bounded to [0, 1e15) just above, so the cast is exact enough.
            .map(|f| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = f as u64;
                n
            })
    })?;
    let secs = if n > 100_000_000_000 { n / 1000 } else { n };
    (secs + 86_400 >= now && secs <= now + 30 * 86_400).then_some(secs)
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// At most [`RAW_CAP`] characters of `s`, on one line.
pub(crate) fn excerpt(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(RAW_CAP)
        .collect();
    one_line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round::classify::{Classified, Ending, Outcome, classify};
    use crate::round::scan::Scanner;

    const NOW: u64 = 1_795_341_600;

    fn scan(format: OutputFormat, text: &str) -> Scanner {
        let mut s = Scanner::new(format, Some("\"type\":\"result\""), NOW);
        s.feed(text.as_bytes());
        s.finish();
        s.scan_tail();
        s
    }

    fn claude(text: &str) -> Classified {
        let s = scan(OutputFormat::ClaudeStreamJson, text);
        classify(Ending::Exited(1), &s.findings)
    }

    #[test]
    fn claude_status_ladder() {
        for (status, class) in [
            ("429", "rate_limit_model"),
            ("529", "api_transient_5xx"),
            ("503", "api_transient_5xx"),
            ("408", "api_timeout"),
        ] {
            let c = claude(&format!(
                "{{\"type\":\"result\",\"is_error\":true,\"api_error_status\":{status},\"result\":\"x\"}}\n"
            ));
            assert_eq!(c.outcome, Outcome::Transient, "{status}");
            assert_eq!(c.classification.as_deref(), Some(class));
            assert_eq!(c.transient.unwrap().reset_at, None);
        }
        let c = claude(
            "{\"type\":\"result\",\"is_error\":true,\"api_error_status\":null,\"result\":\"API Error: 429 {\\\"type\\\":\\\"error\\\"}\"}\n",
        );
        assert_eq!(c.classification.as_deref(), Some("rate_limit_model"));
        let c = claude(
            "{\"type\":\"result\",\"is_error\":true,\"api_error_status\":401,\"result\":\"Invalid API key\"}\n",
        );
        assert_eq!(c.outcome, Outcome::AuthFail);
        let c = claude(
            "{\"type\":\"result\",\"is_error\":true,\"api_error_status\":404,\"result\":\"model not found\"}\n",
        );
        assert_eq!(c.outcome, Outcome::Crash);
    }

    #[test]
    fn five_hour_outranks_status_and_keeps_reset() {
        let reset = NOW + 3600;
        let text = format!(
            "{{\"type\":\"rate_limit_event\",\"rate_limit_info\":{{\"status\":\"rejected\",\"rateLimitType\":\"five_hour\",\"resetsAt\":{reset}}}}}\n{{\"type\":\"result\",\"is_error\":true,\"api_error_status\":429,\"result\":\"limit\"}}\n"
        );
        let c = claude(&text);
        assert_eq!(c.classification.as_deref(), Some("rate_limit_account"));
        assert_eq!(c.transient.unwrap().reset_at, Some(reset));
        // Absurd reset times are unknown, not believed.
        for bad in ["-5", "1e300", "\"soon\"", "null", "99999999999999999999"] {
            let text = format!(
                "{{\"type\":\"rate_limit_event\",\"rate_limit_info\":{{\"status\":\"rejected\",\"rateLimitType\":\"five_hour\",\"resetsAt\":{bad}}}}}\n"
            );
            let c = claude(&text);
            assert_eq!(c.transient.unwrap().reset_at, None, "{bad}");
        }
        // An allowed status is no error.
        let ok = scan(
            OutputFormat::ClaudeStreamJson,
            "{\"type\":\"rate_limit_event\",\"rate_limit_info\":{\"status\":\"allowed\",\"rateLimitType\":\"five_hour\"}}\n",
        );
        assert!(ok.findings.transient.is_none());
    }

    #[test]
    fn claude_usage_is_recorded_and_garbage_is_unknown() {
        let s = scan(
            OutputFormat::ClaudeStreamJson,
            "{\"type\":\"assistant\",\"message\":{\"model\":\"claude-x\",\"content\":[]}}\n{\"type\":\"result\",\"is_error\":false,\"result\":\"done\",\"usage\":{\"input_tokens\":12,\"output_tokens\":34,\"cache_read_input_tokens\":5,\"cache_creation_input_tokens\":\"lots\"},\"total_cost_usd\":0.25,\"duration_ms\":-3}\n",
        );
        assert!(s.marker_seen);
        let u = s.findings.usage.clone().unwrap();
        assert_eq!(u.input_tokens, Some(12));
        assert_eq!(u.output_tokens, Some(34));
        assert_eq!(u.cache_read_tokens, Some(5));
        assert_eq!(u.cache_creation_tokens, None);
        assert_eq!(u.cost_usd, Some(0.25));
        assert_eq!(u.duration_ms, None);
        assert_eq!(s.findings.model.as_deref(), Some("claude-x"));
        assert_eq!(
            classify(Ending::Exited(0), &s.findings).outcome,
            Outcome::Ok
        );
    }

    #[test]
    fn text_patterns_for_every_preset() {
        for format in [
            OutputFormat::Text,
            OutputFormat::ClaudeStreamJson,
            OutputFormat::CodexJson,
            OutputFormat::GeminiStreamJson,
        ] {
            let s = scan(format, "Error: 401 Unauthorized: invalid x-api-key\n");
            assert_eq!(
                classify(Ending::Exited(1), &s.findings).outcome,
                Outcome::AuthFail
            );
            let s = scan(format, "OAuth token has expired. Please run /login\n");
            assert_eq!(
                classify(Ending::Exited(1), &s.findings).outcome,
                Outcome::AuthFail
            );
            let s = scan(format, "fetch failed: connect ECONNREFUSED 1.2.3.4:443\n");
            let c = classify(Ending::Exited(1), &s.findings);
            assert_eq!(c.classification.as_deref(), Some("network"));
            // A successful round is ok whatever it printed.
            assert_eq!(
                classify(Ending::Exited(0), &s.findings).outcome,
                Outcome::Ok
            );
        }
        // Tool output inside stream-json is not mistaken for the agent's own failure.
        let s = scan(
            OutputFormat::ClaudeStreamJson,
            "{\"type\":\"user\",\"content\":\"HTTP 401 Unauthorized from the app under test\"}\n",
        );
        assert_eq!(
            classify(Ending::Exited(1), &s.findings).outcome,
            Outcome::Crash
        );
        let s = scan(OutputFormat::Text, "processed line 401 of the file\n");
        assert_eq!(
            classify(Ending::Exited(1), &s.findings).outcome,
            Outcome::Crash
        );
    }

    #[test]
    fn gemini_codex_and_kimi() {
        let s = scan(
            OutputFormat::GeminiStreamJson,
            "{\"type\":\"result\",\"status\":\"error\",\"error\":{\"code\":429,\"message\":\"quota\"},\"stats\":{\"total_tokens\":99}}\n",
        );
        let c = classify(Ending::Exited(1), &s.findings);
        assert_eq!(c.classification.as_deref(), Some("rate_limit_model"));
        assert_eq!(s.findings.usage.unwrap().total_tokens, Some(99));

        let s = scan(
            OutputFormat::CodexJson,
            "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":10,\"output_tokens\":2}}\n{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}\n{\"type\":\"turn.failed\",\"error\":{\"message\":\"stream error: 503 Service Unavailable\"}}\n",
        );
        let c = classify(Ending::Exited(1), &s.findings);
        assert_eq!(c.classification.as_deref(), Some("api_transient_5xx"));
        assert_eq!(s.findings.usage.clone().unwrap().input_tokens, Some(15));
        let s = scan(
            OutputFormat::CodexJson,
            "{\"type\":\"error\",\"message\":\"You've hit your usage limit.\"}\n",
        );
        assert_eq!(
            classify(Ending::Exited(1), &s.findings)
                .classification
                .as_deref(),
            Some("rate_limit_account")
        );

        let s = scan(
            OutputFormat::Text,
            "{\"role\":\"meta\",\"type\":\"turn.step.retrying\",\"status_code\":529,\"error_name\":\"overloaded\",\"error_message\":\"Overloaded\"}\n",
        );
        assert_eq!(
            classify(Ending::Exited(1), &s.findings)
                .classification
                .as_deref(),
            Some("api_transient_5xx")
        );
        assert_eq!(
            classify(Ending::Exited(0), &s.findings).outcome,
            Outcome::Ok
        );
    }
}
