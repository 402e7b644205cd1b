//! Opening a file below a directory descriptor with no symbolic link followed, and the checks a
//! file the agent can touch passes before it is read or written: a regular file, of bounded size,
//! with no other name to be written through.
//!
//! `openat2(2)` with `RESOLVE_NO_SYMLINKS` resolves the whole relative path in one call (Linux 5.6
//! and later). Where it is missing or filtered out, each component is opened in turn from the one
//! before with `O_NOFOLLOW`, which is as safe and costs one call per component.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat, openat2};
use nix::sys::stat::{Mode, SFlag, fstatat};

/// Why a file was refused rather than read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The file itself is a symbolic link.
    SymbolicLink,
    /// This directory on the way to the file is a symbolic link.
    LinkOnTheWay(PathBuf),
    /// It is not a regular file but this ("a FIFO", "a directory", …).
    NotRegular(&'static str),
    /// It holds more than this many bytes.
    TooLarge(u64),
    /// It has this many names: writing it would change the file behind the others too.
    HardLinked(u64),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::SymbolicLink => write!(f, "is a symbolic link"),
            Refusal::LinkOnTheWay(dir) => write!(f, "{} is a symbolic link", dir.display()),
            Refusal::NotRegular(what) => write!(f, "is {what}, not a regular file"),
            Refusal::TooLarge(max) => write!(f, "is larger than {}", size(*max)),
            Refusal::HardLinked(n) => write!(f, "has {n} hard links, one of them elsewhere"),
        }
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// The refusal carried by an I/O error, when it is one.
    pub(crate) fn of(error: &io::Error) -> Option<&Refusal> {
        error.get_ref()?.downcast_ref()
    }

    /// The refusal behind a crate error, when it is one.
    pub(crate) fn in_error(error: &crate::error::Error) -> Option<&Refusal> {
        Refusal::of(error.io_source()?)
    }
}

impl From<Refusal> for io::Error {
    fn from(refusal: Refusal) -> Self {
        let kind = match refusal {
            Refusal::TooLarge(_) => io::ErrorKind::FileTooLarge,
            Refusal::NotRegular("a directory") => io::ErrorKind::IsADirectory,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, refusal)
    }
}

/// `max` bytes as a person would say it: "1 MiB", "64 KiB", "100 bytes".
pub(crate) fn size(max: u64) -> String {
    match max {
        0 => "0 bytes".into(),
        m if m % (1 << 20) == 0 => format!("{} MiB", m >> 20),
        m if m % (1 << 10) == 0 => format!("{} KiB", m >> 10),
        m => format!("{m} bytes"),
    }
}

/// What a file that is not a regular one is, for a refusal; `None` for a regular file.
pub(crate) fn kind_of(file_type: std::fs::FileType) -> Option<&'static str> {
    let what = if file_type.is_file() {
        return None;
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    };
    Some(what)
}

/// Set once `openat2(2)` answered ENOSYS: every later open walks the components instead.
static OPENAT2_MISSING: AtomicBool = AtomicBool::new(false);

/// Opens `rel` below `dir` (whose path, for messages, is `dir_path`) with `flags`, following no
/// symbolic link on the way or at the end; `mode` applies when `flags` creates the file.
pub(super) fn open_beneath(
    dir: BorrowedFd<'_>,
    dir_path: &Path,
    rel: &Path,
    flags: OFlag,
    mode: u32,
) -> io::Result<OwnedFd> {
    let resolver = if OPENAT2_MISSING.load(Ordering::Relaxed) {
        Resolver::Walk
    } else {
        Resolver::Openat2
    };
    open_beneath_by(resolver, dir, dir_path, rel, flags, mode)
}

/// How a relative path is resolved: tests run every case through both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolver {
    /// `openat2(2)` when the kernel has it, else [`Resolver::Walk`].
    Openat2,
    /// One `openat(2)` per component.
    Walk,
}

pub(super) fn open_beneath_by(
    resolver: Resolver,
    dir: BorrowedFd<'_>,
    dir_path: &Path,
    rel: &Path,
    flags: OFlag,
    mode: u32,
) -> io::Result<OwnedFd> {
    let flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mode = Mode::from_bits_truncate(mode);
    if resolver == Resolver::Openat2 {
        let mut how = OpenHow::new()
            .flags(flags)
            .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS);
        if flags.contains(OFlag::O_CREAT) {
            how = how.mode(mode);
        }
        match openat2(dir, rel, how) {
            Ok(fd) => return Ok(fd),
            Err(Errno::ENOSYS) => OPENAT2_MISSING.store(true, Ordering::Relaxed),
            // A link (ELOOP; ENOTDIR when a directory was asked for with O_PATH, which opens
            // the link itself), a seccomp filter (EPERM) or a FIFO without a reader (ENXIO):
            // the walk below finds out which, and names the link.
            Err(Errno::ELOOP | Errno::ENOTDIR | Errno::EPERM | Errno::ENXIO) => {}
            Err(e) => return Err(e.into()),
        }
    }
    walk(dir, dir_path, rel, flags, mode)
}

/// Opens each directory of `rel` from the one before with `O_NOFOLLOW`, then the file.
fn walk(
    dir: BorrowedFd<'_>,
    dir_path: &Path,
    rel: &Path,
    flags: OFlag,
    mode: Mode,
) -> io::Result<OwnedFd> {
    let mut parts: Vec<Component<'_>> = rel
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let Some(Component::Normal(name)) = parts.pop() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "names no file below its directory",
        ));
    };
    let mut walked = dir_path.to_path_buf();
    let mut held: Option<OwnedFd> = None;
    for part in parts {
        let (Component::Normal(_) | Component::ParentDir) = part else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is not a path below its directory",
            ));
        };
        walked.push(part);
        let here = held.as_ref().map_or(dir, AsFd::as_fd);
        let step = part.as_os_str();
        let next = openat(
            here,
            step,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            explain(here, step.as_ref(), e, || {
                Refusal::LinkOnTheWay(walked.clone())
            })
        })?;
        held = Some(next);
    }
    let here = held.as_ref().map_or(dir, AsFd::as_fd);
    openat(here, name, flags, mode)
        .map_err(|e| explain(here, name.as_ref(), e, || Refusal::SymbolicLink))
}

/// The error of opening `name` in `dir`: a refusal when it is a symbolic link (`link` says which
/// one) or, when opening it could not succeed without a reader or a device, what it is instead.
fn explain(
    dir: BorrowedFd<'_>,
    name: &Path,
    errno: Errno,
    link: impl FnOnce() -> Refusal,
) -> io::Error {
    if !matches!(
        errno,
        Errno::ELOOP | Errno::ENOTDIR | Errno::ENXIO | Errno::ENODEV
    ) {
        return errno.into();
    }
    let Ok(stat) = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
        return errno.into();
    };
    let kind = SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits());
    if kind == SFlag::S_IFLNK {
        link().into()
    } else if kind == SFlag::S_IFIFO && errno == Errno::ENXIO {
        Refusal::NotRegular("a FIFO").into()
    } else if kind == SFlag::S_IFCHR || kind == SFlag::S_IFBLK {
        Refusal::NotRegular("a device").into()
    } else {
        errno.into()
    }
}

/// `fd` as a file, if it is a regular one.
pub(super) fn regular(fd: OwnedFd) -> io::Result<File> {
    let file = File::from(fd);
    match kind_of(file.metadata()?.file_type()) {
        None => Ok(file),
        Some(what) => Err(Refusal::NotRegular(what).into()),
    }
}

/// `file` to be written: a regular file with no other name.
pub(super) fn writable(fd: OwnedFd) -> io::Result<File> {
    let file = regular(fd)?;
    let links = file.metadata()?.nlink();
    if links > 1 {
        return Err(Refusal::HardLinked(links).into());
    }
    Ok(file)
}

/// All of `file`, at most `max` bytes: a larger file, or one that grows past `max` while it is
/// read, is refused rather than cut.
pub(crate) fn read_capped(file: &File, max: u64) -> io::Result<Vec<u8>> {
    let len = file.metadata()?.len();
    if len > max {
        return Err(Refusal::TooLarge(max).into());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Refusal::TooLarge(max).into());
    }
    Ok(bytes)
}

/// The end of a file, read by seeking from its end: the cost does not grow with the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tail {
    /// The last bytes of the file, at most the maximum asked for.
    pub bytes: Vec<u8>,
    /// How many bytes before them were left unread.
    pub skipped: u64,
}

/// The last `max` bytes of `file`.
pub(crate) fn tail(mut file: &File, max: u64) -> io::Result<Tail> {
    let len = file.metadata()?.len();
    let skipped = len.saturating_sub(max);
    file.seek(SeekFrom::Start(skipped))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len - skipped).unwrap_or(0));
    file.take(max).read_to_end(&mut bytes)?;
    Ok(Tail { bytes, skipped })
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    fn both(f: impl Fn(Resolver)) {
        f(Resolver::Openat2);
        f(Resolver::Walk);
    }

    fn open_in(dir: &Path, rel: &str, resolver: Resolver, flags: OFlag) -> io::Result<OwnedFd> {
        let fd = nix::fcntl::open(dir, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        open_beneath_by(resolver, fd.as_fd(), dir, Path::new(rel), flags, 0o600)
    }

    fn refusal(result: io::Result<impl fmt::Debug>) -> Refusal {
        let e = result.expect_err("refused");
        Refusal::of(&e)
            .unwrap_or_else(|| panic!("not a refusal: {e}"))
            .clone()
    }

    #[test]
    fn opens_a_file_below_directories() {
        both(|resolver| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
            std::fs::write(dir.path().join("a/b/f"), "text").unwrap();
            let fd = open_in(dir.path(), "a/./b/../b/f", resolver, OFlag::O_RDONLY).unwrap();
            assert_eq!(read_capped(&regular(fd).unwrap(), 4).unwrap(), b"text");
        });
    }

    #[test]
    fn refuses_a_link_at_the_end_and_on_the_way() {
        both(|resolver| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("real")).unwrap();
            std::fs::write(dir.path().join("real/f"), "secret").unwrap();
            std::os::unix::fs::symlink("real/f", dir.path().join("f")).unwrap();
            std::os::unix::fs::symlink("real", dir.path().join("via")).unwrap();
            let at_end = refusal(open_in(dir.path(), "f", resolver, OFlag::O_RDONLY));
            assert_eq!(at_end, Refusal::SymbolicLink, "{resolver:?}");
            let on_the_way = refusal(open_in(dir.path(), "via/f", resolver, OFlag::O_RDONLY));
            assert_eq!(
                on_the_way,
                Refusal::LinkOnTheWay(dir.path().join("via")),
                "{resolver:?}"
            );
            assert_eq!(
                on_the_way.to_string(),
                format!("{}/via is a symbolic link", dir.path().display())
            );
            let dir_link = OFlag::O_PATH | OFlag::O_DIRECTORY;
            let a_directory = refusal(open_in(dir.path(), "via", resolver, dir_link));
            assert_eq!(a_directory, Refusal::SymbolicLink, "{resolver:?}");
            let not_a_directory = open_in(dir.path(), "real/f", resolver, dir_link).unwrap_err();
            assert_eq!(
                not_a_directory.raw_os_error(),
                Some(Errno::ENOTDIR as i32),
                "{resolver:?}"
            );
        });
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_peer() {
        both(|resolver| {
            let dir = tempfile::tempdir().unwrap();
            nix::unistd::mkfifo(&dir.path().join("p"), Mode::from_bits_truncate(0o600)).unwrap();
            let read = OFlag::O_RDONLY | OFlag::O_NONBLOCK;
            let opened = open_in(dir.path(), "p", resolver, read).unwrap();
            assert_eq!(refusal(regular(opened)), Refusal::NotRegular("a FIFO"));
            let write = OFlag::O_WRONLY | OFlag::O_NONBLOCK;
            let written = refusal(open_in(dir.path(), "p", resolver, write));
            assert_eq!(written, Refusal::NotRegular("a FIFO"), "{resolver:?}");
            assert_eq!(written.to_string(), "is a FIFO, not a regular file");
        });
    }

    #[test]
    fn sizes_read_as_a_person_says_them() {
        assert_eq!(size(1 << 20), "1 MiB");
        assert_eq!(size(64 << 10), "64 KiB");
        assert_eq!(size(100), "100 bytes");
        assert_eq!(
            Refusal::TooLarge(1 << 20).to_string(),
            "is larger than 1 MiB"
        );
    }

    #[test]
    fn a_tail_is_read_from_the_end() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("log"), "0123456789").unwrap();
        let file = File::open(dir.path().join("log")).unwrap();
        let end = tail(&file, 4).unwrap();
        assert_eq!((end.bytes.as_slice(), end.skipped), (&b"6789"[..], 6));
        let all = tail(&file, 100).unwrap();
        assert_eq!((all.bytes.len(), all.skipped), (10, 0));
    }
}
