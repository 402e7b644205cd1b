//! What each event kind carries: one struct per kind, named like the kind, and [`Event`], the
//! kind together with its payload. The field names are the JSON keys of the mirror and, upper-cased
//! behind `AGENT_RUNNER_`, the journal's fields: they are an interface and never change.
//!
//! Reading back is lenient ([`super::read`]): a field an older version did not write takes its
//! default, so a payload parses whatever version logged it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Kind;
pub(crate) use super::alert::{AlertCleared, AlertRaised};
pub(crate) use super::hooks::HookFailed;
pub(crate) use super::notified::{NotifyFailed, NotifySent};
pub(crate) use super::oom::{MemLoop, RoundOom};
pub(crate) use super::schedule::{SchedulePaused, ScheduleResumed};
pub(crate) use super::spend::{
    AccountThrottled, BudgetExhausted, BudgetWindowReset, CostSpike, LedgerRebuilt, RoundSummary,
};

/// `round_start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundStart {
    /// The round's hard timeout.
    pub timeout_s: u64,
    /// Size of the assembled prompt.
    pub prompt_bytes: usize,
    /// stdin, argv or file.
    pub prompt_delivery: String,
    /// The project's TOML.
    pub config: String,
    /// The round whose runner died without finishing it, if one did.
    pub previous_round_unfinished: Option<u64>,
}

/// `agent_spawn`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentSpawn {
    /// The agent's pid (and process group).
    pub pid: i32,
    /// The round's hard timeout.
    pub timeout_s: u64,
    /// The agent's program, as configured.
    pub command: String,
    /// The round log.
    pub log: String,
    /// From the runner's start to the agent's spawn.
    pub spawn_latency_us: u64,
}

/// `agent_checkin`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentCheckin {
    /// How: its first output, or `agent-runner checkin`.
    pub via: String,
    /// Since the spawn.
    pub after_ms: u64,
}

/// `checkin_failed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct CheckinFailed {
    /// The limit that passed.
    pub checkin_timeout_s: u64,
}

/// `agent_exit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentExit {
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Spawn to exit.
    pub duration_ms: u64,
    /// clean, error, signal, timeout, watchdog, grace_kill, checkin_failed or interrupted.
    pub exit_cause: String,
    /// Output bytes.
    pub output_bytes: u64,
    /// Whether it checked in.
    pub checked_in: bool,
    /// A problem writing the round log, if any.
    pub log_error: Option<String>,
    /// Round processes still alive at the end.
    pub survivors: usize,
}

/// `round_end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundEnd {
    /// ok, crash, timeout, grace_kill, transient, auth_fail, config_broken, no_checkin, stopped.
    pub outcome: String,
    /// The class or detail of the outcome.
    pub classification: Option<String>,
    /// The round's own exit status.
    pub exit_code: u8,
    /// The agent's exit code, when it exited.
    pub agent_exit_code: Option<i32>,
    /// The signal that ended the agent, when one did.
    pub agent_signal: Option<i32>,
    /// Spawn to exit.
    pub duration_ms: u64,
    /// Output bytes.
    pub output_bytes: u64,
    /// continue, back_off or halt.
    pub verdict: String,
    /// The not-before time of a back-off (epoch seconds).
    pub until: Option<u64>,
    /// The round log.
    pub log: String,
    /// The runner's own peak memory, when /proc tells.
    pub runner_peak_rss_kb: Option<u64>,
    /// From the agent's exit to this event.
    pub exit_latency_us: u64,
    /// Whether the round log holds all of the output: false when a write failed (a full disk).
    pub log_complete: LogComplete,
    /// Failed requests the agent CLI said it retried during the round (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_retries: Option<u64>,
    /// Tokens the round used (absent: none reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// What the round cost in USD (absent: unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Where the cost came from: agent (the CLI printed it) or price_table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_source: Option<String>,
}

/// Whether a round log holds all of the agent's output. A record written before rounds said so
/// reads back as complete (the default): nothing in it says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct LogComplete(pub bool);

impl Default for LogComplete {
    fn default() -> Self {
        Self(true)
    }
}

/// `round_timeout_kill`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundTimeoutKill {
    /// The limit that was hit: round_timeout_s or watchdog_s.
    pub reason: String,
    /// Its value.
    pub limit_s: u64,
    /// For watchdog_s only (absent otherwise): the service's own watchdog, null when it has none.
    #[allow(
        clippy::option_option,
        reason = "absent, null and a value are three different facts"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_watchdog_ms: Option<Option<u64>>,
}

/// `round_grace_kill`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundGraceKill {
    /// max_grace_after_result_s.
    pub grace_s: u64,
}

/// A process named in an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Process {
    /// Its pid.
    pub pid: i32,
    /// Its command name.
    pub name: String,
    /// Its command line (at most 200 characters).
    pub cmdline: String,
}

/// `round_grace_extended`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundGraceExtended {
    /// Since the result was seen.
    pub grace_s: u64,
    /// The workers still running.
    pub live_children: Vec<Process>,
    /// Processes grace_kill_ignore_patterns left out.
    pub ignored_children: Vec<Process>,
}

/// `round_interrupted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundInterrupted {
    /// The signal the runner received.
    pub signal: String,
    /// The cooperative signal sent to the agent first.
    pub stop_signal: String,
}

/// `transient_error_detected`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct TransientErrorDetected {
    /// The class of the error.
    pub classification: String,
    /// The server-given reset time (epoch seconds).
    pub reset_at: Option<u64>,
    /// The class's back-off when the server gave no reset time.
    pub default_back_off_s: Option<u64>,
    /// The output that showed it.
    pub raw: Option<String>,
}

/// `transient_error_recovered`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct TransientErrorRecovered {
    /// The class of the error that caused the back-off.
    pub classification: String,
    /// How long the loop was throttled.
    pub throttled_for_s: u64,
}

/// `transient_error_stop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct TransientErrorStop {
    /// The class of the error.
    pub classification: Option<String>,
}

/// `agent_retrying`: the start of a burst of retries the agent CLI makes by itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentRetrying {
    /// Which burst of this round (1 for the first).
    pub burst: u32,
    /// The failed request's HTTP status, when the agent said it.
    pub status: Option<u16>,
    /// What that failure stands for: a transient class or `auth`, when known.
    pub classification: Option<String>,
    /// The agent's attempt number, when it counts them.
    pub attempt: Option<u64>,
    /// The most attempts it makes, when it says.
    pub max_retries: Option<u64>,
    /// Its wait before the next attempt, when it says.
    pub retry_delay_ms: Option<u64>,
    /// The output that showed it.
    pub raw: Option<String>,
}

/// `agent_usage_recorded`: only what the agent reported (a field it left out is absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentUsageRecorded {
    /// Input tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Tokens read from the prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    /// Tokens written to the prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<u64>,
    /// Output tokens spent on reasoning (part of the output tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Total tokens, when the agent reports only that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    /// Cost in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The agent's own duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_duration_ms: Option<u64>,
    /// Turns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_turns: Option<u64>,
    /// Whether the agent reported an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// The model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// `agent_auth_error_detected`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentAuthErrorDetected {
    /// The output that showed it.
    pub raw: Option<String>,
}

/// `agent_network_error_detected`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentNetworkErrorDetected {
    /// The output that showed it.
    pub raw: Option<String>,
}

/// `dirty_detected`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DirtyDetected {
    /// The first 20 files.
    pub files: Vec<String>,
    /// How many files.
    pub count: usize,
    /// stash or commit.
    pub action: String,
}

/// `dirty_stashed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DirtyStashed {
    /// The stash commit.
    pub sha: String,
    /// How many files.
    pub count: usize,
}

/// `dirty_committed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DirtyCommitted {
    /// The commit.
    pub sha: String,
    /// How many files.
    pub count: usize,
}

/// `dirty_action_failed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DirtyActionFailed {
    /// status, stash or commit.
    pub step: String,
    /// What git said.
    pub reason: String,
}

/// `crash_loop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct CrashLoop {
    /// Short crashes in a row.
    pub consecutive: u32,
    /// The last crash's class.
    pub classification: Option<String>,
    /// The redacted tail of the last round's log.
    pub reason: String,
}

/// `auth_failed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AuthFailed {
    /// Rounds in a row that failed to authenticate.
    pub consecutive: u32,
    /// What to renew or which login to run, for this agent.
    pub hint: String,
    /// The output that showed the last failure.
    pub raw: Option<String>,
}

/// `project_offline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ProjectOffline {
    /// Rounds in a row without a check-in.
    pub consecutive: u32,
    /// The check-in limit.
    pub checkin_timeout_s: u64,
}

/// `config_broken`: what is known where it was found (a field not known there is absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ConfigBroken {
    /// What is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The check that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// The project's TOML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
}

/// `max_rounds_reached`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct MaxRoundsReached {
    /// Rounds of this loop.
    pub rounds_completed: u64,
    /// The limit.
    pub max_rounds: Option<u64>,
}

/// `stop_file_detected`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct StopFileDetected {
    /// The stop file.
    pub path: PathBuf,
}

/// `agent_self_terminated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AgentSelfTerminated {
    /// The content of `.agent-done` (at most 200 characters).
    pub reason: String,
}

/// `loop_started`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LoopStarted {
    /// The loop's limit of rounds.
    pub max_rounds: Option<u64>,
}

/// `loop_stopped`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LoopStopped {}

/// `loop_halted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LoopHalted {
    /// The halt reason: stop_file, agent_done, max_rounds, crash_loop, offline, …
    pub reason: String,
}

/// `round_skipped`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundSkipped {
    /// stop_file or .agent-done.
    pub trigger: String,
    /// The trigger's file.
    pub file: String,
}

/// `round_orphans_killed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundOrphansKilled {
    /// The processes killed (at most 20).
    pub processes: Vec<Process>,
}

/// `state_recovered`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct StateRecovered {
    /// What was wrong with the state file.
    pub problem: String,
    /// The round counter as recovered: the last round found (the next round is one more).
    pub recovered_round: u64,
    /// Where it was found: round_logs, events_mirror or nothing (no trace of an earlier round).
    pub source: String,
}

pub(crate) use super::brakes::{
    GoalCheckResult, GoalReached, RepeatingDiff, RoundProgress, StalledNoProgress,
};

/// Declares [`Event`] over the kinds: the variant, its payload struct and the [`Kind`] share one
/// name, so that a kind without a payload, or a payload under another kind, does not compile.
macro_rules! events {
    ($($kind:ident),* $(,)?) => {
        /// One event: its kind (the variant) and the payload of that kind.
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) enum Event {
            $(
                #[doc = concat!("A `", stringify!($kind), "` event.")]
                $kind($kind),
            )*
        }

        impl Event {
            /// The kind.
            pub(crate) fn kind(&self) -> Kind {
                match self {
                    $( Event::$kind(_) => Kind::$kind, )*
                }
            }

            /// The payload as a JSON value.
            pub(crate) fn payload(&self) -> serde_json::Result<Value> {
                match self {
                    $( Event::$kind(payload) => serde_json::to_value(payload), )*
                }
            }

            /// The event of `kind` with the payload `fields` (extra fields are ignored, missing ones
            /// take their default).
            pub(crate) fn from_payload(kind: Kind, fields: Value) -> serde_json::Result<Self> {
                Ok(match kind {
                    $( Kind::$kind => Event::$kind(serde_json::from_value(fields)?), )*
                })
            }
        }

        $(
            impl From<$kind> for Event {
                fn from(payload: $kind) -> Self {
                    Event::$kind(payload)
                }
            }
        )*
    };
}

events! {
    RoundStart,
    AgentSpawn,
    AgentCheckin,
    CheckinFailed,
    AgentExit,
    RoundEnd,
    RoundTimeoutKill,
    RoundGraceKill,
    RoundGraceExtended,
    RoundInterrupted,
    TransientErrorDetected,
    TransientErrorRecovered,
    TransientErrorStop,
    AgentRetrying,
    AgentUsageRecorded,
    AgentAuthErrorDetected,
    AgentNetworkErrorDetected,
    DirtyDetected,
    DirtyStashed,
    DirtyCommitted,
    DirtyActionFailed,
    CrashLoop,
    AuthFailed,
    ProjectOffline,
    ConfigBroken,
    MaxRoundsReached,
    StopFileDetected,
    AgentSelfTerminated,
    LoopStarted,
    LoopStopped,
    LoopHalted,
    RoundSkipped,
    RoundOrphansKilled,
    StateRecovered,
    BudgetExhausted,
    BudgetWindowReset,
    CostSpike,
    LedgerRebuilt,
    AccountThrottled,
    RoundSummary,
    AlertRaised,
    AlertCleared,
    RoundProgress,
    GoalCheckResult,
    StalledNoProgress,
    RepeatingDiff,
    GoalReached,
    NotifySent,
    NotifyFailed,
    SchedulePaused,
    ScheduleResumed,
    RoundOom,
    MemLoop,
    HookFailed,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(event: impl Into<Event>) -> Value {
        event.into().payload().unwrap()
    }

    #[test]
    fn every_kind_has_its_payload() {
        for &kind in Kind::ALL {
            let event = Event::from_payload(kind, json!({})).unwrap();
            assert_eq!(event.kind(), kind);
            assert!(event.payload().unwrap().is_object(), "{kind:?}");
        }
    }

    #[test]
    fn payloads_keep_the_fields_events_always_had() {
        assert_eq!(
            fields(RoundTimeoutKill {
                reason: "round_timeout_s".into(),
                limit_s: 5,
                service_watchdog_ms: None,
            }),
            json!({"reason": "round_timeout_s", "limit_s": 5})
        );
        assert_eq!(
            fields(RoundTimeoutKill {
                reason: "watchdog_s".into(),
                limit_s: 5,
                service_watchdog_ms: Some(None),
            }),
            json!({"reason": "watchdog_s", "limit_s": 5, "service_watchdog_ms": null})
        );
        assert_eq!(
            fields(ConfigBroken {
                reason: Some("bad".into()),
                check: Some("config_valid".into()),
                config: None,
            }),
            json!({"reason": "bad", "check": "config_valid"})
        );
        assert_eq!(fields(ConfigBroken::default()), json!({}));
        assert_eq!(
            fields(AgentUsageRecorded {
                input_tokens: Some(3),
                model: Some("m".into()),
                ..AgentUsageRecorded::default()
            }),
            json!({"input_tokens": 3, "model": "m"})
        );
        assert_eq!(
            fields(RoundOrphansKilled {
                processes: vec![Process {
                    pid: 7,
                    name: "sleep".into(),
                    cmdline: "sleep 60".into(),
                }],
            }),
            json!({"processes": [{"pid": 7, "name": "sleep", "cmdline": "sleep 60"}]})
        );
        assert_eq!(
            fields(StopFileDetected {
                path: PathBuf::from("/srv/p/STOP"),
            }),
            json!({"path": "/srv/p/STOP"})
        );
        assert_eq!(
            fields(TransientErrorStop {
                classification: None,
            }),
            json!({"classification": null})
        );
        assert_eq!(
            fields(AgentNetworkErrorDetected { raw: None }),
            json!({"raw": null})
        );
        assert_eq!(
            fields(DirtyActionFailed {
                step: "stash".into(),
                reason: "locked".into(),
            }),
            json!({"step": "stash", "reason": "locked"})
        );
        assert_eq!(fields(LoopStopped {}), json!({}));
    }
}
