//! Lifecycle commands over D-Bus: start, stop, restart, kill, enable, disable.

use crate::cli::ProjectRef;
use crate::error::Result;
use crate::{Context, not_yet};

/// `agent-runner start NAME`.
pub fn start(_ctx: &Context, _project: &ProjectRef) -> Result<u8> {
    Err(not_yet("start"))
}

/// `agent-runner stop NAME [--now]`.
pub fn stop(_ctx: &Context, _project: &ProjectRef, _now: bool) -> Result<u8> {
    Err(not_yet("stop"))
}

/// `agent-runner restart NAME`.
pub fn restart(_ctx: &Context, _project: &ProjectRef) -> Result<u8> {
    Err(not_yet("restart"))
}

/// `agent-runner kill NAME`.
pub fn kill(_ctx: &Context, _project: &ProjectRef) -> Result<u8> {
    Err(not_yet("kill"))
}

/// `agent-runner enable NAME [--now]`.
pub fn enable(_ctx: &Context, _project: &ProjectRef, _now: bool) -> Result<u8> {
    Err(not_yet("enable"))
}

/// `agent-runner disable NAME [--now]`.
pub fn disable(_ctx: &Context, _project: &ProjectRef, _now: bool) -> Result<u8> {
    Err(not_yet("disable"))
}
