//! What a failed request of the agent was: a transient error of some class (with the reset time
//! the output gives, when it gives one), an authentication failure, or a failure agent-runner
//! cannot name. Read from the HTTP status when the agent reports one, else from the words of its
//! error message: codex and gemini print statuses only inside free text, sometimes not at all.

use std::sync::LazyLock;

use regex::Regex;

use super::reset;

/// Only this much of a text line is pattern-matched (errors are short; tool output is not).
pub(crate) const PATTERN_WINDOW: usize = 4096;
/// Excerpts kept for events.
const RAW_CAP: usize = 200;

/// The class of a transient error: it decides the default back-off and is the `classification`
/// of the round's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransientClass {
    /// A per-model or per-minute rate limit (HTTP 429).
    RateLimitModel,
    /// An account-wide limit: five-hour, daily or weekly quota, usage limit, no credit left.
    RateLimitAccount,
    /// A server error (500, 502, 503, 504, 529), also when the CLI hides the status.
    ApiTransient5xx,
    /// The request timed out (HTTP 408, or the CLI's own request timeout).
    ApiTimeout,
    /// The provider could not be reached.
    Network,
}

impl TransientClass {
    /// The snake_case name used in events and state.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TransientClass::RateLimitModel => "rate_limit_model",
            TransientClass::RateLimitAccount => "rate_limit_account",
            TransientClass::ApiTransient5xx => "api_transient_5xx",
            TransientClass::ApiTimeout => "api_timeout",
            TransientClass::Network => "network",
        }
    }

    /// How long to wait when the server gave no reset time.
    pub(crate) fn default_back_off_s(self) -> u64 {
        match self {
            TransientClass::RateLimitAccount => 1800,
            TransientClass::ApiTimeout | TransientClass::Network => 30,
            TransientClass::RateLimitModel | TransientClass::ApiTransient5xx => 60,
        }
    }

    /// The class of a failed request's HTTP status: 429 a model rate limit, 500/502/503/504/529
    /// a transient server error, 408 a request timeout; anything else is none.
    pub(crate) fn of_status(status: u16) -> Option<Self> {
        match status {
            429 => Some(TransientClass::RateLimitModel),
            500 | 502 | 503 | 504 | 529 => Some(TransientClass::ApiTransient5xx),
            408 => Some(TransientClass::ApiTimeout),
            _ => None,
        }
    }
}

/// A transient error as the output showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transient {
    /// Its class.
    pub class: TransientClass,
    /// The server-given reset time (epoch seconds), when present and plausible.
    pub reset_at: Option<u64>,
    /// A reset given as a wait ("retry after 30s"), counted from when the round ends.
    pub retry_after_s: Option<u64>,
    /// A short excerpt of what showed it.
    pub raw: String,
}

impl Transient {
    /// A transient error of `class` shown by `raw`, without a reset time.
    pub(crate) fn new(class: TransientClass, raw: &str) -> Self {
        Self {
            class,
            reset_at: None,
            retry_after_s: None,
            raw: excerpt(raw),
        }
    }

    /// The same error with `when` as its reset when it has none of its own and is a rate limit
    /// (the reset some CLIs print apart from the error).
    pub(crate) fn or_reset(&self, when: reset::When) -> Self {
        let limited = matches!(
            self.class,
            TransientClass::RateLimitModel | TransientClass::RateLimitAccount
        );
        if !limited || self.reset_at.is_some() || self.retry_after_s.is_some() {
            return self.clone();
        }
        Self {
            reset_at: when.at,
            retry_after_s: when.after_s,
            ..self.clone()
        }
    }

    /// The same error with its reset time fixed: a wait counts from `now`.
    pub(crate) fn resolved(&self, now: u64) -> Self {
        let reset_at = self.reset_at.or_else(|| {
            self.retry_after_s
                .and_then(|s| reset::plausible(now.saturating_add(s), now))
        });
        Self {
            reset_at,
            retry_after_s: None,
            ..self.clone()
        }
    }
}

/// What a failed request, or a retry of one, was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A transient error of this class.
    Transient(TransientClass),
    /// The credential was refused.
    Auth,
}

impl Cause {
    /// The snake_case name: the transient class, or `auth`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Cause::Transient(class) => class.as_str(),
            Cause::Auth => "auth",
        }
    }

    /// What `status` (when known) and the message `text` say: an account limit whatever the
    /// status, else the status, else the words (an authentication failure first, a status in
    /// the text, then the words of a class).
    pub(crate) fn of(status: Option<u16>, text: &str) -> Option<Self> {
        if is_account_limit(text) {
            return Some(Cause::Transient(TransientClass::RateLimitAccount));
        }
        if let Some(cause) = status.and_then(Cause::of_status) {
            return Some(cause);
        }
        let window = window(text);
        if AUTH.is_match(window) {
            return Some(Cause::Auth);
        }
        if status.is_none()
            && let Some(cause) = status_in_text(window).and_then(Cause::of_status)
        {
            return Some(cause);
        }
        class_in_words(window).map(Cause::Transient)
    }

    /// What an HTTP status says: 401 and 403 a refused credential, else its transient class.
    fn of_status(status: u16) -> Option<Self> {
        match status {
            401 | 403 => Some(Cause::Auth),
            s => TransientClass::of_status(s).map(Cause::Transient),
        }
    }
}

/// The agent's report that its work failed, as far as it can be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A transient error.
    Transient(Transient),
    /// An authentication failure; the excerpt that showed it.
    Auth(String),
    /// A failure of no known class.
    Unexplained {
        /// The excerpt that showed it.
        raw: String,
        /// The agent's exit status is the failed request's HTTP status modulo 256 (gemini).
        status_from_exit: bool,
    },
}

impl Failure {
    /// A failed request whose HTTP status is `status` (when the agent said it) and whose message
    /// is `text`. `now` (epoch seconds) bounds the reset times the text may give.
    pub(crate) fn of(status: Option<u16>, text: &str, now: u64) -> Self {
        match Cause::of(status, text) {
            Some(Cause::Auth) => Failure::Auth(excerpt(text)),
            Some(Cause::Transient(class)) => {
                let mut t = Transient::new(class, text);
                if matches!(
                    class,
                    TransientClass::RateLimitAccount | TransientClass::RateLimitModel
                ) {
                    let when = reset::in_text(window(text), now);
                    t.reset_at = when.at;
                    t.retry_after_s = when.after_s;
                }
                Failure::Transient(t)
            }
            None => Failure::Unexplained {
                raw: excerpt(text),
                status_from_exit: false,
            },
        }
    }

    /// For an agent whose exit status is the HTTP status modulo 256: the failure, named by that
    /// status when the output did not name it. A gemini that got a 429 exits 173, and so on;
    /// only 144..=255 stand for a status (400..=511), lower codes are its own.
    pub(crate) fn explained(&self, exit_code: Option<i32>, now: u64) -> Self {
        match (self, exit_code) {
            (
                Failure::Unexplained {
                    raw,
                    status_from_exit: true,
                },
                Some(code @ 144..=255),
            ) => {
                let status = u16::try_from(code + 256).ok();
                match Failure::of(status, raw, now) {
                    Failure::Unexplained { raw, .. } => Failure::Unexplained {
                        raw,
                        status_from_exit: true,
                    },
                    named => named,
                }
            }
            _ => self.clone(),
        }
    }
}

/// Whether a message speaks of an account-wide limit: a usage limit, a five-hour or weekly
/// limit, a daily or exhausted quota, no quota or credit left. "You exceeded your current quota"
/// is OpenAI's account quota, and Google's word for a per-minute limit, which its message then
/// measures ("Quota exceeded for metric …, Please retry in 1s").
pub(crate) fn is_account_limit(text: &str) -> bool {
    let text = window(text);
    ACCOUNT.is_match(text) || (OPENAI_QUOTA.is_match(text) && !GOOGLE_QUOTA.is_match(text))
}

/// Whether a line looks like an authentication failure.
pub(crate) fn looks_like_auth(text: &str) -> bool {
    AUTH.is_match(window(text))
}

/// Whether a line looks like a network failure.
pub(crate) fn looks_like_network(text: &str) -> bool {
    NETWORK.is_match(window(text))
}

/// The transient class the words of a message name when no status does. A timeout names the
/// class whatever else the message says (codex's "stream disconnected before completion: idle
/// timeout waiting for SSE"). A connection lost in the middle of an answer is the server's doing
/// (claude's "Connection to the API was lost (ECONNRESET)", gemini's "terminated" when a stream is
/// cut), one refused or not resolved is the network's. A quota exceeded that is no account limit
/// (see [`is_account_limit`]) is a rate limit.
fn class_in_words(text: &str) -> Option<TransientClass> {
    if TIMEOUT_WORDS.is_match(text) {
        return Some(TransientClass::ApiTimeout);
    }
    let caps = WORDS.captures(text)?;
    let class = if caps.name("server").is_some() {
        TransientClass::ApiTransient5xx
    } else if caps.name("rate").is_some() {
        TransientClass::RateLimitModel
    } else {
        TransientClass::Network
    };
    Some(class)
}

/// A status code in an error message: claude's "API Error: 529 …" and "API Error: Request
/// rejected (429)", "unexpected status 503", "last status: 429", "Error code: 429",
/// "503 Service Unavailable", Google's "Status: RESOURCE_EXHAUSTED" and litellm's exception names.
pub(crate) fn status_in_text(text: &str) -> Option<u16> {
    let caps = STATUS.captures(window(text))?;
    if let Some(n) = ["n", "m", "n2", "n3"].iter().find_map(|g| caps.name(g)) {
        return n.as_str().parse().ok();
    }
    let word = ["word", "word2"]
        .iter()
        .find_map(|g| caps.name(g))?
        .as_str();
    Some(match word {
        "RESOURCE_EXHAUSTED" | "RateLimitError" => 429,
        "UNAVAILABLE" | "ServiceUnavailableError" => 503,
        "INTERNAL" | "InternalServerError" => 500,
        "DEADLINE_EXCEEDED" => 504,
        "Timeout" => 408,
        "UNAUTHENTICATED" | "AuthenticationError" => 401,
        "PERMISSION_DENIED" | "PermissionDeniedError" => 403,
        _ => return None,
    })
}

/// The first [`PATTERN_WINDOW`] bytes of `text`, cut at a character boundary.
pub(crate) fn window(text: &str) -> &str {
    if text.len() <= PATTERN_WINDOW {
        return text;
    }
    let mut i = PATTERN_WINDOW;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    &text[..i]
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

static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)usage[ _]limit|hit your [0-9a-z-]{1,12} limit",
        r"|insufficient_quota|quota exceeded\. check your plan",
        r"|exhausted your daily quota|requests per day|perday|credit balance is too low",
    ))
    .expect("account pattern is valid")
});

static OPENAI_QUOTA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)exceeded your\s+current\s+quota").expect("quota pattern is valid")
});

static GOOGLE_QUOTA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)quota exceeded for metric|generativelanguage\.googleapis|ai\.google\.dev|please retry in")
        .expect("google quota pattern is valid")
});

static AUTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:status|error|code|http|api error)[^0-9a-z]{0,3}401\b",
        r"|\b401\b[^\n]{0,40}(?:unauthori[sz]ed|authentic|api.?key|token)",
        r"|\bunauthori[sz]ed\b|\bunauthenticated\b",
        r"|invalid[ _-](?:api[ _-]?key|x-api-key|bearer token|token|credentials)",
        r"|invalid_api_key|authentication_error|authentication_failed|authentication failed",
        r"|authenticationerror|api key not valid|api_key_invalid",
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
        r"|apiconnectionerror|error sending request",
    ))
    .expect("network pattern is valid")
});

static WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?P<server>high demand|overloaded|stream disconnected|internal server error",
        r"|service unavailable|bad gateway|server error|empty response|stream error",
        r"|connection to the api was lost|econnreset|connection reset|socket hang up",
        r"|api error: terminated|other side closed)",
        r"|(?P<rate>rate[ _-]?limit|too many requests|exceeded your\s+current\s+quota",
        r"|quota exceeded for metric)",
        r"|(?P<network>econnrefused|enotfound|eai_again|connection refused",
        r"|apiconnectionerror|error sending request|fetch failed)",
    ))
    .expect("words pattern is valid")
});

static TIMEOUT_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)timed out|idle timeout|api_timeout_ms|request timeout")
        .expect("timeout pattern is valid")
});

static STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"API Error: (?:(?P<n>[1-5][0-9]{2})\b|[^(\n]{0,80}\((?P<m>[1-5][0-9]{2})\))",
        r"|(?i:\b(?:status(?: code)?|error code|http)[: ]{0,2}(?P<n2>[1-5][0-9]{2})\b)",
        r"|\b(?P<n3>[1-5][0-9]{2}) (?i:too many requests|service unavailable|bad gateway|gateway timeout",
        r"|internal server error|request timeout|unauthorized|forbidden|overloaded)",
        r#"|(?:Status: |"status": ?")(?P<word>RESOURCE_EXHAUSTED|UNAVAILABLE|INTERNAL|DEADLINE_EXCEEDED"#,
        r"|UNAUTHENTICATED|PERMISSION_DENIED)",
        r"|litellm\.(?P<word2>RateLimitError|ServiceUnavailableError|InternalServerError|Timeout",
        r"|AuthenticationError|PermissionDeniedError)",
    ))
    .expect("status pattern is valid")
});
