//! `agent-runner halt NAME`: run by agent-runner-halt@.service when a stop trigger fires.

use crate::cli::ProjectRef;
use crate::error::Result;
use crate::{Context, not_yet};

/// Records which trigger fired and ends the loop.
pub fn run(_ctx: &Context, _project: &ProjectRef) -> Result<u8> {
    Err(not_yet("halt"))
}
