//! The payloads of the progress brakes and the goal checks: what git saw after a round, each
//! check's result, and the three endings they bring (re-exported by [`super::payload`], which
//! declares them as events).

use serde::{Deserialize, Serialize};

/// `round_progress`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundProgress {
    /// Commits since the previous round ended (absent: git could not count them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    /// Files whose content the round changed, tracked or not.
    pub files_changed: u64,
    /// Lines added.
    pub insertions: u64,
    /// Lines removed.
    pub deletions: u64,
    /// HEAD after the round (absent before the first commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The tree id of the work tree's content after the round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<String>,
    /// Rounds in a row without a new commit or a change to the tree.
    pub rounds_unchanged: u32,
    /// Rounds in a row that left the same non-empty change.
    pub rounds_same_change: u32,
    /// Why git could not tell (the round then counts as one without progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first round measured: it sets the mark the next round is compared with.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
    /// The progress record in the state file could not be believed; its counters were taken as
    /// one round short of their brake.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub state_garbled: bool,
}

/// `goal_check_result`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct GoalCheckResult {
    /// The check's name.
    pub name: String,
    /// Exited 0 within its time.
    pub passed: bool,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// Killed (with its process group) at timeout_s.
    pub timed_out: bool,
    /// Why it could not run, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it ran.
    pub duration_ms: u64,
    /// Its output, written to the round log (at most the first 64 KiB).
    pub output_bytes: u64,
}

/// `stalled_no_progress`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct StalledNoProgress {
    /// Rounds in a row without a new commit or a change to the tree.
    pub rounds: u32,
    /// `[progress] stall_rounds`.
    pub stall_rounds: u32,
}

/// `repeating_diff`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RepeatingDiff {
    /// Rounds in a row that left the same change.
    pub rounds: u32,
    /// `[progress] repeat_rounds`.
    pub repeat_rounds: u32,
    /// The change, as `FROM..TO` tree ids.
    pub change: String,
}

/// `goal_reached`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct GoalReached {
    /// The checks that passed (all of them).
    pub checks: Vec<String>,
}
