//! `[agent] state_paths`: the directories below the home of the user rounds run as where the
//! agent's CLI keeps its logins, sessions and memory. The system units make exactly these
//! writable, so each must name a directory below the home and nothing else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::checker::Checker;
use crate::config::model::ConfigDirEnv;
use crate::config::presets::Preset;
use crate::config::problems::echoed;

/// The most state paths a project may list.
pub(super) const MAX_STATE_PATHS: usize = 16;

const KEY: [&str; 2] = ["agent", "state_paths"];

/// The file's `state_paths`, else `preset`'s, each normalised (`./.claude/` is `.claude`).
pub(super) fn state_paths(
    c: &mut Checker<'_, '_>,
    raw: Option<&[String]>,
    preset: Option<&Preset>,
) -> Vec<PathBuf> {
    let Some(raw) = raw else {
        return preset.map_or_else(Vec::new, |p| {
            p.state_paths.iter().map(PathBuf::from).collect()
        });
    };
    if raw.len() > MAX_STATE_PATHS {
        c.fail(
            &KEY,
            format!(
                "lists {} paths; a project may list at most {MAX_STATE_PATHS}",
                raw.len()
            ),
        );
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    for (i, entry) in raw.iter().enumerate() {
        if let Some(path) = state_path(c, i + 1, entry)
            && !paths.contains(&path)
        {
            paths.push(path);
        }
    }
    refuse_nested(c, &paths);
    paths
}

/// One entry, normalised, or `None` with a problem.
fn state_path(c: &mut Checker<'_, '_>, n: usize, entry: &str) -> Option<PathBuf> {
    if !c.free_of_control_chars(&KEY, entry) {
        return None;
    }
    let shown = echoed(entry);
    if entry.starts_with('/') || entry.starts_with('~') {
        c.fail_hint(
            &KEY,
            format!(
                "entry {n} (\"{shown}\") is not relative to the home of the user rounds run as"
            ),
            "write it as that home's subdirectory, e.g. \".claude\" for ~/.claude",
        );
        return None;
    }
    let parts: Vec<&str> = entry
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.contains(&"..") {
        c.fail(
            &KEY,
            format!("entry {n} (\"{shown}\") must not contain `..`"),
        );
        return None;
    }
    if parts.is_empty() {
        c.fail_hint(
            &KEY,
            format!("entry {n} (\"{shown}\") names the whole home, which stays read-only"),
            "list the directories below it the agent's CLI writes, e.g. \".claude\"",
        );
        return None;
    }
    Some(parts.iter().collect())
}

/// A state path inside another: the agent could replace the inner one with a symbolic link in
/// the outer (writable) one, and systemd follows links when it makes a path writable.
fn refuse_nested(c: &mut Checker<'_, '_>, paths: &[PathBuf]) {
    for inner in paths {
        if let Some(outer) = paths.iter().find(|o| *o != inner && inner.starts_with(o)) {
            c.fail_hint(
                &KEY,
                format!(
                    "\"{}\" lies inside \"{}\"",
                    echoed(&inner.to_string_lossy()),
                    echoed(&outer.to_string_lossy())
                ),
                "list only the outer directory: a path inside a writable one could be swapped for a link",
            );
        }
    }
}

/// `preset`'s config-directory variable, unless the environment sets it already or its directory
/// is not among the state paths.
pub(super) fn config_dir_env(
    preset: Option<&Preset>,
    env: &BTreeMap<String, String>,
    state_paths: &[PathBuf],
) -> Option<ConfigDirEnv> {
    let wanted = preset?.config_dir_env.as_ref()?;
    let dir = Path::new(wanted.dir);
    (!env.contains_key(wanted.var) && state_paths.iter().any(|p| p == dir)).then(|| ConfigDirEnv {
        var: wanted.var.to_string(),
        dir: dir.to_path_buf(),
        home_files: wanted.home_files.iter().map(ToString::to_string).collect(),
    })
}
