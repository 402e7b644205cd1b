//! `[vcs]`: what happens to a work tree the agent left dirty.

use super::checker::Checker;
use super::resolve::Resolver;
use crate::config::model::{DirtyAction, Vcs};
use crate::config::raw::RawVcs;

pub(super) fn vcs(c: &mut Checker<'_, '_>, raw: &RawVcs, paths: &Resolver<'_>) -> Vcs {
    let dirty_action = c.choice(
        &["vcs", "dirty_action"],
        raw.dirty_action.as_deref(),
        &[
            ("ignore", DirtyAction::Ignore),
            ("stash", DirtyAction::Stash),
            ("commit", DirtyAction::Commit),
        ],
        DirtyAction::Ignore,
    );
    let protect = raw
        .protect
        .iter()
        .filter_map(|p| paths.path_key(c, &["vcs", "protect"], Some(p)))
        .collect();
    Vcs {
        dirty_action,
        protect,
    }
}
