//! What every command gets besides its own options.

use crate::paths::Scope;

/// What every command gets besides its own options: which manager, which host.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// System or user manager.
    pub scope: Scope,
    /// A remote host to reach over SSH, if any.
    pub host: Option<String>,
}
