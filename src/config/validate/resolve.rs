//! Paths in the file: `~` and `{project}` expanded, relative ones made absolute against the
//! directory of the TOML file (work_dir, credentials) or against work_dir (everything else).

use std::path::{Component, Path, PathBuf};

use super::checker::Checker;
use crate::paths::home_dir;

/// What the paths of one project file resolve against.
pub(super) struct Resolver<'a> {
    /// The project name, substituted for `{project}`.
    pub(super) project: &'a str,
    /// The directory holding the TOML file.
    pub(super) toml_dir: &'a Path,
    /// The resolved work_dir.
    pub(super) work_dir: &'a Path,
}

impl Resolver<'_> {
    /// `raw` resolved against the directory of the TOML file.
    pub(super) fn beside_file(&self, raw: &str) -> PathBuf {
        resolve(raw, self.project, self.toml_dir)
    }

    /// `raw` resolved against work_dir.
    pub(super) fn in_work_dir(&self, raw: &str) -> PathBuf {
        resolve(raw, self.project, self.work_dir)
    }

    /// The optional path key at `key`, resolved against work_dir; a blank value or one with
    /// control characters is a problem.
    pub(super) fn path_key(
        &self,
        c: &mut Checker<'_, '_>,
        key: &[&str],
        value: Option<&str>,
    ) -> Option<PathBuf> {
        let v = value?;
        if v.trim().is_empty() {
            c.fail(key, "must be a non-empty path");
            return None;
        }
        c.free_of_control_chars(key, v).then(|| self.in_work_dir(v))
    }
}

/// The absolute directory holding the TOML file at `file` (`.` when it has none).
pub(super) fn toml_dir(file: &Path) -> PathBuf {
    let dir = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Expands `~` and `{project}`, then makes the path absolute against `base`.
pub(super) fn resolve(raw: &str, project: &str, base: &Path) -> PathBuf {
    let expanded = raw.replace("{project}", project);
    let path = if expanded == "~" {
        home_dir()
    } else if let Some(rest) = expanded.strip_prefix("~/") {
        home_dir().join(rest)
    } else {
        PathBuf::from(expanded)
    };
    let joined = if path.is_absolute() {
        path
    } else {
        base.join(path)
    };
    normalize(&joined)
}

/// Removes `.` and resolves `..` lexically (no symlink resolution: paths may not exist yet).
pub(in crate::config) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
