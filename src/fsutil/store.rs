//! Per-project JSON stores kept outside what the agent can write (the open alerts, the
//! notifier's cursor): one `NAME.json` per project in a directory of their own, read bounded and
//! with no link followed, replaced atomically.

use std::io;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::dir::Dir;
use crate::error::{Error, Result};

/// How a store is kept: its largest size, the modes of its directory and files, and what it is
/// called in messages ("a store of alerts").
pub(crate) struct StoreKind {
    /// The largest file read.
    pub max_bytes: u64,
    /// The mode of the directory when it is created.
    pub dir_mode: u32,
    /// The mode of each file.
    pub file_mode: u32,
    /// What the store is, for messages.
    pub what: &'static str,
}

/// Creates the directory `dir` with `mode` when it is missing (its parent must exist).
pub(crate) fn ensure_dir(dir: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io("cannot create", dir, e)),
    }
}

fn file_name(project: &str) -> String {
    format!("{project}.json")
}

impl StoreKind {
    /// The document of `project` in `dir`; the default when it or `dir` does not exist.
    pub(crate) fn load<T: DeserializeOwned + Default>(
        &self,
        dir: &Path,
        project: &str,
    ) -> Result<T> {
        let name = file_name(project);
        let text = match Dir::open(dir).and_then(|d| d.read_text(Path::new(&name), self.max_bytes))
        {
            Ok(text) => text,
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Ok(T::default());
            }
            Err(e) => return Err(e),
        };
        serde_json::from_str(&text).map_err(|e| {
            Error::Failed(format!(
                "{} is not {} ({})",
                dir.join(&name).display(),
                self.what,
                crate::output::visible(&e.to_string(), false)
            ))
        })
    }

    /// Replaces the document of `project` in `dir` atomically, creating `dir` when its parent
    /// allows.
    pub(crate) fn save<T: Serialize>(&self, dir: &Path, project: &str, value: &T) -> Result<()> {
        ensure_dir(dir, self.dir_mode)?;
        let text = serde_json::to_vec_pretty(value)
            .map_err(|e| Error::Failed(format!("cannot encode {}: {e}", self.what)))?;
        Dir::open(dir)?.write_atomic(&file_name(project), &text, self.file_mode)
    }
}
