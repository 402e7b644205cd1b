//! File-system helpers: atomic writes (write, fsync, rename) so that no reader ever sees half a
//! file, who owns a directory, and the one way to open what the agent can touch ([`Dir`]).
//!
//! The agent runs arbitrary commands as its user, so everything that user can write (the log and
//! state directories, the work tree, prompt files) is hostile input to whatever reads it,
//! root's commands included: a symbolic link there could point a read at a secret or a write at
//! a system file, a FIFO would block the reader, /dev/zero would fill its memory. [`Dir`] opens
//! such files with no link followed, without waiting, only when they are regular files, and
//! reads them up to a cap.

mod dir;
mod open;

use std::fs;
use std::os::fd::AsFd;
use std::path::Path;

pub(crate) use self::dir::{Dir, Existing, read_agent_text};
pub(crate) use self::open::{Refusal, kind_of, read_capped, size};
use crate::error::{Error, Result};

/// The largest state file read (1 MiB): the state is a few hundred bytes.
pub(crate) const STATE_MAX_BYTES: u64 = 1 << 20;
/// The largest prompt file read (1 MiB each, documented in agent-runner.toml(5)).
pub(crate) const PROMPT_MAX_BYTES: u64 = 1 << 20;

/// Writes `contents` to `path` atomically: a temporary file in the same directory is created new
/// (no link followed), written, fsynced and renamed over `path`, then the directory is fsynced.
/// On any error the temporary file is removed and `path` is left as it was.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or(path.as_os_str());
    dir::open_dir_following(dir)
        .and_then(|fd| dir::replace(fd.as_fd(), name, contents, mode))
        .map_err(|e| Error::io("cannot write", path, e))
}

/// Creates `dir` and its parents, mapping the error to one that names the directory.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))
}

/// The name of the account owning `dir`, unless that is root (or `dir` cannot be read, or the
/// owner has no name). A system project without `[runtime] user` runs its rounds as this account.
pub(crate) fn owner_unless_root(dir: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = fs::metadata(dir).ok()?.uid();
    if uid == 0 {
        return None;
    }
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.conf");
        write_atomic(&path, b"one", 0o644).unwrap();
        write_atomic(&path, b"two", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_write_into_missing_dir_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/a.conf");
        let err = write_atomic(&path, b"x", 0o644).unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
    }
}
