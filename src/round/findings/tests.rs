//! The output of real agent CLIs, read and classified.

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
    classify(Ending::Exited(1), &s.findings, NOW)
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
    assert!(ok.findings.account_limit.is_none());
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
    assert_eq!(s.findings.model(), Some("claude-x"));
    assert_eq!(
        classify(Ending::Exited(0), &s.findings, NOW).outcome,
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
            classify(Ending::Exited(1), &s.findings, NOW).outcome,
            Outcome::AuthFail
        );
        let s = scan(format, "OAuth token has expired. Please run /login\n");
        assert_eq!(
            classify(Ending::Exited(1), &s.findings, NOW).outcome,
            Outcome::AuthFail
        );
        let s = scan(format, "fetch failed: connect ECONNREFUSED 1.2.3.4:443\n");
        let c = classify(Ending::Exited(1), &s.findings, NOW);
        assert_eq!(c.classification.as_deref(), Some("network"));
        // A successful round is ok whatever it printed.
        assert_eq!(
            classify(Ending::Exited(0), &s.findings, NOW).outcome,
            Outcome::Ok
        );
    }
    // Tool output inside stream-json is not mistaken for the agent's own failure.
    let s = scan(
        OutputFormat::ClaudeStreamJson,
        "{\"type\":\"user\",\"content\":\"HTTP 401 Unauthorized from the app under test\"}\n",
    );
    assert_eq!(
        classify(Ending::Exited(1), &s.findings, NOW).outcome,
        Outcome::Crash
    );
    let s = scan(OutputFormat::Text, "processed line 401 of the file\n");
    assert_eq!(
        classify(Ending::Exited(1), &s.findings, NOW).outcome,
        Outcome::Crash
    );
}

#[test]
fn gemini_codex_and_kimi() {
    let s = scan(
        OutputFormat::GeminiStreamJson,
        "{\"type\":\"result\",\"status\":\"error\",\"error\":{\"code\":429,\"message\":\"quota\"},\"stats\":{\"total_tokens\":99}}\n",
    );
    let c = classify(Ending::Exited(1), &s.findings, NOW);
    assert_eq!(c.classification.as_deref(), Some("rate_limit_model"));
    assert_eq!(s.findings.usage.unwrap().total_tokens, Some(99));

    let s = scan(
        OutputFormat::CodexJson,
        "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":10,\"output_tokens\":2}}\n{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}\n{\"type\":\"turn.failed\",\"error\":{\"message\":\"stream error: 503 Service Unavailable\"}}\n",
    );
    let c = classify(Ending::Exited(1), &s.findings, NOW);
    assert_eq!(c.classification.as_deref(), Some("api_transient_5xx"));
    assert_eq!(s.findings.usage.clone().unwrap().input_tokens, Some(15));
    let s = scan(
        OutputFormat::CodexJson,
        "{\"type\":\"error\",\"message\":\"You've hit your usage limit.\"}\n",
    );
    assert_eq!(
        classify(Ending::Exited(1), &s.findings, NOW)
            .classification
            .as_deref(),
        Some("rate_limit_account")
    );

    let s = scan(
        OutputFormat::Text,
        "{\"role\":\"meta\",\"type\":\"turn.step.retrying\",\"status_code\":529,\"error_name\":\"overloaded\",\"error_message\":\"Overloaded\"}\n",
    );
    assert_eq!(
        classify(Ending::Exited(1), &s.findings, NOW)
            .classification
            .as_deref(),
        Some("api_transient_5xx")
    );
    assert_eq!(
        classify(Ending::Exited(0), &s.findings, NOW).outcome,
        Outcome::Ok
    );
}

// What today's CLIs print (claude 2.1, codex 0.17x, gemini 0.61, aider 0.86), each case a real
// answer's shape: the classification and usage every one of them must get.

fn run(format: OutputFormat, lines: &[&str], ending: Ending) -> (Classified, Findings) {
    let mut s = Scanner::new(format, Some("\"type\":\"result\""), NOW);
    for line in lines {
        s.feed(line.as_bytes());
        s.feed(b"\n");
    }
    s.finish();
    if ending.failed() {
        s.scan_tail();
    }
    (classify(ending, &s.findings, NOW + 5), s.findings)
}

fn class(c: &Classified) -> (Outcome, Option<&str>) {
    (c.outcome, c.classification.as_deref())
}

const CLAUDE_INIT: &str = r#"{"type":"system","subtype":"init","cwd":"/srv/p","session_id":"s","tools":[],"model":"claude-sonnet-4-5","permissionMode":"bypassPermissions"}"#;

fn claude_retry(status: &str, error: &str, attempt: u32) -> String {
    format!(
        r#"{{"type":"system","subtype":"api_retry","attempt":{attempt},"max_retries":10,"retry_delay_ms":{},"error_status":{status},"error":"{error}","session_id":"s"}}"#,
        500 * attempt
    )
}

/// The result of a failed request: zero usage under model `<synthetic>`.
fn claude_failed(status: &str, text: &str, api_error: &str) -> String {
    format!(
        r#"{{"type":"result","subtype":"success","is_error":true,"api_error_status":{status},"api_error_type":null,"api_error":{api_error},"terminal_reason":"api_error","duration_ms":180000,"num_turns":1,"result":"{text}","total_cost_usd":0,"usage":{{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}},"model_usage_since_last_result":{{"<synthetic>":{{"inputTokens":0,"outputTokens":0,"costUSD":0}}}}}}"#
    )
}

#[test]
fn claude_retries_then_success_is_ok_with_its_retries() {
    let retries: Vec<String> = (1..=3)
        .map(|a| claude_retry("429", "rate_limit", a))
        .collect();
    let mut lines = vec![CLAUDE_INIT];
    lines.extend(retries.iter().map(String::as_str));
    lines.extend([
        r#"{"type":"assistant","message":{"model":"claude-sonnet-4-5","content":[{"type":"text","text":"done"}]}}"#,
        r#"{"type":"result","subtype":"success","is_error":false,"api_error_status":null,"terminal_reason":"completed","result":"done","duration_ms":4000,"num_turns":2,"total_cost_usd":0.0123,"usage":{"input_tokens":1200,"output_tokens":345,"cache_read_input_tokens":50,"cache_creation_input_tokens":7},"model_usage_since_last_result":{"claude-sonnet-4-5":{"inputTokens":1200,"outputTokens":345,"costUSD":0.0123},"claude-haiku-4-5":{"inputTokens":30,"outputTokens":4,"costUSD":0.0001}}}"#,
    ]);
    let (c, f) = run(OutputFormat::ClaudeStreamJson, &lines, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Ok, None));
    assert_eq!(c.agent_retries, 3);
    assert_eq!(f.retries.bursts, 1);
    assert!(f.usage.as_ref().unwrap().shows_use());
    assert_eq!(f.model(), Some("claude-sonnet-4-5"));
}

#[test]
fn claude_failed_requests_by_class() {
    let cases = [
        (
            claude_failed(
                "429",
                "API Error: Request rejected (429) · This request would exceed the rate limit for your organization",
                "\"rate_limit\"",
            ),
            (Outcome::Transient, Some("rate_limit_model")),
        ),
        (
            claude_failed(
                "null",
                "API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again in a moment.",
                "null",
            ),
            (Outcome::Transient, Some("api_transient_5xx")),
        ),
        (
            claude_failed(
                "500",
                "API Error: 500 {\\\"type\\\":\\\"error\\\",\\\"error\\\":{\\\"type\\\":\\\"api_error\\\",\\\"message\\\":\\\"Internal server error\\\"}}",
                "null",
            ),
            (Outcome::Transient, Some("api_transient_5xx")),
        ),
        (
            claude_failed(
                "401",
                "Invalid API key · Fix external API key",
                "\"authentication_failed\"",
            ),
            (Outcome::AuthFail, Some("auth")),
        ),
        (
            claude_failed(
                "null",
                "Request timed out. Check your internet connection and proxy settings, or set API_TIMEOUT_MS to a higher value",
                "null",
            ),
            (Outcome::Transient, Some("api_timeout")),
        ),
        (
            claude_failed("400", "API Error: 400 prompt is too long", "null"),
            (Outcome::Crash, Some("exit_1")),
        ),
    ];
    for (result, expected) in &cases {
        let retry = claude_retry("429", "rate_limit", 10);
        let (c, f) = run(
            OutputFormat::ClaudeStreamJson,
            &[CLAUDE_INIT, &retry, result],
            Ending::Exited(1),
        );
        assert_eq!(class(&c), *expected, "{result}");
        // A failed request's zero usage is no usage, and `<synthetic>` no model.
        assert!(!f.usage.as_ref().unwrap().shows_use());
        assert_eq!(f.model(), Some("claude-sonnet-4-5"));
    }
}

#[test]
fn claude_five_hour_limit_parks_until_its_reset() {
    let reset = NOW + 3 * 3600;
    let event = format!(
        r#"{{"type":"rate_limit_event","rate_limit_info":{{"status":"rejected","rateLimitType":"five_hour","resetsAt":{reset},"overageStatus":"rejected"}}}}"#
    );
    let result = claude_failed(
        "429",
        "You've hit your 5-hour limit · resets 7pm (Europe/Berlin)",
        "\"usage_limit_reached\"",
    );
    let (c, _) = run(
        OutputFormat::ClaudeStreamJson,
        &[CLAUDE_INIT, &event, &result],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    assert_eq!(c.transient.unwrap().reset_at, Some(reset));
    // Without the event (an API key, no subscription) the same words still name the account.
    let (c, _) = run(
        OutputFormat::ClaudeStreamJson,
        &[&result],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    // A rejection the round still got past (extra usage) is no limit.
    let ok = r#"{"type":"result","subtype":"success","is_error":false,"result":"done","usage":{"input_tokens":5,"output_tokens":5}}"#;
    let (c, _) = run(
        OutputFormat::ClaudeStreamJson,
        &[&event, ok],
        Ending::Exited(0),
    );
    assert_eq!(class(&c), (Outcome::Ok, None));
}

#[test]
fn claude_retrying_401_then_giving_up_is_auth() {
    let retry = claude_retry("401", "authentication_failed", 1);
    let (c, f) = run(
        OutputFormat::ClaudeStreamJson,
        &[CLAUDE_INIT, &retry],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::AuthFail, Some("auth")));
    assert_eq!(f.retries.count, 1);
}

fn codex_failed(message: &str) -> [String; 2] {
    [
        format!(r#"{{"type":"error","message":"{message}"}}"#),
        format!(r#"{{"type":"turn.failed","error":{{"message":"{message}"}}}}"#),
    ]
}

const CODEX_START: [&str; 2] = [
    r#"{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}"#,
    r#"{"type":"turn.started"}"#,
];

#[test]
fn codex_reconnects_then_success_is_ok_with_usage() {
    let lines = [
        CODEX_START[0],
        CODEX_START[1],
        r#"{"type":"error","message":"Reconnecting... 1/5 (unexpected status 429 Too Many Requests: Rate limit reached for gpt-5-codex, last status: 429)"}"#,
        r#"{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion: error sending request for url (http://127.0.0.1:8080/v1/responses))"}"#,
        r#"{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"done"}}"#,
        r#"{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122,"reasoning_output_tokens":64}}"#,
    ];
    let (c, f) = run(OutputFormat::CodexJson, &lines, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Ok, None));
    assert_eq!(c.agent_retries, 2);
    let u = f.usage.unwrap();
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_tokens,
            u.output_tokens,
            u.reasoning_tokens
        ),
        (Some(24763), Some(24448), Some(122), Some(64))
    );
    assert_eq!(u.cost_usd, None);
}

#[test]
fn codex_failures_by_class() {
    for (message, expected) in [
        (
            "exceeded retry limit, last status: 429 Too Many Requests",
            (Outcome::Transient, Some("rate_limit_model")),
        ),
        (
            "unexpected status 503 Service Unavailable: upstream connect error",
            (Outcome::Transient, Some("api_transient_5xx")),
        ),
        (
            "We're currently experiencing high demand, which may cause temporary errors.",
            (Outcome::Transient, Some("api_transient_5xx")),
        ),
        (
            "stream disconnected before completion: Transport error: error decoding response body",
            (Outcome::Transient, Some("api_transient_5xx")),
        ),
        (
            "Quota exceeded. Check your plan and billing details.",
            (Outcome::Transient, Some("rate_limit_account")),
        ),
        (
            "unexpected status 401 Unauthorized: Incorrect API key provided: sk-test.",
            (Outcome::AuthFail, Some("auth")),
        ),
        (
            "unexpected status 400 Bad Request: model not supported",
            (Outcome::Crash, Some("exit_1")),
        ),
    ] {
        let [error, failed] = codex_failed(message);
        let retry = r#"{"type":"error","message":"Reconnecting... 5/5 (last status: 429)"}"#;
        let lines = [CODEX_START[0], CODEX_START[1], retry, &error, &failed];
        let (c, _) = run(OutputFormat::CodexJson, &lines, Ending::Exited(1));
        assert_eq!(class(&c), expected, "{message}");
    }
}

#[test]
fn codex_usage_limit_keeps_its_local_reset_time() {
    let [error, failed] = codex_failed(
        "You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit https://chatgpt.com/codex/settings/usage to purchase more credits or try again at Nov 22nd, 2026 11:42 PM.",
    );
    let (c, _) = run(
        OutputFormat::CodexJson,
        &[&error, &failed],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    let expected = crate::time::zone::to_epoch(2026, 11, 22, 23, 42)
        .and_then(|t| u64::try_from(t).ok())
        .and_then(|t| super::super::reset::plausible(t, NOW));
    assert_eq!(c.transient.unwrap().reset_at, expected);
}

const GEMINI_START: [&str; 3] = [
    "Loaded cached credentials.",
    "[WARN] Skipping unreadable directory: /srv/p/.cache",
    r#"{"type":"init","timestamp":"2026-11-22T10:00:00.000Z","session_id":"s","model":"auto"}"#,
];

fn gemini_error(message: &str) -> String {
    format!(
        r#"{{"type":"result","timestamp":"2026-11-22T10:05:00.000Z","status":"error","error":{{"type":"unknown","message":"{message}"}},"stats":{{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0,"duration_ms":0,"tool_calls":0,"models":{{}}}}}}"#
    )
}

#[test]
fn gemini_exit_status_is_the_http_status() {
    let plain = gemini_error("[API Error: got status: undefined]");
    for (exit, expected) in [
        (173, (Outcome::Transient, Some("rate_limit_model"))),
        (244, (Outcome::Transient, Some("api_transient_5xx"))),
        (247, (Outcome::Transient, Some("api_transient_5xx"))),
        (145, (Outcome::AuthFail, Some("auth"))),
        (144, (Outcome::Crash, Some("exit_144"))),
        (1, (Outcome::Crash, Some("exit_1"))),
    ] {
        let lines = [GEMINI_START[0], GEMINI_START[1], GEMINI_START[2], &plain];
        let (c, f) = run(OutputFormat::GeminiStreamJson, &lines, Ending::Exited(exit));
        assert_eq!(class(&c), expected, "exit {exit}");
        assert_eq!(f.model(), None, "`auto` is no model");
        assert!(!f.usage.as_ref().unwrap().shows_use());
    }
    // A bad key is a 400 whose words say so.
    let bad_key = gemini_error(
        "[API Error: API key not valid. Please pass a valid API key. (Status: INVALID_ARGUMENT)]",
    );
    let (c, _) = run(
        OutputFormat::GeminiStreamJson,
        &[&bad_key],
        Ending::Exited(144),
    );
    assert_eq!(class(&c), (Outcome::AuthFail, Some("auth")));
}

#[test]
fn gemini_quota_and_broken_streams() {
    let daily = gemini_error(
        "[API Error: You have exhausted your daily quota on this model.]\\nSuggested retry after 3600s.",
    );
    let (c, _) = run(
        OutputFormat::GeminiStreamJson,
        &[&daily],
        Ending::Exited(173),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    assert_eq!(c.transient.unwrap().reset_at, Some(NOW + 5 + 3600));
    let per_minute = gemini_error(
        "[API Error: Resource has been exhausted (e.g. check quota). (Status: RESOURCE_EXHAUSTED)]\\nPlease wait and try again later.",
    );
    let (c, _) = run(
        OutputFormat::GeminiStreamJson,
        &[&per_minute],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_model")));
    // Broken mid-answer: an error record, then a result without an error, and exit 0.
    let broken = [
        GEMINI_START[2],
        r#"{"type":"message","timestamp":"t","role":"assistant","content":"Let me","delta":true}"#,
        r#"{"type":"error","timestamp":"t","severity":"error","message":"Invalid stream: The model returned an empty response or malformed tool call."}"#,
        r#"{"type":"result","timestamp":"t","status":"error","stats":{"total_tokens":40,"input_tokens":30,"output_tokens":10,"cached":0,"input":30,"duration_ms":900,"tool_calls":0,"models":{"gemini-2.5-pro":{"total_tokens":40,"input_tokens":30,"output_tokens":10,"cached":0,"input":30}}}}"#,
    ];
    let (c, f) = run(OutputFormat::GeminiStreamJson, &broken, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Transient, Some("api_transient_5xx")));
    assert_eq!(f.model(), Some("gemini-2.5-pro"));
    // A blocked answer is no server error, and not a success either.
    let blocked = [
        r#"{"type":"error","severity":"error","message":"The model response was blocked due to safety settings."}"#,
        r#"{"type":"result","status":"error","stats":{}}"#,
    ];
    let (c, _) = run(OutputFormat::GeminiStreamJson, &blocked, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Crash, Some("agent_error")));
}

#[test]
fn gemini_success_takes_the_model_from_its_stats() {
    let lines = [
        GEMINI_START[2],
        r#"{"type":"result","timestamp":"t","status":"success","stats":{"total_tokens":5200,"input_tokens":5000,"output_tokens":200,"cached":1000,"input":4000,"duration_ms":7000,"tool_calls":2,"models":{"gemini-2.5-flash-lite":{"total_tokens":300,"input_tokens":290,"output_tokens":10,"cached":0,"input":290},"gemini-2.5-pro":{"total_tokens":4900,"input_tokens":4710,"output_tokens":190,"cached":1000,"input":3710}}}}"#,
    ];
    let (c, f) = run(OutputFormat::GeminiStreamJson, &lines, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Ok, None));
    assert_eq!(f.model(), Some("gemini-2.5-pro"));
    let u = f.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (Some(5000), Some(200)));
}

const AIDER_START: [&str; 3] = [
    "Aider v0.86.1",
    "Model: openai/gpt-4o with diff edit format",
    "Git repo: .git with 3 files",
];

#[test]
fn aider_gives_up_and_exits_0() {
    for (error, expected) in [
        (
            "litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429 - {'error': {'message': 'Rate limit reached', 'type': 'requests', 'code': 'rate_limit_exceeded'}}",
            (Outcome::Transient, Some("rate_limit_model")),
        ),
        (
            "litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your current quota, please check your plan and billing details. {'code': 'insufficient_quota'}",
            (Outcome::Transient, Some("rate_limit_account")),
        ),
        (
            "litellm.InternalServerError: InternalServerError: OpenAIException - Internal server error",
            (Outcome::Transient, Some("api_transient_5xx")),
        ),
        (
            "litellm.ServiceUnavailableError: ServiceUnavailableError: OpenAIException - Service Unavailable",
            (Outcome::Transient, Some("api_transient_5xx")),
        ),
        (
            "litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect API key provided: sk-test",
            (Outcome::AuthFail, Some("auth")),
        ),
        (
            "litellm.NotFoundError: NotFoundError: OpenAIException - The model `gpt-9` does not exist",
            (Outcome::Crash, Some("agent_error")),
        ),
    ] {
        let lines = [
            AIDER_START[0],
            AIDER_START[1],
            AIDER_START[2],
            error,
            "The API provider has rate limited you. Try again later or check your quotas.",
            "Retrying in 0.2 seconds...",
            error,
            "Retrying in 0.5 seconds...",
            error,
        ];
        let (c, f) = run(OutputFormat::Text, &lines, Ending::Exited(0));
        assert_eq!(class(&c), expected, "{error}");
        assert_eq!(f.retries.count, 2);
        assert_eq!(f.model(), Some("openai/gpt-4o"));
    }
}

#[test]
fn aider_answers_after_retries_are_ok_and_their_usage_counts() {
    let lines = [
        AIDER_START[1],
        "litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429",
        "Retrying in 0.2 seconds...",
        "I'll make that change.",
        "Tokens: 1.2k sent, 56 received. Cost: $0.0036 message, $0.0036 session.",
        "Applied edit to main.py",
        "Tokens: 2.3k sent, 1.1k cache hit, 80 received. Cost: $0.0050 message, $0.0086 session.",
    ];
    let (c, f) = run(OutputFormat::Text, &lines, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Ok, None));
    assert_eq!(c.agent_retries, 1);
    let u = f.usage.unwrap();
    assert_eq!(
        (
            u.input_tokens,
            u.output_tokens,
            u.cache_read_tokens,
            u.cost_usd
        ),
        (Some(3500), Some(136), Some(1100), Some(0.0086))
    );
    // Tool output that merely mentions such words is not aider's report.
    let (c, _) = run(
        OutputFormat::Text,
        &[
            "  raise litellm.RateLimitError(...)",
            "Error: 429 from the app under test",
        ],
        Ending::Exited(0),
    );
    assert_eq!(class(&c), (Outcome::Ok, None));
}

#[test]
fn untrusted_fields_degrade_to_unknown() {
    let lines = [
        r#"{"type":"system","subtype":"api_retry","attempt":"x","max_retries":-1,"retry_delay_ms":1e300,"error_status":"9999","error":{"nested":true}}"#,
        r#"{"type":"system","subtype":"init","model":["not","a","string"]}"#,
        r#"{"type":"result","is_error":"yes","api_error_status":[429],"usage":{"input_tokens":1.5,"output_tokens":null},"total_cost_usd":-1,"model_usage_since_last_result":{"m":{"inputTokens":"lots"}}}"#,
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":"tomorrow"}}"#,
    ];
    let (c, f) = run(OutputFormat::ClaudeStreamJson, &lines, Ending::Exited(1));
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    assert_eq!(c.transient.unwrap().reset_at, None);
    assert_eq!(f.model(), None);
    assert!(f.usage.is_none());
    assert_eq!(f.retries.count, 1);
    let (c, _) = run(
        OutputFormat::GeminiStreamJson,
        &[r#"{"type":"result","status":"error","error":"not an object","stats":7}"#],
        Ending::Exited(300),
    );
    assert_eq!(
        class(&c).0,
        Outcome::Transient,
        "no error object: a broken stream"
    );
    let (c, _) = run(
        OutputFormat::CodexJson,
        &[r#"{"type":"error","message":"Reconnecting... NaN/∞ (status 99999)"}"#],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Crash, Some("exit_1")));
}

// Learnt from the captures of the real claude 2.1.332 against the fake provider.

#[test]
fn claude_subscription_429s_are_account_limits_only_when_a_window_is_exhausted() {
    let event = |five_hour: &str, utilization: &str| {
        format!(
            r#"{{"type":"rate_limit_event","rate_limit_info":{{"status":"rejected","resetsAt":{},"rateLimitType":"five_hour","overageStatus":"rejected","overageDisabledReason":"out_of_credits","isUsingOverage":false,"unifiedWindows":{{"five_hour":{{"utilization":{utilization},"resetsAt":{},"status":"{five_hour}"}},"seven_day":{{"utilization":0.59,"resetsAt":{},"status":"allowed"}}}}}}}}"#,
            NOW + 4 * 3600,
            NOW + 5 * 3600,
            NOW + 6 * 86_400
        )
    };
    let result = claude_failed(
        "429",
        "You've hit your 5-hour limit · resets 1:10am (UTC)",
        "\"usage_limit_reached\"",
    );
    let exhausted = event("rejected", "1");
    let (c, _) = run(
        OutputFormat::ClaudeStreamJson,
        &[CLAUDE_INIT, &exhausted, &result],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    assert_eq!(c.transient.unwrap().reset_at, Some(NOW + 5 * 3600));
    // A per-minute 429: the CLI still says "rejected" and "5-hour limit", the window does not.
    let not_full = event("allowed", "0.12");
    let (c, _) = run(
        OutputFormat::ClaudeStreamJson,
        &[CLAUDE_INIT, &not_full, &result],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_model")));
    assert_eq!(c.transient.unwrap().reset_at, None);
}

#[test]
fn claude_lost_connections_and_empty_credit() {
    let cut = r#"{"type":"result","subtype":"success","is_error":true,"api_error_status":null,"api_error_type":null,"api_error":"connection_failed","terminal_reason":"api_error","result":"API Error: Connection to the API was lost (ECONNRESET). This is usually temporary — try again.","usage":{"input_tokens":1200,"output_tokens":1}}"#;
    let (c, f) = run(
        OutputFormat::ClaudeStreamJson,
        &[CLAUDE_INIT, cut],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("api_transient_5xx")));
    // What the cut request did use is still usage.
    assert!(f.usage.unwrap().shows_use());
    let credit = claude_failed("400", "Credit balance is too low", "null");
    let (c, _) = run(
        OutputFormat::ClaudeStreamJson,
        &[&credit],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    let refused = claude_failed(
        "null",
        "API Error: Unable to connect to API (ECONNREFUSED)",
        "\"connection_failed\"",
    );
    let (c, _) = run(
        OutputFormat::ClaudeStreamJson,
        &[&refused],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("network")));
}

// Learnt from the captures of the real codex 0.171, gemini-cli 0.61 and aider 0.86.

#[test]
fn codex_idle_timeout_is_a_timeout() {
    let [error, failed] =
        codex_failed("stream disconnected before completion: idle timeout waiting for SSE");
    let retry = r#"{"type":"error","message":"Reconnecting... 1/2 (stream disconnected before completion: idle timeout waiting for SSE)"}"#;
    let (c, f) = run(
        OutputFormat::CodexJson,
        &[retry, &error, &failed],
        Ending::Exited(1),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("api_timeout")));
    assert_eq!(f.retries.count, 1);
}

#[test]
fn gemini_retries_on_stderr_and_quota_resets_there() {
    let lines = [
        "Attempt 1 failed with status 500. Retrying with backoff... _ApiError: {\"error\":{\"code\":500,\"message\":\"An internal error has occurred.\"}}",
        "Attempt 1 failed: You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. ",
        "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-3.5-flash-lite",
        "Please retry in 1s.",
        "Suggested retry after 1s.. Retrying after 5066ms...",
        "Attempt 5 failed: You exceeded your current quota, please check your plan and billing details.",
        "Suggested retry after 1s.. Max attempts reached",
        GEMINI_START[2],
        r#"{"type":"message","timestamp":"t","role":"assistant","content":"Done.","delta":true}"#,
        r#"{"type":"result","timestamp":"t","status":"success","stats":{"total_tokens":2512,"input_tokens":2400,"output_tokens":112,"models":{"gemini-3.8-flash":{"total_tokens":1256}}}}"#,
    ];
    let (c, f) = run(OutputFormat::GeminiStreamJson, &lines, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Ok, None));
    assert_eq!(
        c.agent_retries, 2,
        "the attempt it gave up after is no retry"
    );
    let announced = f.retries.clone().take_announcements();
    assert_eq!(announced[0].1.status, Some(500));
    // The daily quota's wait is only on stderr, in the error gemini dumps there.
    let quota = gemini_error(
        "[API Error: You have exhausted your daily quota on this model.]\\nPlease wait and try again later.",
    );
    let (c, _) = run(
        OutputFormat::GeminiStreamJson,
        &[
            "Error generating content via API. TerminalQuotaError: You have exhausted your daily quota on this model.",
            "    message: 'You exceeded your current quota, please check your plan and billing details.\\n' +",
            "      'Please retry in 18000s.',",
            GEMINI_START[2],
            &quota,
        ],
        Ending::Exited(173),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    assert_eq!(c.transient.unwrap().reset_at, Some(NOW + 5 + 18_000));
    // A per-minute limit in Google's words, with its wait.
    let per_minute = gemini_error(
        "[API Error: You exceeded your current quota, please check your plan and billing details. \\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10\\nPlease retry in 1s.\\nSuggested retry after 1s.]",
    );
    let (c, _) = run(
        OutputFormat::GeminiStreamJson,
        &[&per_minute],
        Ending::Exited(173),
    );
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_model")));
    assert_eq!(c.transient.unwrap().reset_at, Some(NOW + 5 + 1));
    // A stream the server cut.
    let cut = gemini_error("[API Error: terminated]");
    let (c, _) = run(OutputFormat::GeminiStreamJson, &[&cut], Ending::Exited(1));
    assert_eq!(class(&c), (Outcome::Transient, Some("api_transient_5xx")));
}

#[test]
fn aider_errors_wrapped_at_80_columns_are_read_whole() {
    let quota = [
        "litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your ",
        "current quota, please check your plan and billing details. For more information ",
        "on this error, read the docs: ",
        "https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "The API provider has rate limited you. Try again later or check your quotas.",
        "Retrying in 0.2 seconds...",
        "litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your ",
        "current quota, please check your plan and billing details. For more information ",
    ];
    let (c, f) = run(OutputFormat::Text, &quota, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_account")));
    assert_eq!(f.retries.count, 1);
    let per_minute = [
        "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for",
        "gpt-4o in organization org-fake0000 on tokens per min (TPM): Limit 2000000, Used",
        "2000000, Requested 1200. Please try again in 1s. Visit ",
        "https://platform.openai.com/account/rate-limits to learn more.",
        "The API provider has rate limited you. Try again later or check your quotas.",
    ];
    let (c, _) = run(OutputFormat::Text, &per_minute, Ending::Exited(0));
    assert_eq!(class(&c), (Outcome::Transient, Some("rate_limit_model")));
    assert_eq!(c.transient.unwrap().reset_at, Some(NOW + 5 + 1));
    // Output after the error is not read into it.
    let (c, _) = run(
        OutputFormat::Text,
        &[
            "litellm.NotFoundError: NotFoundError: model gpt-9",
            "",
            "usage limit of the app",
        ],
        Ending::Exited(0),
    );
    assert_eq!(class(&c), (Outcome::Crash, Some("agent_error")));
}
