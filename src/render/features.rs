//! Which keys a systemd version understands among those we may render.
//!
//! Newer keys are only rendered when the target has them, because an older systemd warns about
//! unknown keys and then silently ignores them.

use serde::Serialize;

/// What a systemd version supports among the keys we may render.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Features {
    /// The major version.
    pub version: u32,
    /// `RestartSteps=` / `RestartMaxDelaySec=` (254).
    pub restart_steps: bool,
    /// `ImportCredential=` (254).
    pub import_credential: bool,
}

impl Features {
    /// The features of systemd `version`.
    pub(crate) fn of(version: u32) -> Self {
        Self {
            version,
            restart_steps: version >= 254,
            import_credential: version >= 254,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_keys_by_version() {
        assert!(!Features::of(252).restart_steps);
        assert!(Features::of(254).restart_steps);
    }
}
