//! Which keys a systemd version understands among those we may render, and which of them we use.
//!
//! Newer keys are only rendered when the target has them, because an older systemd warns about
//! unknown keys and then silently ignores them. Two newer features are left out on purpose:
//! `RestartSteps=`/`RestartMaxDelaySec=` (254) grow the delay of `Restart=`, but rounds follow
//! each other by the timer and a back-off waits for the reset time the agent printed, which no
//! step function knows; `ImportCredential=` (254) skips a credential it cannot find, where
//! `LoadCredential=` fails the round's start, which is what a missing API key deserves.

use serde::Serialize;

/// What a systemd version supports among the keys we render.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Features {
    /// The major version.
    pub version: u32,
    /// `ProtectControlGroups=strict` (257): the round gets a cgroup namespace of its own with a
    /// read-only cgroupfs, so the agent sees neither the host's cgroup tree nor its own place in
    /// it. 252 has only `yes` (read-only, tree visible).
    pub cgroup_namespace: bool,
    /// The user manager's `StateDirectory=` below `$XDG_STATE_HOME` (254; 252 puts it below
    /// `$XDG_CONFIG_HOME`). From 254 on, user units declare the state directory agent-runner
    /// uses anyway, so systemd creates it and `systemctl --user clean --what=state`
    /// empties it.
    pub user_state_directory: bool,
}

impl Features {
    /// The features of systemd `version`.
    pub(crate) fn of(version: u32) -> Self {
        Self {
            version,
            cgroup_namespace: version >= 257,
            user_state_directory: version >= 254,
        }
    }

    /// What rendering for this version changes against the oldest supported one, in words (for
    /// `check` and `diagnose`); empty on 252 and 253.
    pub(crate) fn changes(self) -> Vec<&'static str> {
        let mut changes = Vec::new();
        if self.user_state_directory {
            changes.push("user units declare StateDirectory= (systemd creates the state directory; `systemctl --user clean` empties it)");
        }
        if self.cgroup_namespace {
            changes.push(
                "the round runs with ProtectControlGroups=strict (a cgroup namespace of its own)",
            );
        }
        changes
    }

    /// One line naming the version and what it changes.
    pub(crate) fn summary(self) -> String {
        let changes = self.changes();
        if changes.is_empty() {
            format!(
                "systemd {}: units use only what systemd 252 has",
                self.version
            )
        } else {
            format!("systemd {}: {}", self.version, changes.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_keys_by_version() {
        assert!(!Features::of(252).user_state_directory);
        assert!(Features::of(254).user_state_directory);
        assert!(!Features::of(256).cgroup_namespace);
        assert!(Features::of(257).cgroup_namespace);
    }

    #[test]
    fn says_what_a_version_changes() {
        assert!(Features::of(252).changes().is_empty());
        assert!(
            Features::of(252)
                .summary()
                .contains("only what systemd 252 has")
        );
        let summary = Features::of(257).summary();
        assert!(summary.starts_with("systemd 257: "), "{summary}");
        assert!(summary.contains("ProtectControlGroups=strict"), "{summary}");
        assert!(summary.contains("StateDirectory="), "{summary}");
    }
}
