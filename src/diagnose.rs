//! `agent-runner diagnose NAME`: the layered check of DESIGN §6.

use crate::cli::ProjectRef;
use crate::error::Result;
use crate::{Context, not_yet};

/// Runs the layers top-down and stops at the first failing one.
pub fn run(_ctx: &Context, _project: &ProjectRef, _json: bool) -> Result<u8> {
    Err(not_yet("diagnose"))
}
