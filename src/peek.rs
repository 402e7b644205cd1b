//! `agent-runner peek NAME`: the full snapshot of one project.

use crate::cli::ProjectRef;
use crate::error::Result;
use crate::{Context, not_yet};

/// Prints units, state, recent rounds and config drift.
pub fn run(
    _ctx: &Context,
    _project: &ProjectRef,
    _round: Option<u64>,
    _log: bool,
    _json: bool,
) -> Result<u8> {
    Err(not_yet("peek"))
}
