//! The payloads of the schedule windows' events: the loop paused outside its run windows or
//! inside a pause window, and the first round after the pause.

use serde::{Deserialize, Serialize};

/// `schedule_paused`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct SchedulePaused {
    /// `pause_window` or `outside_run_windows`.
    pub reason: String,
    /// The pause window in force, as written; empty outside the run windows.
    pub window: String,
    /// When the next window opens (epoch seconds); absent when none opens within the 8 days
    /// searched.
    pub resume_at: Option<u64>,
    /// When the loop looks again: the opening, else the end of the search.
    pub recheck_at: u64,
    /// The zone the windows are read in (`host` for the host's).
    pub timezone: String,
}

/// `schedule_resumed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ScheduleResumed {
    /// How long the loop was paused, in seconds.
    pub paused_for_s: u64,
}
