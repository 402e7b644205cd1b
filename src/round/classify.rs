//! How a round ended, in one word: the supervisor's [`Ending`] and the output's [`Findings`]
//! become an [`Outcome`] (ok, crash, transient…) with its detail.

use serde::{Deserialize, Serialize};

use super::failure::{Cause, Failure, Transient, TransientClass};
use super::findings::Findings;

/// How a round ended: what the agent's run came to, plus the two ways a round can end without a
/// judgement on the agent (it never checked in, or the runner was told to stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The agent exited 0.
    Ok,
    /// The agent failed (non-zero exit or killed by a signal it did not ask for).
    Crash,
    /// The hard round timeout (or the runner's own watchdog) ended it.
    Timeout,
    /// It finished its work (terminal marker) but lingered and was stopped.
    GraceKill,
    /// A rate limit, server error, request timeout or network failure.
    Transient,
    /// An authentication failure (401, invalid key, expired OAuth token).
    AuthFail,
    /// The configuration or startup battery failed; never retried.
    ConfigBroken,
    /// No output and no check-in within checkin_timeout_s.
    NoCheckin,
    /// The runner got SIGTERM/SIGINT and stopped the agent.
    Stopped,
    /// systemd ended the round with the result oom-kill: the kernel killed a process of the round
    /// for memory. The runner never decides this; the after-round step reclassifies the round.
    Oom,
}

impl Outcome {
    /// The snake_case name used in events and state.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Crash => "crash",
            Outcome::Timeout => "timeout",
            Outcome::GraceKill => "grace_kill",
            Outcome::Transient => "transient",
            Outcome::AuthFail => "auth_fail",
            Outcome::ConfigBroken => "config_broken",
            Outcome::NoCheckin => "no_checkin",
            Outcome::Stopped => "stopped",
            Outcome::Oom => "oom",
        }
    }

    /// The round's exit status: 0 ok, 75 transient, 78 config, 1 failure, 124 timeout.
    pub(crate) fn exit_code(self) -> u8 {
        use crate::error::exit;
        match self {
            Outcome::Ok | Outcome::GraceKill | Outcome::Stopped => exit::OK,
            Outcome::Transient => exit::TEMPFAIL,
            Outcome::ConfigBroken => exit::CONFIG,
            Outcome::Timeout => exit::TIMEOUT,
            Outcome::Crash | Outcome::AuthFail | Outcome::NoCheckin | Outcome::Oom => exit::FAILURE,
        }
    }
}

/// How the agent's run ended, as the supervisor saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The agent exited with this code.
    Exited(i32),
    /// The agent died of this signal without being asked to.
    Signaled(i32),
    /// The hard timeout (or the runner's watchdog) killed it.
    Timeout,
    /// It lingered after its terminal marker and was killed.
    GraceKill,
    /// It never checked in.
    NoCheckin,
    /// The runner was told to stop.
    Interrupted,
}

impl Ending {
    /// Whether the agent failed on its own: a non-zero exit, or a signal the runner did not send.
    pub(crate) fn failed(self) -> bool {
        matches!(self, Ending::Exited(c) if c != 0) || matches!(self, Ending::Signaled(_))
    }
}

/// How a round ended, classified: the outcome plus its detail (transient class, auth/network
/// excerpt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Classified {
    /// The outcome.
    pub outcome: Outcome,
    /// Class or detail.
    pub classification: Option<String>,
    /// For transient outcomes.
    pub transient: Option<Transient>,
    /// For auth, network and unexplained failures: the output that showed it.
    pub evidence: Option<String>,
    /// Failed requests the agent CLI retried during the round.
    pub agent_retries: u64,
}

/// Classifies a round from how it ended and what its output said; `now` (epoch seconds) is when
/// it ended, from which a reset given as a wait counts.
///
/// The agent's own report outranks its exit status, which is evidence, not truth: gemini exits
/// with the HTTP status modulo 256, aider exits 0 after giving up. In order: no check-in and stop;
/// an account limit; the agent's last report of a failure; the runner's timeout and grace kill;
/// exit 0; and for a failed run, what its last lines and an unfinished burst of retries say.
pub(crate) fn classify(ending: Ending, f: &Findings, now: u64) -> Classified {
    let classified = classify_ending(ending, f, now);
    Classified {
        agent_retries: f.retries.count,
        ..classified
    }
}

fn classify_ending(ending: Ending, f: &Findings, now: u64) -> Classified {
    match ending {
        Ending::NoCheckin => return Classified::plain(Outcome::NoCheckin, Some("checkin_failed")),
        Ending::Interrupted => return Classified::plain(Outcome::Stopped, Some("signal")),
        _ => {}
    }
    if let Some(t) = &f.account_limit {
        return Classified::transient(t.resolved(now));
    }
    let exit_code = match ending {
        Ending::Exited(code) => Some(code),
        _ => None,
    };
    let failure = f.failure.as_ref().map(|x| x.explained(exit_code, now));
    match &failure {
        Some(Failure::Transient(t)) => {
            return Classified::transient(t.or_reset(f.tail_reset).resolved(now));
        }
        Some(Failure::Auth(raw)) => return Classified::auth(raw),
        _ => {}
    }
    let unexplained = match failure {
        Some(Failure::Unexplained { raw, .. }) => Some(raw),
        _ => None,
    };
    let failed = match ending {
        Ending::Timeout => return Classified::plain(Outcome::Timeout, None),
        Ending::GraceKill => return Classified::plain(Outcome::GraceKill, None),
        Ending::Exited(0) => {
            return match unexplained {
                // It said its work failed, whatever its exit status says.
                Some(raw) => Classified::crash("agent_error".into(), Some(raw)),
                None => Classified::plain(Outcome::Ok, None),
            };
        }
        Ending::Exited(code) => format!("exit_{code}"),
        Ending::Signaled(sig) => format!("signal_{sig}"),
        Ending::NoCheckin | Ending::Interrupted => unreachable!("handled above"),
    };
    // A failed run: what its last lines and an unfinished burst of retries say, else a crash.
    if let Some(raw) = &f.auth_text {
        return Classified::auth(raw);
    }
    if let Some(retry) = f.retries.unresolved() {
        match retry.cause {
            Some(Cause::Auth) => return Classified::auth(&retry.raw),
            Some(Cause::Transient(class)) => {
                return Classified::transient(Transient::new(class, &retry.raw));
            }
            None => {}
        }
    }
    if let Some(raw) = &f.network_text {
        return Classified::transient(Transient::new(TransientClass::Network, raw));
    }
    Classified::crash(failed, unexplained)
}

impl Classified {
    fn plain(outcome: Outcome, classification: Option<&str>) -> Self {
        Self {
            outcome,
            classification: classification.map(str::to_string),
            transient: None,
            evidence: None,
            agent_retries: 0,
        }
    }

    fn crash(classification: String, evidence: Option<String>) -> Self {
        Self {
            outcome: Outcome::Crash,
            classification: Some(classification),
            transient: None,
            evidence,
            agent_retries: 0,
        }
    }

    fn transient(t: Transient) -> Self {
        Self {
            outcome: Outcome::Transient,
            classification: Some(t.class.as_str().into()),
            evidence: Some(t.raw.clone()),
            transient: Some(t),
            agent_retries: 0,
        }
    }

    fn auth(raw: &str) -> Self {
        Self {
            outcome: Outcome::AuthFail,
            classification: Some("auth".into()),
            transient: None,
            evidence: Some(raw.to_string()),
            agent_retries: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_map_to_outcomes() {
        let f = Findings::default();
        let classify = |e| classify(e, &f, 0);
        assert_eq!(classify(Ending::Timeout).outcome, Outcome::Timeout);
        assert_eq!(classify(Ending::GraceKill).outcome, Outcome::GraceKill);
        assert_eq!(classify(Ending::NoCheckin).outcome, Outcome::NoCheckin);
        assert_eq!(classify(Ending::Interrupted).outcome, Outcome::Stopped);
        assert_eq!(classify(Ending::Signaled(9)).outcome, Outcome::Crash);
        assert_eq!(
            classify(Ending::Exited(3)).classification.as_deref(),
            Some("exit_3")
        );
    }
}
