//! Reading the project file, bounded: a regular file of at most [`MAX_FILE_BYTES`], opened
//! without blocking. A FIFO or a device named as the project file would otherwise block `check`,
//! every round and the generator at boot, or fill memory; a project file is a few kilobytes.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::OFlag;

use super::controls::check_file_path;
use crate::error::ConfigProblem;
use crate::fsutil;

/// The largest project file accepted (1 MiB), documented in agent-runner.toml(5).
pub(super) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The text of the project file at `path`, or the problem that keeps it from being read.
pub(super) fn read_project_file(path: &Path) -> Result<String, ConfigProblem> {
    check_file_path(path)?;
    let file = open(path)?;
    let bytes = read_capped(&file, path)?;
    String::from_utf8(bytes).map_err(|_| ConfigProblem::new(path, "the file is not valid UTF-8"))
}

/// Opens `path` non-blocking (opening a FIFO for reading would wait for a writer) and makes sure
/// it is a regular file. The project file is the operator's: a link to it is followed.
fn open(path: &Path) -> Result<File, ConfigProblem> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ConfigProblem::new(path, "no such configuration file")
                .hint(
                    "create it with `agent-runner init --preset NAME PROJECT`, or check the path",
                ),
            _ => unreadable(path, &e),
        })?;
    let kind = file
        .metadata()
        .map_err(|e| unreadable(path, &e))?
        .file_type();
    match fsutil::kind_of(kind) {
        None => Ok(file),
        Some(what) => Err(ConfigProblem::new(
            path,
            format!("the project file is {what}, not a regular file"),
        )
        .hint("point at the TOML file itself")),
    }
}

/// At most [`MAX_FILE_BYTES`] of `file`; a larger file (or one that grows while it is read) is a
/// problem, not a truncated read.
fn read_capped(file: &File, path: &Path) -> Result<Vec<u8>, ConfigProblem> {
    fsutil::read_capped(file, MAX_FILE_BYTES).map_err(|e| match fsutil::Refusal::of(&e) {
        Some(fsutil::Refusal::TooLarge(_)) => ConfigProblem::new(
            path,
            format!(
                "the file is larger than {} ({MAX_FILE_BYTES} bytes), the most a project file may hold",
                fsutil::size(MAX_FILE_BYTES)
            ),
        )
        .hint("a project file is a few kilobytes: keep prompts in their own files ([prompt] files)"),
        _ => unreadable(path, &e),
    })
}

/// A project file that cannot be read, in plain words, with what to do when it is a permission.
fn unreadable(path: &Path, e: &std::io::Error) -> ConfigProblem {
    let problem = ConfigProblem::new(
        path,
        format!("cannot read the file: {}", crate::error::plain_io(e)),
    );
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        problem.hint("run it as a user who may read the file (sudo), or check its permissions")
    } else {
        problem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "schema_version = 1\n").unwrap();
        assert_eq!(read_project_file(&path).unwrap(), "schema_version = 1\n");
    }

    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let problem = read_project_file(&path).unwrap_err();
        assert!(
            problem.message.contains("a FIFO, not a regular file"),
            "{problem}"
        );
    }

    #[test]
    fn refuses_a_directory_and_a_device() {
        let dir = tempfile::tempdir().unwrap();
        let problem = read_project_file(dir.path()).unwrap_err();
        assert!(problem.message.contains("a directory"), "{problem}");
        let problem = read_project_file(Path::new("/dev/zero")).unwrap_err();
        assert!(problem.message.contains("a device"), "{problem}");
    }

    #[test]
    fn refuses_a_file_over_the_cap_and_accepts_one_at_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        let at_cap = usize::try_from(MAX_FILE_BYTES).unwrap();
        std::fs::write(&path, "#".repeat(at_cap)).unwrap();
        assert_eq!(read_project_file(&path).unwrap().len(), at_cap);
        std::fs::write(&path, "#".repeat(at_cap + 1)).unwrap();
        let problem = read_project_file(&path).unwrap_err();
        assert!(problem.message.contains("larger than 1 MiB"), "{problem}");
    }
}
