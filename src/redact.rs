//! Secret redaction for everything agent-runner writes about a round (events, summaries, log
//! tails): API keys, bearer tokens, Authorization headers, and the exact values of the project's
//! credentials once they have been read.
//!
//! Agent output is untrusted and may echo a key back; events leave the host (journal forwarding),
//! so every string that reaches an event goes through [`redact`].

use std::borrow::Cow;
use std::sync::{LazyLock, Mutex};

use regex::Regex;

/// What a secret is replaced with.
pub(crate) const MASK: &str = "[REDACTED]";

/// Credential values shorter than this are not registered: masking "1" everywhere would destroy
/// every message while protecting nothing.
const MIN_SECRET_LEN: usize = 6;

/// Known secret shapes. Each pattern's whole match is masked, except a `keep` group (the header or
/// key name) that stays readable so the operator sees *what* was hidden.
static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // Header or key = value forms: keep the name, hide the value.
        r#"(?i)(?P<keep>\b[A-Za-z0-9_-]*?(?:authorization|proxy-authorization|x-api-key|api[_-]?key|access[_-]?token|refresh[_-]?token|auth[_-]?token|client[_-]?secret|secret|password|passwd)\b["']?\s*[:=]\s*["']?(?:bearer\s+|basic\s+|token\s+)?)[^\s"',;&]{4,}"#,
        r"(?i)(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}",
        // Vendor key prefixes (OpenAI/Anthropic sk-, Google AIza, GitHub, Slack, AWS, JWTs).
        r"\bsk-[A-Za-z0-9_-]{10,}",
        r"\bAIza[0-9A-Za-z_-]{30,}",
        r"\bgh[pousr]_[A-Za-z0-9]{20,}",
        r"\bgithub_pat_[A-Za-z0-9_]{20,}",
        r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
        r"\bAKIA[0-9A-Z]{16}\b",
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("redaction patterns are valid"))
    .collect()
});

/// Exact secret values registered at run time (the project's credentials).
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Registers a secret value so that it is masked wherever it appears from now on. Values shorter
/// than a few characters are ignored (they would mask ordinary words).
pub(crate) fn register_secret(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Substrings (lowercase) without which no pattern can match: checking them first keeps the
/// regexes from even being compiled in a round whose events hold nothing secret-looking.
const TRIGGERS: &[&str] = &[
    "sk-", "bearer", "authoriz", "key", "token", "secret", "passw", "aiza", "gh", "xox", "akia",
    "eyj",
];

fn may_match(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    TRIGGERS.iter().any(|t| lower.contains(t))
}

/// `text` with every known secret masked.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    {
        let secrets = SECRETS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
    }
    if !may_match(&out) {
        return out;
    }
    for re in PATTERNS.iter() {
        if re.is_match(&out) {
            let replaced = re
                .replace_all(&out, |caps: &regex::Captures<'_>| {
                    format!("{}{MASK}", caps.name("keep").map_or("", |m| m.as_str()))
                })
                .into_owned();
            out = Cow::Owned(replaced);
        }
    }
    out
}

/// Redacts every string inside a JSON value, in place.
pub(crate) fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_vendor_keys_and_headers() {
        let cases = [
            (
                "key sk-ant-api03-abcdefghijklmnop end",
                "key [REDACTED] end",
            ),
            (
                "Authorization: Bearer abc.def.ghijklmnop",
                "Authorization: Bearer [REDACTED]",
            ),
            (
                "curl -H 'x-api-key: 12345678abc'",
                "curl -H 'x-api-key: [REDACTED]'",
            ),
            (
                "ANTHROPIC_API_KEY=supersecretvalue",
                "ANTHROPIC_API_KEY=[REDACTED]",
            ),
            (
                "{\"api_key\": \"hunter2hunter2\"}",
                "{\"api_key\": \"[REDACTED]\"}",
            ),
            (
                "token ghp_abcdefghijklmnopqrstuvwxyz0123",
                "token [REDACTED]",
            ),
            ("AKIAABCDEFGHIJKLMNOP", "[REDACTED]"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "input: {input}");
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "round 7 ended: ok in 12.3s",
            "API Error: 429 rate limited",
            "the task-list is done",
            "authorization failed for user",
        ] {
            assert!(matches!(redact(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn masks_registered_values_but_not_short_ones() {
        register_secret("my-very-own-secret-42\n");
        register_secret("abc");
        assert_eq!(
            redact("leaked my-very-own-secret-42 here, abc stays"),
            "leaked [REDACTED] here, abc stays"
        );
    }

    #[test]
    fn redacts_nested_json() {
        let mut v = serde_json::json!({"a": ["Bearer abcdefghijkl"], "b": {"c": "sk-1234567890abcdef"}, "n": 3});
        redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["Bearer [REDACTED]"], "b": {"c": "[REDACTED]"}, "n": 3})
        );
    }
}
