//! The payloads of the events of rounds the kernel killed for memory: the after-round step's
//! reclassification (`round_oom`) and the halt it leads to (`mem_loop`).

use serde::{Deserialize, Serialize};

/// `round_oom`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct RoundOom {
    /// What the runner had recorded for the round (stopped, crash…), `None` when it recorded
    /// nothing (the runner itself was killed).
    pub recorded: Option<String>,
    /// Rounds in a row killed for memory, this one included.
    pub consecutive: u32,
    /// `[limits] oom_rounds`: this many in a row halt the loop.
    pub limit: u32,
}

/// `mem_loop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct MemLoop {
    /// Rounds in a row killed for memory.
    pub consecutive: u32,
}
