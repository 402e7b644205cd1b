//! The notifier's memory of a project, one JSON file per project in [`Scope::notify_dir`]: its
//! place in the journal (the cursor of the last event it is done with) and when it last
//! delivered each kind (the dedup window). Only the notifier's own user writes there.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fsutil::StoreKind;
use crate::paths::Scope;

/// The largest store read: a cursor and a few kinds.
const STORE_MAX_BYTES: u64 = 64 * 1024;

/// The store's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Memory {
    /// The journal cursor of the last event handled (delivered, filtered or deduplicated).
    #[serde(default)]
    pub cursor: Option<String>,
    /// Per kind, the time (µs since the epoch, the event's own) of the last one delivered.
    #[serde(default)]
    pub sent_us: BTreeMap<String, u64>,
}

impl Memory {
    /// Whether an event of `kind` at `ts_us` falls within `window_s` of the last one delivered.
    pub(crate) fn is_duplicate(&self, kind: &str, ts_us: u64, window_s: u64) -> bool {
        self.sent_us
            .get(kind)
            .is_some_and(|last| ts_us.saturating_sub(*last) < window_s.saturating_mul(1_000_000))
    }
}

/// The notifier's store: its own user's alone.
const STORE: StoreKind = StoreKind {
    max_bytes: STORE_MAX_BYTES,
    dir_mode: 0o700,
    file_mode: 0o600,
    what: "the notifier's store",
};

/// What the notifier remembers of `project`; nothing when it never ran.
pub(crate) fn load(scope: Scope, project: &str) -> Result<Memory> {
    load_from(&scope.notify_dir(), project)
}

fn load_from(dir: &Path, project: &str) -> Result<Memory> {
    STORE.load(dir, project)
}

/// Replaces the store of `project` atomically.
pub(crate) fn save(scope: Scope, project: &str, memory: &Memory) -> Result<()> {
    save_to(&scope.notify_dir(), project, memory)
}

fn save_to(dir: &Path, project: &str, memory: &Memory) -> Result<()> {
    STORE.save(dir, project, memory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kind_is_not_sent_twice_within_the_window() {
        let mut memory = Memory::default();
        assert!(!memory.is_duplicate("loop_halted", 10_000_000, 600));
        memory.sent_us.insert("loop_halted".into(), 10_000_000);
        assert!(memory.is_duplicate("loop_halted", 10_000_000 + 599_999_999, 600));
        assert!(!memory.is_duplicate("loop_halted", 10_000_000 + 600_000_000, 600));
        assert!(!memory.is_duplicate("alert_raised", 10_000_001, 600));
        assert!(
            !memory.is_duplicate("loop_halted", 10_000_001, 0),
            "0 turns dedup off"
        );
    }

    #[test]
    fn the_store_round_trips_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_from(dir.path(), "p").unwrap(), Memory::default());
        let mut memory = Memory {
            cursor: Some("s=1;i=2".into()),
            ..Memory::default()
        };
        memory.sent_us.insert("loop_halted".into(), 5);
        save_to(dir.path(), "p", &memory).unwrap();
        assert_eq!(load_from(dir.path(), "p").unwrap(), memory);
        std::fs::write(dir.path().join("p.json"), "garbage").unwrap();
        let err = load_from(dir.path(), "p").unwrap_err().to_string();
        assert!(err.contains("not the notifier's store"), "{err}");
    }
}
