//! `agent-runner round NAME`: exactly one round (DESIGN §4).

use crate::cli::ProjectRef;
use crate::error::Result;
use crate::{Context, not_yet};

/// Runs one round and returns its exit status (0 ok, 75 transient, 78 config, 1 crash, 124 timeout).
pub fn run(_ctx: &Context, _project: &ProjectRef) -> Result<u8> {
    Err(not_yet("round"))
}

/// `agent-runner checkin`, called by the agent.
pub fn checkin() -> Result<()> {
    Err(not_yet("checkin"))
}
