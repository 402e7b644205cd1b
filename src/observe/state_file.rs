//! The round's state file (`state.json`) as the read commands see it: the fields they show, read
//! leniently so that whatever version wrote the file, a missing or odd field is only unknown.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::config::{Project, escaped};
use crate::error::Unseen;
use crate::fsutil::{self, Dir, STATE_MAX_BYTES};
use crate::round::state::STATE_FILE;
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
    /// Whether the round's whole output reached its log (false: a full disk, an I/O error).
    pub log_complete: Option<bool>,
    /// Why the round log is incomplete.
    pub log_error: Option<String>,
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

/// The state file as a read command found it.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// There is none: no round has run yet.
    Absent,
    /// Its fields, and the file as it is on disk.
    Read(Box<StateView>, Value),
    /// It is there but could not be read or understood.
    Unseen(Unseen),
}

impl StateView {
    /// Reads `state.json` from `dir`. The agent can write there: the file is read with no link
    /// followed, without waiting on a FIFO, and only up to [`STATE_MAX_BYTES`].
    pub(crate) fn load(dir: &Path) -> Loaded {
        let read = Dir::open(dir).and_then(|d| d.read(Path::new(STATE_FILE), STATE_MAX_BYTES));
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(e) => return fsutil::unseen("state", &e).map_or(Loaded::Absent, Loaded::Unseen),
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(raw) if raw.is_object() => Loaded::Read(Box::new(Self::from_value(&raw)), raw),
            _ => Loaded::Unseen(Unseen {
                source: "state",
                path: dir.join(STATE_FILE),
                reason: "is not a JSON object".into(),
                hint: fsutil::HINT_REFUSED,
            }),
        }
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
            log_complete: o.get("log_complete").and_then(Value::as_bool),
            log_error: o
                .get("log_error")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

/// The state directory of a project, where the round keeps it (`crate::round::state::dir`). The
/// round falls back to `LOG_DIR/state` when it may not write the scope's directory; a reader who
/// may not write there (or not even look in) must still look there when it exists, or it would
/// report the state of a directory no round writes.
pub(crate) fn state_dir(project: &Project) -> PathBuf {
    let round_dir = crate::round::state::dir(project);
    let scoped = project.scope.state_dir(&project.name);
    let there = !matches!(fsutil::entry_kind(&scoped), Ok(None));
    if round_dir == project.runtime.log_dir.join("state") && there {
        scoped
    } else {
        round_dir
    }
}

/// The state file for a reader: one `key: value` line per field that says something (not null,
/// zero, false or empty), an object's fields as `key=value` on its line, epoch seconds (`*_at`,
/// `until`, `since`) as UTC times. The agent can write the file: every string is escaped.
pub(crate) fn summary_lines(raw: &Value) -> Vec<String> {
    let Value::Object(fields) = raw else {
        return vec![scalar_text("", raw)];
    };
    fields
        .iter()
        .filter(|(_, v)| says_something(v))
        .map(|(key, value)| {
            let text = match value {
                Value::Object(inner) => inner
                    .iter()
                    .filter(|(_, v)| says_something(v))
                    .map(|(k, v)| format!("{}={}", escaped(k), scalar_text(k, v)))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => scalar_text(key, other),
            };
            format!("{}: {text}", escaped(key))
        })
        .collect()
}

fn says_something(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => o.values().any(says_something),
        Value::Bool(true) => true,
    }
}

fn scalar_text(key: &str, value: &Value) -> String {
    let is_time = key.ends_with("_at") || key == "until" || key == "since";
    match value {
        Value::Number(n) if is_time => n.as_u64().map_or_else(|| n.to_string(), iso_utc_s),
        Value::String(s) => escaped(s),
        Value::Array(_) | Value::Object(_) => {
            escaped(&serde_json::to_string(value).unwrap_or_default())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_state_file_reads_as_lines_with_times_and_without_the_zeros() {
        let raw = serde_json::json!({
            "round": 12,
            "consecutive_short_crashes": 0,
            "loop_started_at": 1_764_000_000,
            "verdict": {"action": "continue", "until": null},
            "last_error": "bad\u{1b}[31m red",
            "loop_ended": false,
        });
        assert_eq!(
            summary_lines(&raw),
            [
                "last_error: bad\\u{1b}[31m red",
                "loop_started_at: 2025-11-24T16:00:00Z",
                "round: 12",
                "verdict: action=continue",
            ]
        );
    }

    /// What `load` says of `dir`, failing the test if it takes more than five seconds.
    fn load_within_seconds(dir: &Path) -> Loaded {
        let dir = dir.to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(StateView::load(&dir)));
        rx.recv_timeout(Duration::from_secs(5))
            .expect("returned without blocking")
    }

    fn unseen_reason(dir: &Path) -> String {
        match load_within_seconds(dir) {
            Loaded::Unseen(u) => {
                assert_eq!(u.source, "state");
                assert_eq!(u.path, dir.join("state.json"));
                u.reason
            }
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_planted_state_file_is_named_never_read() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::write(
            t.join("secret.json"),
            r#"{"round": 7, "last_error": "TOP SECRET"}"#,
        )
        .unwrap();
        let state = t.join("state.json");
        assert!(matches!(load_within_seconds(t), Loaded::Absent));

        symlink(t.join("secret.json"), &state).unwrap();
        assert_eq!(unseen_reason(t), "is a symbolic link");
        std::fs::remove_file(&state).unwrap();
        symlink("/dev/zero", &state).unwrap();
        assert_eq!(unseen_reason(t), "is a symbolic link");
        std::fs::remove_file(&state).unwrap();
        nix::unistd::mkfifo(&state, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert_eq!(unseen_reason(t), "is a FIFO, not a regular file");
        std::fs::remove_file(&state).unwrap();
        std::fs::write(&state, vec![b' '; 2 << 20]).unwrap();
        assert_eq!(unseen_reason(t), "is larger than 1 MiB");
        std::fs::write(&state, "[1, 2]").unwrap();
        assert_eq!(unseen_reason(t), "is not a JSON object");

        std::fs::write(&state, r#"{"round": 3}"#).unwrap();
        let Loaded::Read(view, raw) = load_within_seconds(t) else {
            panic!("a state file that is a regular file is read");
        };
        assert_eq!((view.round, raw["round"].as_u64()), (Some(3), Some(3)));
    }

    #[test]
    fn odd_state_files_degrade_to_unknown() {
        let v = serde_json::json!({"round": "seven", "last_outcome": {"duration_ms": -1, "ended_at": 1_795_341_600_u64}, "throttle_until": null});
        let s = StateView::from_value(&v);
        assert_eq!(s.round, None);
        let o = s.last_outcome.unwrap();
        assert_eq!(o.duration_ms, None);
        assert_eq!(o.ended_at.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert_eq!(s.throttle_until, None);
        assert_eq!((o.log_complete, o.log_error), (None, None));
    }
}
