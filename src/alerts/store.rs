//! The open alerts of a project, one JSON file per project in [`Scope::alerts_dir`]: written by
//! root's steps only (the after-round step and the watch service), read by `status`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::events::alert::{Detector, Evidence, Severity};
use crate::fsutil::StoreKind;
use crate::paths::Scope;

/// The largest store read: a few alerts of a few hundred bytes each.
const STORE_MAX_BYTES: u64 = 256 * 1024;

/// One open alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Alert {
    /// Which detector raised it.
    pub detector: Detector,
    /// warn, or halt when the loop is halted for it.
    pub severity: Severity,
    /// What the detector saw when it last looked.
    pub evidence: Evidence,
    /// When it was raised (ISO 8601 UTC).
    pub since: String,
    /// The last round started when it was raised.
    #[serde(default)]
    pub round: Option<u64>,
}

/// The store's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct OpenAlerts {
    /// Open alerts, in detector order.
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

/// The open alerts' store: 0644, since every reader of `status` may see alerts.
const STORE: StoreKind = StoreKind {
    max_bytes: STORE_MAX_BYTES,
    dir_mode: 0o755,
    file_mode: 0o644,
    what: "a store of alerts",
};

/// The open alerts of `project`; none when the store or its directory does not exist.
pub(crate) fn load(scope: Scope, project: &str) -> Result<OpenAlerts> {
    load_from(&scope.alerts_dir(), project)
}

fn load_from(dir: &Path, project: &str) -> Result<OpenAlerts> {
    STORE.load(dir, project)
}

/// Replaces the store of `project` atomically, creating the directory when its parent allows.
pub(crate) fn save(scope: Scope, project: &str, open: &OpenAlerts) -> Result<()> {
    save_to(&scope.alerts_dir(), project, open)
}

fn save_to(dir: &Path, project: &str, open: &OpenAlerts) -> Result<()> {
    STORE.save(dir, project, open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(detector: Detector) -> Alert {
        Alert {
            detector,
            severity: Severity::Warn,
            evidence: Evidence {
                summary: "seen".into(),
                ..Evidence::default()
            },
            since: "2026-11-27T00:00:00Z".into(),
            round: Some(4),
        }
    }

    #[test]
    fn the_store_round_trips_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("alerts");
        assert_eq!(load_from(&store, "p").unwrap(), OpenAlerts::default());
        let open = OpenAlerts {
            alerts: vec![alert(Detector::DiskUsage)],
        };
        save_to(&store, "p", &open).unwrap();
        assert_eq!(load_from(&store, "p").unwrap(), open);
        assert_eq!(load_from(&store, "q").unwrap(), OpenAlerts::default());
    }

    #[test]
    fn a_link_or_garbage_in_the_store_is_an_error_not_silence() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("elsewhere"), "{\"alerts\":[]}").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("p.json"))
            .unwrap();
        assert!(load_from(dir.path(), "p").is_err());
        std::fs::write(dir.path().join("q.json"), "not json").unwrap();
        let e = load_from(dir.path(), "q").unwrap_err().to_string();
        assert!(e.contains("is not a store of alerts"), "{e}");
    }
}
