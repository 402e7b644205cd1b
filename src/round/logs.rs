//! The round's files in log_dir: `rounds/round-N.log` (the agent's output, as it came, written
//! through a [`LogWriter`]), the `round-current.log` link to the newest one, and their retention.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::sys::signal::Signal;

use super::mask::Masker;
use super::procs;
use super::recover::{is_log_name, log_name, round_of};
use super::setup::Dirs;
use crate::error::Result;
use crate::fsutil::{Dir, Existing};

/// Creates round `round`'s log and points `round-current.log` at it. If the log cannot be created
/// the agent (`agent_pid`, already running) is killed: it must not outlive this failure.
///
/// The agent can write in rounds/: the log is reached from the log directory with no link
/// followed (neither `rounds` nor the log itself), and it must be new. The round number was
/// chosen so that its log's name was free; whatever holds the name now was put there during this
/// round, and an earlier round's log is never written again.
pub(crate) fn create(
    dirs: &Dirs,
    round: u64,
    agent_pid: i32,
    runner_pid: u32,
) -> Result<(File, PathBuf)> {
    open(dirs, round, runner_pid).inspect_err(|_| {
        procs::signal_all(
            agent_pid,
            i32::try_from(runner_pid).unwrap_or(0),
            Signal::SIGKILL,
        );
    })
}

/// Creates round `round`'s log (as [`create`] does) before anything runs: the `pre_round` hooks'
/// output goes there.
pub(crate) fn open(dirs: &Dirs, round: u64, runner_pid: u32) -> Result<(File, PathBuf)> {
    let name = log_name(round);
    let log = rounds_dir(&dirs.log)
        .and_then(|rounds| rounds.open_write(Path::new(&name), Existing::Refuse, 0o640))?;
    let path = dirs.rounds.join(name);
    link_current(&dirs.log, round, runner_pid);
    Ok((log, path))
}

/// `log_dir/rounds`, reached with no link followed.
fn rounds_dir(log_dir: &Path) -> Result<Dir> {
    Dir::open(log_dir).and_then(|log| log.subdir(Path::new("rounds")))
}

/// Points `round-current.log` at round `round`'s log (relative link, replaced atomically).
fn link_current(log_dir: &Path, round: u64, runner_pid: u32) {
    let link = log_dir.join("round-current.log");
    let tmp = log_dir.join(format!(".round-current.log.{runner_pid}"));
    let _ = fs::remove_file(&tmp);
    let target = format!("rounds/{}", log_name(round));
    if std::os::unix::fs::symlink(&target, &tmp).is_ok() && fs::rename(&tmp, &link).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// The round log as the agent's output reaches it: credential values masked on the way, and the
/// first write that failed remembered. A failed write (a full disk) does not end the round — the
/// agent's work matters more than its log — but the round says its log is incomplete.
pub(crate) struct LogWriter<'a> {
    out: &'a mut dyn Write,
    masker: Option<Masker>,
    masked: Vec<u8>,
    error: Option<String>,
}

impl<'a> LogWriter<'a> {
    /// A writer into `out` masking `secrets` (none: the log is the raw output).
    pub(crate) fn new(out: &'a mut dyn Write, secrets: Vec<Vec<u8>>) -> Self {
        Self {
            out,
            masker: Masker::new(secrets),
            masked: Vec::new(),
            error: None,
        }
    }

    /// Writes one chunk of output.
    pub(crate) fn write(&mut self, chunk: &[u8]) {
        let written = match &mut self.masker {
            None => self.out.write_all(chunk),
            Some(m) => {
                m.filter(chunk, &mut self.masked);
                self.out.write_all(&self.masked)
            }
        };
        self.failed(written);
    }

    /// Writes what the masker held back and flushes; returns why the log is incomplete, if it is.
    pub(crate) fn finish(&mut self) -> Option<String> {
        if let Some(m) = &self.masker {
            let rest = self.out.write_all(m.rest());
            self.failed(rest);
        }
        let flushed = self.out.flush();
        self.failed(flushed);
        self.error.clone()
    }

    fn failed(&mut self, written: std::io::Result<()>) {
        if let Err(e) = written
            && self.error.is_none()
        {
            self.error = Some(e.to_string());
        }
    }
}

/// Keeps the newest `keep` round logs in `log_dir/rounds`; never removes the current one. Only
/// regular files named as round logs are removed, and no link is followed (`rounds` itself
/// included): the agent can write there.
pub(crate) fn prune(log_dir: &Path, current: u64, keep: u32) {
    let Ok(rounds) = rounds_dir(log_dir) else {
        return;
    };
    let Ok(entries) = rounds.entries(is_log_name) else {
        return;
    };
    let mut numbers: Vec<u64> = entries
        .iter()
        .filter(|e| e.not_regular.is_none())
        .filter_map(|e| round_of(e.name.to_str()?))
        .collect();
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    for n in numbers.into_iter().skip(keep as usize) {
        if n != current {
            rounds.remove(&log_name(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::os::unix::process::CommandExt;

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_round_log_name_already_taken_is_never_written_and_the_agent_ends() {
        let log = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            log: log.path().to_path_buf(),
            rounds: log.path().join("rounds"),
            state: log.path().join("state"),
        };
        fs::create_dir(&dirs.rounds).unwrap();
        fs::write(
            dirs.rounds.join("round-5.log"),
            "an earlier round's output\n",
        )
        .unwrap();
        // The agent, in a process group of its own; as its own root nothing else is signalled.
        let mut agent = std::process::Command::new("sleep")
            .arg("60")
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = agent.id();
        let e = create(&dirs, 5, i32::try_from(pid).unwrap(), pid).unwrap_err();
        assert!(e.to_string().contains("round-5.log"), "{e}");
        assert_eq!(
            fs::read_to_string(dirs.rounds.join("round-5.log")).unwrap(),
            "an earlier round's output\n"
        );
        let status = agent.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        let (_, path) = create(&dirs, 6, i32::MAX, pid).unwrap();
        assert_eq!(path, dirs.rounds.join("round-6.log"));
    }

    #[test]
    fn prune_keeps_newest_and_current() {
        let log = tempfile::tempdir().unwrap();
        let dir = log.path().join("rounds");
        fs::create_dir(&dir).unwrap();
        for n in 1..=6 {
            fs::write(dir.join(format!("round-{n}.log")), "x").unwrap();
        }
        fs::write(dir.join("other.txt"), "x").unwrap();
        prune(log.path(), 2, 3);
        assert_eq!(
            names(&dir),
            [
                "other.txt",
                "round-2.log",
                "round-4.log",
                "round-5.log",
                "round-6.log"
            ]
        );
    }

    #[test]
    fn prune_follows_no_link_and_removes_only_round_logs() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("elsewhere")).unwrap();
        for n in 1..=4 {
            fs::write(t.join(format!("elsewhere/round-{n}.log")), "x").unwrap();
        }
        fs::create_dir(t.join("log")).unwrap();
        std::os::unix::fs::symlink(t.join("elsewhere"), t.join("log/rounds")).unwrap();
        prune(&t.join("log"), 9, 1);
        assert_eq!(
            names(&t.join("elsewhere")).len(),
            4,
            "pruned through a link"
        );

        // In a real rounds/: a link, a directory and an odd name are left, whatever their number.
        fs::create_dir(t.join("own")).unwrap();
        let rounds = t.join("own/rounds");
        fs::create_dir(&rounds).unwrap();
        for n in [1, 2, 3] {
            fs::write(rounds.join(format!("round-{n}.log")), "x").unwrap();
        }
        std::os::unix::fs::symlink(t.join("elsewhere/round-1.log"), rounds.join("round-0.log"))
            .unwrap();
        std::os::unix::fs::symlink(t.join("elsewhere/round-2.log"), rounds.join("round-4.log"))
            .unwrap();
        fs::create_dir(rounds.join("round-5.log")).unwrap();
        fs::write(rounds.join("round-01.log"), "x").unwrap();
        prune(&t.join("own"), 3, 1);
        assert_eq!(
            names(&rounds),
            [
                "round-0.log",
                "round-01.log",
                "round-3.log",
                "round-4.log",
                "round-5.log"
            ]
        );
        assert_eq!(names(&t.join("elsewhere")).len(), 4);
    }

    /// Takes `room` bytes, then fails as a full disk does.
    struct FullDisk {
        kept: Vec<u8>,
        room: usize,
    }

    impl Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.room - self.kept.len());
            if n == 0 {
                return Err(io::Error::from_raw_os_error(nix::libc::ENOSPC));
            }
            self.kept.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_that_missed_a_write_says_why_and_takes_the_rest() {
        let mut disk = FullDisk {
            kept: Vec::new(),
            room: 10,
        };
        let mut log = LogWriter::new(&mut disk, Vec::new());
        log.write(b"0123456");
        log.write(b"789abc");
        log.write(b"more");
        let error = log.finish().expect("incomplete");
        assert!(error.starts_with("No space left on device"), "{error}");
        assert_eq!(disk.kept, b"0123456789");

        let mut out = Vec::new();
        let mut log = LogWriter::new(&mut out, vec![b"hunter2-secret".to_vec()]);
        log.write(b"key=hunter2-se");
        log.write(b"cret done");
        assert_eq!(log.finish(), None);
        assert_eq!(out, b"key=[REDACTED] done");
    }

    #[test]
    fn the_held_back_tail_that_cannot_be_written_makes_the_log_incomplete() {
        let mut disk = FullDisk {
            kept: Vec::new(),
            room: 4,
        };
        let mut log = LogWriter::new(&mut disk, vec![b"abcdefgh".to_vec()]);
        log.write(b"12345");
        assert!(log.finish().is_some());
    }
}
