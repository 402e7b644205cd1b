//! Drift: whether the generated drop-ins of a project still match its TOML, by the inputs hash
//! in their headers. `status`, `peek`, `diagnose` and `start` report it.

use std::path::PathBuf;

use serde::Serialize;

use super::header::{inputs_hash, parse_header};
use crate::config::Project;
use crate::paths::Scope;
use crate::units::{Units, drop_in_path};

/// One generated drop-in and whether it matches the TOML.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DropIn {
    /// Its path.
    pub path: PathBuf,
    /// The inputs hash in its header (`None`: missing file or no header).
    pub hash: Option<String>,
    /// The hash equals the TOML's.
    pub in_sync: bool,
}

/// Drift between a project's TOML and its generated units.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Drift {
    /// sha256 of the TOML as it is now.
    pub config_sha256: String,
    /// The round service's drop-in exists (the project was generated at least once).
    pub generated: bool,
    /// Every drop-in exists and carries the TOML's hash.
    pub in_sync: bool,
    /// Each drop-in.
    pub drop_ins: Vec<DropIn>,
}

/// Compares the [`inputs_hash`] of the TOML with the `# agent-runner-inputs:` header of each
/// generated drop-in.
pub(crate) fn drift(project: &Project, scope: Scope) -> Drift {
    let text = std::fs::read_to_string(&project.source).unwrap_or_default();
    let config_sha256 = inputs_hash(&text);
    // `generate`d drop-ins in the unit directory win over the generator's: the generator skips
    // a project that `generate` has written.
    let unit_dirs = [scope.unit_dir(), scope.generator_dir()];
    let drop_ins: Vec<DropIn> = Units::of(&project.name)
        .all()
        .iter()
        .map(|unit| {
            let candidates = unit_dirs.each_ref().map(|dir| dir.join(drop_in_path(unit)));
            let [first, _] = &candidates;
            let path = candidates.iter().find(|p| p.is_file()).unwrap_or(first);
            drop_in(path.clone(), &config_sha256)
        })
        .collect();
    Drift {
        generated: drop_ins.first().is_some_and(|d| d.hash.is_some()),
        in_sync: drop_ins.iter().all(|d| d.in_sync),
        config_sha256,
        drop_ins,
    }
}

/// The drop-in at `path`, compared with the TOML's hash.
fn drop_in(path: PathBuf, config_sha256: &str) -> DropIn {
    let hash = std::fs::read_to_string(&path)
        .ok()
        .and_then(|contents| parse_header(&contents))
        .map(|(_, hash)| hash);
    DropIn {
        in_sync: hash.as_deref() == Some(config_sha256),
        path,
        hash,
    }
}
