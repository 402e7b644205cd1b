//! `agent-runner status [NAME]`.

use crate::cli::ProjectRef;
use crate::error::Result;
use crate::{Context, not_yet};

/// One line per project, or the details of one.
pub fn run(_ctx: &Context, _project: Option<ProjectRef>, _json: bool) -> Result<u8> {
    Err(not_yet("status"))
}
