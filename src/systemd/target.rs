//! Which systemd the units are rendered for: the running manager's version, and what rendering
//! for it changes.

use super::version::{FLOOR, installed_version};
use crate::paths::Scope;
use crate::render::features::Features;

/// The version to render for: the running manager's, else the installed `systemctl`'s, else the
/// floor (a manager that cannot be asked must not stop `generate` from writing files).
pub(crate) fn running(scope: Scope) -> u32 {
    super::bus::manager_version(scope)
        .ok()
        .or_else(installed_version)
        .unwrap_or(FLOOR)
}

/// What `check` says about the systemd the units are rendered for.
pub(crate) fn summary(scope: Scope) -> String {
    Features::of(running(scope)).summary()
}
