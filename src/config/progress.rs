//! `[progress]` and `[[goal.checks]]`: the brakes on a loop that achieves nothing, and the
//! operator's own test of "done". Validated in `validate/progress.rs`; the round measures
//! progress in `round/progress.rs` and runs the checks in `round/goal.rs`.

use serde::Serialize;

/// `[progress]`: how many rounds without a change, or with the same change, end the loop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Progress {
    /// Rounds in a row with no new commit and no change to the tree that halt the loop.
    pub stall_rounds: Option<u32>,
    /// Rounds in a row leaving the same non-empty change that halt the loop.
    pub repeat_rounds: Option<u32>,
}

/// The longest the round asks git what changed, all commands together; past it the round gives up
/// measuring (a work tree the agent filled with gigabytes must not hold the loop).
pub(crate) const PROGRESS_LIMIT_S: u64 = 60;

/// How long a round may run after its agent for the progress measure and the goal checks, in
/// seconds: the round service's runtime limit grows by it.
pub(crate) fn after_agent_s(progress: &Progress, goal: &Goal) -> u64 {
    let measure = if progress.enabled() {
        PROGRESS_LIMIT_S
    } else {
        0
    };
    measure + goal.total_timeout_s()
}

impl Progress {
    /// Whether any brake is set: only then does a round ask git what changed.
    pub(crate) fn enabled(&self) -> bool {
        self.stall_rounds.is_some() || self.repeat_rounds.is_some()
    }
}

/// `[goal]`: the checks that, all passing after a round, end the loop as done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Goal {
    /// In the order of the file, which is the order they run in.
    pub checks: Vec<GoalCheck>,
}

impl Goal {
    /// The longest the checks can take together, in seconds.
    pub(crate) fn total_timeout_s(&self) -> u64 {
        self.checks.iter().map(|c| c.timeout_s).sum()
    }
}

/// One `[[goal.checks]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct GoalCheck {
    /// Its name in events and the round log.
    pub name: String,
    /// argv; the program is looked up in `PATH` like a shell would.
    pub cmd: Vec<String>,
    /// After this long its process group is killed and the check fails.
    pub timeout_s: u64,
}
