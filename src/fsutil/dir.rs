//! [`Dir`]: a directory the agent can write in, held open. Every file below it is reached from
//! that descriptor with no symbolic link followed, opened without waiting, and checked to be a
//! regular file before a byte is read or written: a link, a FIFO or a device the agent planted
//! where a file is expected is refused with a message naming the file and what it is.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{AtFlags, OFlag, openat, readlinkat, renameat};
use nix::sys::stat::{Mode, SFlag, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};

use super::open::{Refusal, Tail, open_beneath, read_capped, regular, tail, writable};
use crate::error::{Error, Result};

/// A directory held open; see the module comment.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// One entry of a directory, as [`Dir::entries`] and [`Dir::entry`] see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Its name.
    pub name: OsString,
    /// What it is when it is not a regular file ("a symbolic link", "a directory", …).
    pub not_regular: Option<&'static str>,
}

/// What opening a file for writing does with one that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Writes go to its end, each in one piece (`O_APPEND`).
    Append,
    /// It is emptied, once it is known to be a regular file with no other name: nothing is ever
    /// truncated through a link.
    Truncate,
    /// It must not exist (`O_EXCL`).
    Refuse,
}

impl Dir {
    /// Opens the directory `path`. The directories above it are the operator's and are followed;
    /// `path` itself may be a symbolic link only when root or this process's user owns the link
    /// (systemd's: `DynamicUser=` puts the log and state directories behind one; or the
    /// operator's), never one another user planted.
    pub(crate) fn open(path: &Path) -> Result<Dir> {
        open_dir(path)
            .map(|fd| Dir {
                fd,
                path: path.to_path_buf(),
            })
            .map_err(|e| Error::io("cannot open", path, e))
    }

    /// The directory's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `rel` for reading: a regular file, opened without waiting (a FIFO would wait for a
    /// writer).
    pub(crate) fn open_read(&self, rel: &Path) -> Result<File> {
        self.open_at(rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK, 0)
            .and_then(regular)
            .map_err(|e| self.error("cannot read", rel, e))
    }

    /// All of `rel`, refused if it holds more than `max` bytes.
    pub(crate) fn read(&self, rel: &Path, max: u64) -> Result<Vec<u8>> {
        let file = self.open_read(rel)?;
        read_capped(&file, max).map_err(|e| self.error("cannot read", rel, e))
    }

    /// All of `rel` as text, refused if it holds more than `max` bytes or is not UTF-8.
    pub(crate) fn read_text(&self, rel: &Path, max: u64) -> Result<String> {
        String::from_utf8(self.read(rel, max)?).map_err(|_| {
            let e = io::Error::new(io::ErrorKind::InvalidData, "is not valid UTF-8");
            self.error("cannot read", rel, e)
        })
    }

    /// Opens `rel` for writing, creating it with `mode`; an existing file is appended to,
    /// truncated or refused as `existing` says, and only when it is a regular file with no other
    /// name.
    pub(crate) fn open_write(&self, rel: &Path, existing: Existing, mode: u32) -> Result<File> {
        let flags = OFlag::O_WRONLY
            | OFlag::O_CREAT
            | OFlag::O_NONBLOCK
            | match existing {
                Existing::Append => OFlag::O_APPEND,
                Existing::Truncate => OFlag::empty(),
                Existing::Refuse => OFlag::O_EXCL,
            };
        let action = match existing {
            Existing::Append => "cannot append to",
            Existing::Truncate | Existing::Refuse => "cannot write",
        };
        self.open_at(rel, flags, mode)
            .and_then(writable)
            .and_then(|file| {
                if existing == Existing::Truncate {
                    file.set_len(0)?;
                }
                Ok(file)
            })
            .map_err(|e| self.error(action, rel, e))
    }

    /// Gives `file`, created in this directory, to the directory's owner when root created it:
    /// a root step writing a user's file (the step after a round recording an OOM kill) must leave
    /// it as the user's own rounds would, or the user could no longer read its 0640 state.
    pub(crate) fn hand_to_owner(&self, file: &File) -> Result<()> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(());
        }
        let owner = nix::sys::stat::fstat(&self.fd).map_err(io::Error::from);
        owner
            .and_then(|st| {
                nix::unistd::fchown(
                    file,
                    Some(nix::unistd::Uid::from_raw(st.st_uid)),
                    Some(nix::unistd::Gid::from_raw(st.st_gid)),
                )
                .map_err(io::Error::from)
            })
            .map_err(|e| Error::io("cannot give the directory's owner a file in", &self.path, e))
    }

    /// The directory `rel` below this one, reached without following a link.
    pub(crate) fn subdir(&self, rel: &Path) -> Result<Dir> {
        let path = self.path.join(rel);
        self.open_at(rel, OFlag::O_PATH | OFlag::O_DIRECTORY, 0)
            .map(|fd| Dir {
                fd,
                path: path.clone(),
            })
            .map_err(|e| Error::io("cannot open", path, e))
    }

    /// The user id owning this directory.
    pub(crate) fn owner(&self) -> Result<u32> {
        nix::sys::stat::fstat(self.fd.as_fd())
            .map(|st| st.st_uid)
            .map_err(|e| Error::io("cannot inspect", &self.path, e.into()))
    }

    /// Removes the entry `name` of this directory if it is there (a link is removed, not
    /// followed); for temporary files, whose removal is only tidying.
    pub(crate) fn remove(&self, name: &str) {
        let _ = unlinkat(self.fd.as_fd(), name, UnlinkatFlags::NoRemoveDir);
    }

    /// Renames the entry `from` of this directory to `to` (a link is renamed, not followed).
    pub(crate) fn rename(&self, from: &str, to: &str) -> Result<()> {
        renameat(self.fd.as_fd(), from, self.fd.as_fd(), to)
            .map_err(|e| self.error("cannot rename", Path::new(from), e.into()))
    }

    /// The entries of this directory whose name is `wanted` (`.` and `..` left out), each with
    /// what it is when it is not a regular file; a link is listed as a link, never followed. Only
    /// the wanted ones are kept: the agent may fill the directory with anything.
    pub(crate) fn entries(&self, wanted: impl Fn(&OsStr) -> bool) -> Result<Vec<Entry>> {
        let listed = || -> io::Result<Vec<Entry>> {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
            let mut dir = nix::dir::Dir::openat(self.fd.as_fd(), ".", flags, Mode::empty())?;
            let mut entries = Vec::new();
            for entry in dir.iter() {
                let entry = entry?;
                let name = OsStr::from_bytes(entry.file_name().to_bytes());
                if name == "." || name == ".." || !wanted(name) {
                    continue;
                }
                let not_regular = match entry.file_type() {
                    Some(nix::dir::Type::File) => None,
                    // Not every file system says what an entry is while listing.
                    _ => self.stat_kind(name)?,
                };
                entries.push(Entry {
                    name: name.to_os_string(),
                    not_regular,
                });
            }
            Ok(entries)
        };
        listed().map_err(|e| Error::io("cannot list", &self.path, e))
    }

    /// The entry `name` of this directory, `None` when there is none; a link is reported as a
    /// link, never followed.
    pub(crate) fn entry(&self, name: &str) -> Result<Option<Entry>> {
        if name.contains('/') || name == "." || name == ".." {
            let e = io::Error::new(io::ErrorKind::InvalidInput, "is not a file name");
            return Err(self.error("cannot inspect", Path::new(name), e));
        }
        match self.stat_kind(OsStr::new(name)) {
            Ok(not_regular) => Ok(Some(Entry {
                name: name.into(),
                not_regular,
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error("cannot inspect", Path::new(name), e)),
        }
    }

    /// What the entry `name` is when it is not a regular file (a link is not followed).
    fn stat_kind(&self, name: &OsStr) -> io::Result<Option<&'static str>> {
        let stat = fstatat(self.fd.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        let what = match SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG => return Ok(None),
            SFlag::S_IFDIR => "a directory",
            SFlag::S_IFLNK => "a symbolic link",
            SFlag::S_IFIFO => "a FIFO",
            SFlag::S_IFSOCK => "a socket",
            SFlag::S_IFCHR | SFlag::S_IFBLK => "a device",
            _ => "not a regular file",
        };
        Ok(Some(what))
    }

    fn open_at(&self, rel: &Path, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
        open_beneath(self.fd.as_fd(), &self.path, rel, flags, mode)
    }

    fn error(&self, action: &'static str, rel: &Path, e: io::Error) -> Error {
        Error::io(action, self.path.join(rel), e)
    }
}

impl Dir {
    /// The last `max` bytes of `rel`.
    pub(crate) fn tail(&self, rel: &Path, max: u64) -> Result<Tail> {
        let file = self.open_read(rel)?;
        tail(&file, max).map_err(|e| self.error("cannot read", rel, e))
    }

    /// Where the entry `name` of this directory points when it is a symbolic link, read without
    /// following it; `None` when it is missing or no link.
    pub(crate) fn link_target(&self, name: &str) -> Option<PathBuf> {
        readlinkat(self.fd.as_fd(), name).ok().map(PathBuf::from)
    }
}

impl Dir {
    /// Replaces the file `name` of this directory atomically (see [`super::write_atomic`]).
    pub(crate) fn write_atomic(&self, name: &str, contents: &[u8], mode: u32) -> Result<()> {
        replace(self.fd.as_fd(), OsStr::new(name), contents, mode)
            .map_err(|e| self.error("cannot write", Path::new(name), e))
    }
}

/// Opens the directory `path` (see [`Dir::open`] for which link it may be).
fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_symlink()
        && meta.uid() != 0
        && meta.uid() != nix::unistd::geteuid().as_raw()
    {
        return Err(Refusal::SymbolicLink.into());
    }
    Ok(nix::fcntl::open(
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

/// The text of the file at `path`, at most `max` bytes, following no symbolic link at its last
/// component nor anywhere below `agent_dir` when it lies there (a prompt in the work tree, say).
/// Above `agent_dir`, or above the file when it lies elsewhere, the path is the operator's.
pub(crate) fn read_agent_text(path: &Path, agent_dir: &Path, max: u64) -> Result<String> {
    let (dir, rel) = split_below(path, agent_dir);
    Dir::open(dir)
        .map_err(|e| reword(e, dir, path))?
        .read_text(rel, max)
}

/// The last `max` bytes of the file at `path`, reached as [`read_agent_text`] reaches it.
pub(crate) fn tail_agent_file(path: &Path, agent_dir: &Path, max: u64) -> Result<Tail> {
    let (dir, rel) = split_below(path, agent_dir);
    Dir::open(dir)
        .map_err(|e| reword(e, dir, path))?
        .tail(rel, max)
}

/// The directory to hold open and the rest of `path` below it: `agent_dir` when `path` lies
/// below it, else the file's own directory.
fn split_below<'p>(path: &'p Path, agent_dir: &'p Path) -> (&'p Path, &'p Path) {
    if let Ok(rel) = path.strip_prefix(agent_dir)
        && matches!(rel.components().next_back(), Some(Component::Normal(_)))
    {
        return (agent_dir, rel);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    (dir, path.file_name().map_or(path, Path::new))
}

/// An error opening `dir`, told as one about the file `path` read through it.
fn reword(error: Error, dir: &Path, path: &Path) -> Error {
    match error {
        Error::Io { source, .. } if Refusal::of(&source) == Some(&Refusal::SymbolicLink) => {
            Error::io(
                "cannot read",
                path,
                Refusal::LinkOnTheWay(dir.to_path_buf()).into(),
            )
        }
        Error::Io { source, .. } => Error::io("cannot read", path, source),
        other => other,
    }
}

/// Writes `contents` to a temporary file beside `name` in `dir`, fsyncs it and renames it over
/// `name`, then fsyncs `dir`. The temporary file is created new (`O_EXCL`, no link followed), so a
/// link planted under its name redirects nothing; on failure it is removed.
pub(super) fn replace(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    contents: &[u8],
    mode: u32,
) -> io::Result<()> {
    if !matches!(
        Path::new(name).components().collect::<Vec<_>>()[..],
        [Component::Normal(_)]
    ) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is not a file name",
        ));
    }
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = tmp.as_os_str();
    // A temporary file left by a runner that died with this pid, or a link in its place.
    let _ = unlinkat(dir, tmp, UnlinkatFlags::NoRemoveDir);
    let result = (|| -> io::Result<()> {
        let fd = open_beneath(
            dir,
            Path::new("."),
            Path::new(tmp),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
            mode,
        )?;
        let mut file = File::from(fd);
        file.write_all(contents)?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        renameat(dir, tmp, dir, name)?;
        if let Ok(d) = openat(
            dir,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            let _ = File::from(d).sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = unlinkat(dir, tmp, UnlinkatFlags::NoRemoveDir);
    }
    result
}

/// Opens the directory `path` following every link: the operator's directory a file is written
/// into.
pub(super) fn open_dir_following(path: &Path) -> io::Result<OwnedFd> {
    Ok(nix::fcntl::open(
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::symlink;
    use std::time::Duration;

    use super::*;

    fn reason(result: Result<impl std::fmt::Debug>) -> String {
        result.expect_err("refused").to_string()
    }

    /// Runs `f` on another thread and fails the test if it has not returned within five
    /// seconds: a refusal that blocked would otherwise hang the whole test run.
    fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("returned without blocking")
    }

    #[test]
    fn reads_regular_files_below_it() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("rounds")).unwrap();
        std::fs::write(tmp.path().join("rounds/round-1.log"), "hello\nworld\n").unwrap();
        let dir = Dir::open(tmp.path()).unwrap();
        let rel = Path::new("rounds/round-1.log");
        assert_eq!(dir.read(rel, 100).unwrap(), b"hello\nworld\n");
        assert_eq!(dir.read_text(rel, 12).unwrap(), "hello\nworld\n");
        assert_eq!(dir.tail(rel, 6).unwrap().bytes, b"world\n");
        let rounds = dir.subdir(Path::new("rounds")).unwrap();
        assert_eq!(rounds.path(), tmp.path().join("rounds"));
        assert_eq!(rounds.read(Path::new("round-1.log"), 12).unwrap().len(), 12);
    }

    #[test]
    fn refuses_links_fifos_devices_directories_and_oversize_files() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir(t.join("real")).unwrap();
        std::fs::write(t.join("real/state.json"), "{}").unwrap();
        symlink("/etc/passwd", t.join("state.json")).unwrap();
        symlink("real", t.join("linked")).unwrap();
        symlink("/dev/zero", t.join("zero")).unwrap();
        nix::unistd::mkfifo(&t.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        std::fs::write(t.join("big"), vec![b'x'; 1025]).unwrap();
        let dir = Dir::open(t).unwrap();
        let at = |rel: &str| format!("cannot read {}: ", t.join(rel).display());

        let link = reason(dir.read(Path::new("state.json"), super::super::STATE_MAX_BYTES));
        assert_eq!(link, format!("{}is a symbolic link", at("state.json")));
        let middle = reason(dir.read(Path::new("linked/state.json"), 1 << 20));
        let linked = t.join("linked");
        let expected = format!(
            "{}{} is a symbolic link",
            at("linked/state.json"),
            linked.display()
        );
        assert_eq!(middle, expected);
        let zero = reason(dir.read(Path::new("zero"), 1 << 20));
        assert_eq!(zero, format!("{}is a symbolic link", at("zero")));
        let fifo = within_seconds(move || reason(dir.read(Path::new("fifo"), 1 << 20)));
        assert_eq!(fifo, format!("{}is a FIFO, not a regular file", at("fifo")));
        let dir = Dir::open(t).unwrap();
        let directory = reason(dir.read(Path::new("real"), 1 << 20));
        assert_eq!(
            directory,
            format!("{}is a directory, not a regular file", at("real"))
        );
        assert_eq!(
            reason(dir.read(Path::new("big"), 1024)),
            format!("{}is larger than 1 KiB", at("big"))
        );
        assert_eq!(dir.read(Path::new("big"), 1025).unwrap().len(), 1025);
        // The operator's path is followed above the agent's directory, never at the file.
        let device = reason(read_agent_text(Path::new("/dev/zero"), t, 1 << 20));
        assert_eq!(
            device,
            "cannot read /dev/zero: is a device, not a regular file"
        );
    }

    #[test]
    fn never_writes_through_a_link_nor_truncates_one() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::write(t.join("precious"), "keep me").unwrap();
        symlink(t.join("precious"), t.join("round-2.log")).unwrap();
        std::fs::hard_link(t.join("precious"), t.join("round-3.log")).unwrap();
        nix::unistd::mkfifo(&t.join("events.jsonl"), Mode::from_bits_truncate(0o600)).unwrap();
        let dir = Dir::open(t).unwrap();
        for existing in [Existing::Truncate, Existing::Append, Existing::Refuse] {
            let e = reason(dir.open_write(Path::new("round-2.log"), existing, 0o640));
            assert!(
                e.ends_with(": is a symbolic link") || e.contains("exists"),
                "{e}"
            );
        }
        let e = reason(dir.open_write(Path::new("round-3.log"), Existing::Truncate, 0o640));
        assert!(
            e.ends_with("has 2 hard links, one of them elsewhere"),
            "{e}"
        );
        let fifo = within_seconds(move || {
            reason(dir.open_write(Path::new("events.jsonl"), Existing::Append, 0o640))
        });
        assert!(fifo.ends_with("is a FIFO, not a regular file"), "{fifo}");
        assert_eq!(
            std::fs::read_to_string(t.join("precious")).unwrap(),
            "keep me"
        );

        // A planted temporary file is replaced, not written through.
        symlink(
            t.join("precious"),
            t.join(format!(".state.json.tmp.{}", std::process::id())),
        )
        .unwrap();
        let dir = Dir::open(t).unwrap();
        dir.write_atomic("state.json", b"{}", 0o644).unwrap();
        assert_eq!(std::fs::read_to_string(t.join("state.json")).unwrap(), "{}");
        assert_eq!(
            std::fs::read_to_string(t.join("precious")).unwrap(),
            "keep me"
        );
        let mut names: Vec<_> = std::fs::read_dir(t)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "events.jsonl",
                "precious",
                "round-2.log",
                "round-3.log",
                "state.json"
            ]
        );
    }

    #[test]
    fn writes_appends_truncates_and_renames_regular_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::open(tmp.path()).unwrap();
        let log = Path::new("round-1.log");
        dir.open_write(log, Existing::Refuse, 0o640)
            .unwrap()
            .write_all(b"one\n")
            .unwrap();
        assert!(dir.open_write(log, Existing::Refuse, 0o640).is_err());
        dir.open_write(log, Existing::Append, 0o640)
            .unwrap()
            .write_all(b"two\n")
            .unwrap();
        assert_eq!(dir.read_text(log, 100).unwrap(), "one\ntwo\n");
        dir.open_write(log, Existing::Truncate, 0o640)
            .unwrap()
            .write_all(b"three\n")
            .unwrap();
        dir.rename("round-1.log", "round-2.log").unwrap();
        let mut text = String::new();
        dir.open_read(Path::new("round-2.log"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "three\n");
        let mode = std::fs::metadata(tmp.path().join("round-2.log"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn lists_entries_and_says_what_each_is_without_following_links() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir(t.join("elsewhere")).unwrap();
        std::fs::write(t.join("elsewhere/hidden"), "x").unwrap();
        std::fs::write(t.join("file"), "x").unwrap();
        std::fs::create_dir(t.join("sub")).unwrap();
        symlink(t.join("elsewhere"), t.join("link")).unwrap();
        nix::unistd::mkfifo(&t.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        let dir = Dir::open(t).unwrap();
        assert_eq!(dir.entries(|name| name == "fifo").unwrap().len(), 1);
        let mut listed: Vec<(String, Option<&str>)> = dir
            .entries(|_| true)
            .unwrap()
            .into_iter()
            .map(|e| (e.name.into_string().unwrap(), e.not_regular))
            .collect();
        listed.sort();
        let expected = [
            ("elsewhere", Some("a directory")),
            ("fifo", Some("a FIFO")),
            ("file", None),
            ("link", Some("a symbolic link")),
            ("sub", Some("a directory")),
        ];
        assert_eq!(listed, expected.map(|(n, k)| (n.to_string(), k)));
        let entry = |name| dir.entry(name).unwrap().map(|e| e.not_regular);
        assert_eq!(entry("file"), Some(None));
        assert_eq!(entry("link"), Some(Some("a symbolic link")));
        assert_eq!(entry("missing"), None);
        // Only a name of this directory: nothing is looked up through a link below it.
        assert!(dir.entry("link/hidden").is_err());
        assert!(dir.subdir(Path::new("link")).is_err());
    }

    #[test]
    fn a_prompt_below_the_work_tree_follows_no_link_there() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir_all(t.join("work/shared")).unwrap();
        std::fs::write(t.join("work/shared/main.md"), "the prompt").unwrap();
        symlink("shared", t.join("work/prompts")).unwrap();
        let work = t.join("work");
        let direct = read_agent_text(&work.join("shared/main.md"), &work, 100).unwrap();
        assert_eq!(direct, "the prompt");
        let e = reason(read_agent_text(&work.join("prompts/main.md"), &work, 100));
        assert!(
            e.ends_with(&format!(
                "{} is a symbolic link",
                work.join("prompts").display()
            )),
            "{e}"
        );
        // Outside the agent's directory only the last component is the agent's.
        let outside = read_agent_text(
            &t.join("work/prompts/main.md"),
            Path::new("/nonexistent"),
            100,
        );
        assert_eq!(outside.unwrap(), "the prompt");
    }

    #[test]
    fn a_file_root_writes_in_a_users_directory_becomes_the_users() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::open(tmp.path()).unwrap();
        let file = dir
            .open_write(Path::new("mine"), Existing::Refuse, 0o600)
            .unwrap();
        dir.hand_to_owner(&file).unwrap();
        let me = nix::unistd::geteuid().as_raw();
        assert_eq!(file.metadata().unwrap().uid(), me);
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let (user, group) = (65534, 65533);
        nix::unistd::chown(
            tmp.path(),
            Some(nix::unistd::Uid::from_raw(user)),
            Some(nix::unistd::Gid::from_raw(group)),
        )
        .unwrap();
        let file = dir
            .open_write(Path::new("theirs"), Existing::Refuse, 0o600)
            .unwrap();
        dir.hand_to_owner(&file).unwrap();
        let meta = file.metadata().unwrap();
        assert_eq!((meta.uid(), meta.gid()), (user, group));
    }

    #[test]
    fn the_directory_itself_may_be_a_link_only_when_root_or_we_made_it() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir(t.join("private")).unwrap();
        std::fs::write(t.join("private/f"), "x").unwrap();
        symlink("private", t.join("logs")).unwrap();
        assert_eq!(
            Dir::open(&t.join("logs"))
                .unwrap()
                .read(Path::new("f"), 1)
                .unwrap(),
            b"x"
        );
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        // As root, a link another user made (the agent, in a directory it can write) is refused.
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            &t.join("logs"),
            Some(nix::unistd::Uid::from_raw(65534)),
            None,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .unwrap();
        let e = reason(Dir::open(&t.join("logs")));
        assert_eq!(
            e,
            format!(
                "cannot open {}: is a symbolic link",
                t.join("logs").display()
            )
        );
        let e = reason(read_agent_text(&t.join("logs/f"), &t.join("logs"), 1));
        assert!(
            e.ends_with(&format!("{} is a symbolic link", t.join("logs").display())),
            "{e}"
        );
    }

    #[test]
    fn reads_where_a_link_points_without_following_it() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir_all(t.join("real/rounds")).unwrap();
        std::fs::write(t.join("real/rounds/round-1.log"), "x").unwrap();
        symlink("rounds/round-1.log", t.join("real/round-current.log")).unwrap();
        symlink(t.join("real/rounds"), t.join("real/linked")).unwrap();
        let dir = Dir::open(&t.join("real")).unwrap();
        assert_eq!(
            dir.link_target("round-current.log"),
            Some(PathBuf::from("rounds/round-1.log"))
        );
        assert_eq!(dir.link_target("rounds"), None);
        assert_eq!(dir.link_target("missing"), None);
        // A directory reached through a link is refused, and says so.
        let e = reason(dir.subdir(Path::new("linked")));
        assert_eq!(
            e,
            format!(
                "cannot open {}: is a symbolic link",
                t.join("real/linked").display()
            )
        );
    }

    #[test]
    fn the_tail_of_an_agent_file_follows_no_link_below_the_work_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir_all(t.join("work")).unwrap();
        std::fs::write(t.join("work/notes.md"), "one\ntwo\n").unwrap();
        std::fs::write(t.join("secret"), "TOP SECRET").unwrap();
        symlink(t.join("secret"), t.join("work/linked.md")).unwrap();
        let work = t.join("work");
        let tail = tail_agent_file(&work.join("notes.md"), &work, 4).unwrap();
        assert_eq!((tail.bytes.as_slice(), tail.skipped), (&b"two\n"[..], 4));
        let e = reason(tail_agent_file(&work.join("linked.md"), &work, 100));
        assert!(e.ends_with("linked.md: is a symbolic link"), "{e}");
    }
}
