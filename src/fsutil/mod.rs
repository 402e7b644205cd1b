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
mod store;

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

pub(crate) use self::dir::{Dir, Existing, read_agent_text, tail_agent_file};
pub(crate) use self::open::{Refusal, Tail, kind_of, read_capped, size, tail};
pub(crate) use self::store::{StoreKind, ensure_dir};
use crate::error::{Error, Result, Unseen};

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

/// What a denied permission asks of whoever reads the project's files.
pub(crate) const HINT_DENIED: &str = "run it with sudo, or as the user the project's rounds run as";
/// What a refused file asks for: agent-runner never puts a link, a FIFO or a device there.
pub(crate) const HINT_REFUSED: &str = "the agent can write there: look at it, then remove it";

/// The file of `source` as a read command could not see it, from the error reading it; `None`
/// when the file is only missing (there is nothing to see) or the error is about no file.
pub(crate) fn unseen(source: &'static str, error: &Error) -> Option<Unseen> {
    let Error::Io {
        path, source: io, ..
    } = error
    else {
        return None;
    };
    let (reason, hint) = match Refusal::in_error(error) {
        Some(refusal) => (refusal.to_string(), HINT_REFUSED),
        None if io.kind() == io::ErrorKind::NotFound => return None,
        None if io.kind() == io::ErrorKind::PermissionDenied => {
            ("permission denied".to_string(), HINT_DENIED)
        }
        None => (io.to_string(), HINT_REFUSED),
    };
    Some(Unseen {
        source,
        path: path.clone(),
        reason,
        hint,
    })
}

/// `error` as the one a read command ends with: a file of `source` it could not see, or else
/// `error` as it is.
pub(crate) fn unseen_error(source: &'static str, error: Error) -> Error {
    match unseen(source, &error) {
        Some(unseen) => Error::Unseen(vec![unseen]),
        None => error,
    }
}

/// What the entry at `path` is, the entry itself and not what a link there points at; `None`
/// when there is none. Never opens it, so a FIFO or a device there costs nothing.
pub(crate) fn entry_kind(path: &Path) -> io::Result<Option<fs::FileType>> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta.file_type())),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
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
    fn what_could_not_be_read_is_named_with_what_to_do() {
        let io = |kind: io::ErrorKind| Error::io("cannot read", "/s/state.json", kind.into());
        let denied = unseen("state", &io(io::ErrorKind::PermissionDenied)).unwrap();
        assert_eq!(
            denied.to_string(),
            format!("cannot read /s/state.json: permission denied — {HINT_DENIED}")
        );
        let link = Error::io("cannot read", "/s/x", Refusal::SymbolicLink.into());
        let refused = unseen("log", &link).unwrap();
        assert_eq!((refused.source, refused.hint), ("log", HINT_REFUSED));
        assert_eq!(refused.reason, "is a symbolic link");
        assert_eq!(unseen("state", &io(io::ErrorKind::NotFound)), None);
        assert_eq!(unseen("state", &Error::Failed("no file".into())), None);
        assert!(matches!(
            unseen_error("log", io(io::ErrorKind::PermissionDenied)),
            Error::Unseen(_)
        ));
    }

    #[test]
    fn an_entry_is_what_is_there_not_what_a_link_points_at() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path();
        std::os::unix::fs::symlink("/nonexistent", t.join("dangling")).unwrap();
        nix::unistd::mkfifo(
            &t.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        std::fs::write(t.join("file"), "").unwrap();
        let kind = |name: &str| entry_kind(&t.join(name)).unwrap();
        assert!(kind("dangling").unwrap().is_symlink());
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &kind("fifo").unwrap()
        ));
        assert!(kind("missing").is_none());
        assert!(kind("file/below").is_none());
    }

    #[test]
    fn atomic_write_into_missing_dir_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/a.conf");
        let err = write_atomic(&path, b"x", 0o644).unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
    }
}
