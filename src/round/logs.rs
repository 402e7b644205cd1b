//! The round's files in log_dir: `rounds/round-N.log` (the agent's output, as it came), the
//! `round-current.log` link to the newest one, and their retention.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use nix::sys::signal::Signal;

use super::procs;
use super::setup::Dirs;
use crate::error::Result;
use crate::fsutil::{Dir, Existing};

/// Creates round `round`'s log and points `round-current.log` at it. If the log cannot be created
/// the agent (`agent_pid`, already running) is killed: it must not outlive this failure.
///
/// The agent can write in rounds/: the log is reached from the log directory with no link
/// followed (neither `rounds` nor the log itself), and an existing one is emptied only when it is
/// a regular file with no other name, so a link planted there never gets its target truncated.
pub(crate) fn create(
    dirs: &Dirs,
    round: u64,
    agent_pid: i32,
    runner_pid: u32,
) -> Result<(File, PathBuf)> {
    let name = format!("round-{round}.log");
    let log = Dir::open(&dirs.log)
        .and_then(|log_dir| log_dir.subdir(Path::new("rounds")))
        .and_then(|rounds| rounds.open_write(Path::new(&name), Existing::Truncate, 0o640))
        .inspect_err(|_| {
            procs::signal_all(
                agent_pid,
                i32::try_from(runner_pid).unwrap_or(0),
                Signal::SIGKILL,
            );
        })?;
    let path = dirs.rounds.join(name);
    link_current(&dirs.log, round, runner_pid);
    Ok((log, path))
}

/// Points `round-current.log` at round `round`'s log (relative link, replaced atomically).
fn link_current(log_dir: &Path, round: u64, runner_pid: u32) {
    let link = log_dir.join("round-current.log");
    let tmp = log_dir.join(format!(".round-current.log.{runner_pid}"));
    let _ = fs::remove_file(&tmp);
    let target = format!("rounds/round-{round}.log");
    if std::os::unix::fs::symlink(&target, &tmp).is_ok() && fs::rename(&tmp, &link).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// Keeps the newest `keep` round logs; never removes the current one.
pub(crate) fn prune(rounds_dir: &Path, current: u64, keep: u32) {
    let Ok(entries) = fs::read_dir(rounds_dir) else {
        return;
    };
    let mut numbers: Vec<u64> = entries
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            name.strip_prefix("round-")?
                .strip_suffix(".log")?
                .parse()
                .ok()
        })
        .collect();
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    for n in numbers.into_iter().skip(keep as usize) {
        if n != current {
            let _ = fs::remove_file(rounds_dir.join(format!("round-{n}.log")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_newest_and_current() {
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=6 {
            fs::write(dir.path().join(format!("round-{n}.log")), "x").unwrap();
        }
        fs::write(dir.path().join("other.txt"), "x").unwrap();
        prune(dir.path(), 2, 3);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "other.txt",
                "round-2.log",
                "round-4.log",
                "round-5.log",
                "round-6.log"
            ]
        );
    }
}
