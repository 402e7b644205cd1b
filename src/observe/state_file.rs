//! The round's state file (`state.json`) as the read commands see it: the fields they show, read
//! leniently so that whatever version wrote the file, a missing or odd field is only unknown.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::config::Project;
use crate::time::iso_utc_s;

/// The round's last outcome, as the state file records it.
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct LastOutcome {
    /// The round number.
    pub round: Option<u64>,
    /// ok, crash, timeout, grace_kill, transient, auth_fail, config_broken, …
    pub outcome: Option<String>,
    /// The round's exit status.
    pub exit_code: Option<i64>,
    /// How long the round took.
    pub duration_ms: Option<u64>,
    /// The transient class or other detail of the outcome.
    pub classification: Option<String>,
    /// When it ended (ISO 8601 UTC).
    pub ended_at: Option<String>,
}

/// The fields of `state.json` (owned by the round) that the read commands show. Read leniently:
/// a missing or odd field is `None`, whatever version wrote the file.
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct StateView {
    /// The last round started.
    pub round: Option<u64>,
    /// Index of the phase of that round.
    pub phase_index: Option<u64>,
    /// Rounds since the loop was started.
    pub rounds_this_loop: Option<u64>,
    /// Consecutive short crashes (the crash-loop breaker's counter).
    pub consecutive_short_crashes: Option<u64>,
    /// Consecutive rounds without a check-in.
    pub consecutive_checkin_failures: Option<u64>,
    /// Back-off until this time (epoch seconds).
    pub throttle_until: Option<u64>,
    /// The transient class behind the back-off.
    pub throttle_class: Option<String>,
    /// The last round's outcome.
    pub last_outcome: Option<LastOutcome>,
    /// The last error, as a sentence.
    pub last_error: Option<String>,
    /// The round's verdict: continue, back_off or halt (with reason).
    pub verdict: Option<Value>,
}

impl StateView {
    /// Reads `state.json` from `dir`; `(None, raw)` never fails: an unreadable file is absent.
    pub(crate) fn load(dir: &Path) -> (Option<Self>, Option<Value>) {
        let Ok(text) = std::fs::read(dir.join("state.json")) else {
            return (None, None);
        };
        let Ok(raw) = serde_json::from_slice::<Value>(&text) else {
            return (None, None);
        };
        (Some(Self::from_value(&raw)), Some(raw))
    }

    pub(crate) fn from_value(v: &Value) -> Self {
        let u = |k: &str| v.get(k).and_then(Value::as_u64);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Self {
            round: u("round"),
            phase_index: u("phase_index"),
            rounds_this_loop: u("rounds_this_loop"),
            consecutive_short_crashes: u("consecutive_short_crashes"),
            consecutive_checkin_failures: u("consecutive_checkin_failures"),
            throttle_until: u("throttle_until"),
            throttle_class: s("throttle_class"),
            last_outcome: v
                .get("last_outcome")
                .filter(|o| o.is_object())
                .map(LastOutcome::from_value),
            last_error: s("last_error"),
            verdict: v.get("verdict").filter(|x| !x.is_null()).cloned(),
        }
    }

    /// The reason of the round's verdict when that verdict is to halt.
    pub(crate) fn verdict_halt_reason(&self) -> Option<String> {
        let verdict = self.verdict.as_ref()?;
        (verdict.get("action").and_then(Value::as_str) == Some("halt"))
            .then(|| {
                verdict
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .flatten()
    }
}

impl LastOutcome {
    fn from_value(o: &Value) -> Self {
        Self {
            round: o.get("round").and_then(Value::as_u64),
            outcome: o.get("outcome").and_then(Value::as_str).map(str::to_string),
            exit_code: o.get("exit_code").and_then(Value::as_i64),
            duration_ms: o.get("duration_ms").and_then(Value::as_u64),
            classification: o
                .get("classification")
                .and_then(Value::as_str)
                .map(str::to_string),
            ended_at: match o.get("ended_at") {
                Some(Value::Number(n)) => n.as_u64().map(iso_utc_s),
                Some(Value::String(t)) => Some(t.clone()),
                _ => None,
            },
        }
    }
}

/// The state directory of a project, where the round keeps it (`crate::round::state::dir`).
pub(crate) fn state_dir(project: &Project) -> PathBuf {
    crate::round::state::dir(project)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_state_files_degrade_to_unknown() {
        let v = serde_json::json!({"round": "seven", "last_outcome": {"duration_ms": -1, "ended_at": 1_795_341_600_u64}, "throttle_until": null});
        let s = StateView::from_value(&v);
        assert_eq!(s.round, None);
        let o = s.last_outcome.unwrap();
        assert_eq!(o.duration_ms, None);
        assert_eq!(o.ended_at.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert_eq!(s.throttle_until, None);
    }
}
