//! Read commands over the journal and the round logs: `events` and `logs`.

use crate::cli::ProjectRef;
use crate::error::Result;
use crate::{Context, not_yet};

/// Options of `agent-runner events`.
#[derive(Debug, Clone, Default)]
pub struct EventsOptions {
    /// Keep printing new events.
    pub follow: bool,
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
    /// journalctl-style start time.
    pub since: Option<String>,
    /// At most this many past events.
    pub lines: Option<usize>,
    /// One JSON object a line.
    pub json: bool,
}

/// `agent-runner events NAME`.
pub fn events(_ctx: &Context, _project: &ProjectRef, _options: &EventsOptions) -> Result<u8> {
    Err(not_yet("events"))
}

/// `agent-runner logs NAME`.
pub fn logs(
    _ctx: &Context,
    _project: &ProjectRef,
    _round: Option<u64>,
    _follow: bool,
) -> Result<u8> {
    Err(not_yet("logs"))
}
