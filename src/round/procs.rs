//! The agent's processes, as /proc shows them: who is in its process group, who descends from the
//! runner (the runner is a child subreaper, so orphans of the agent re-parent to it instead of
//! escaping to PID 1), and signalling all of them.

use std::fs;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use regex::Regex;

/// One process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proc {
    /// Its pid.
    pub pid: i32,
    /// Its parent.
    pub ppid: i32,
    /// Its process group.
    pub pgid: i32,
    /// The state letter (`R`, `S`, `Z`, …).
    pub state: char,
    /// Its command name.
    pub comm: String,
    /// Its command line, arguments joined by spaces.
    pub cmdline: String,
}

impl Proc {
    /// Whether it is still running (not a zombie waiting to be reaped).
    pub(crate) fn live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Parses `/proc/PID/stat`: the comm is in parentheses and may itself contain `)` and spaces.
fn parse_stat(text: &str) -> Option<(i32, String, char, i32, i32)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text.get(open + 1..close)?.to_string();
    let mut rest = text.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let parent = rest.next()?.parse().ok()?;
    let group = rest.next()?.parse().ok()?;
    Some((pid, comm, state, parent, group))
}

fn read(pid: i32) -> Option<Proc> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (pid, comm, state, parent, group) = parse_stat(&stat)?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            let b = b.strip_suffix(b"\0").unwrap_or(&b);
            String::from_utf8_lossy(b).replace('\0', " ")
        })
        .unwrap_or_default();
    Some(Proc {
        pid,
        ppid: parent,
        pgid: group,
        state,
        comm,
        cmdline,
    })
}

/// Every process visible in /proc.
fn all() -> Vec<Proc> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read)
        .collect()
}

/// The round's processes: members of process group `pgid` and every descendant of `root`
/// (the runner itself, excluded).
pub(crate) fn round_members(pgid: i32, root: i32) -> Vec<Proc> {
    let procs = all();
    let mut mine: Vec<i32> = vec![root];
    let mut out: Vec<Proc> = Vec::new();
    // Parents may appear after their children in /proc order: iterate to a fixed point.
    loop {
        let before = mine.len();
        for p in &procs {
            if p.pid != root && !mine.contains(&p.pid) && (p.pgid == pgid || mine.contains(&p.ppid))
            {
                mine.push(p.pid);
                out.push(p.clone());
            }
        }
        if mine.len() == before {
            break;
        }
    }
    out
}

/// A cheap check (two syscalls, no /proc scan) whether the round may still have processes: its
/// group still exists, or the runner still has children (as a subreaper, it inherits every orphan
/// of the agent). `false` is certain; `true` needs [`round_members`] to say who.
pub(crate) fn maybe_alive(pgid: i32) -> bool {
    if killpg(Pid::from_raw(pgid), None).is_ok() {
        return true;
    }
    let tid = std::process::id();
    match fs::read_to_string(format!("/proc/self/task/{tid}/children")) {
        Ok(children) => !children.trim().is_empty(),
        Err(_) => true,
    }
}

/// The live members other than `leader`, split into those that keep a finished round alive and
/// those matching an ignore pattern.
pub(crate) fn live_workers(
    members: &[Proc],
    leader: i32,
    ignore: &[Regex],
) -> (Vec<Proc>, Vec<Proc>) {
    members
        .iter()
        .filter(|p| p.live() && p.pid != leader)
        .cloned()
        .partition(|p| !ignore.iter().any(|re| re.is_match(&p.cmdline)))
}

/// Sends `signal` to the group and to every other member. Returns how many were signalled.
pub(crate) fn signal_all(pgid: i32, root: i32, signal: Signal) -> usize {
    let _ = killpg(Pid::from_raw(pgid), signal);
    let members = round_members(pgid, root);
    for p in &members {
        if p.pgid != pgid && p.live() {
            let _ = kill(Pid::from_raw(p.pid), signal);
        }
    }
    members.iter().filter(|p| p.live()).count()
}

/// The first 20 processes, as events name them.
pub(crate) fn describe(procs: &[Proc]) -> Vec<crate::events::payload::Process> {
    procs
        .iter()
        .take(20)
        .map(|p| crate::events::payload::Process {
            pid: p.pid,
            name: p.comm.clone(),
            cmdline: p.cmdline.chars().take(200).collect(),
        })
        .collect()
}

/// The peak resident set size of this process, in KiB (VmHWM), when /proc tells.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_comm() {
        let s = "1234 (my) (proc x) S 1 1234 1234 0 -1 4194560";
        assert_eq!(
            parse_stat(s),
            Some((1234, "my) (proc x".into(), 'S', 1, 1234))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn sees_itself_and_its_peak() {
        let me = read(std::process::id().try_into().unwrap()).unwrap();
        assert!(me.live());
        assert!(peak_rss_kib().unwrap() > 0);
    }
}
