//! The payload of the event of an operator's hook that failed: a `[hooks]` command run before or
//! after a round's agent.

use serde::{Deserialize, Serialize};

/// `hook_failed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct HookFailed {
    /// Its list: `pre_round` or `post_round`.
    pub hook: String,
    /// Its place in the list, from 0.
    pub index: usize,
    /// Its program, as the file names it.
    pub command: String,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// `exit`, `signal`, `timeout`, `stopped` or `spawn_error`.
    pub status: String,
    /// Why it could not run, or the signal that ended it.
    pub error: Option<String>,
    /// How long it ran.
    pub duration_ms: u64,
    /// Whether the round's agent was skipped for it (a failed `pre_round` hook).
    pub round_skipped: bool,
}
