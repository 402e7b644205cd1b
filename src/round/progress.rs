//! What a round changed, as git sees it: the commit HEAD names, a content hash of the work tree
//! (a git tree id of every tracked and untracked, non-ignored file, so that an agent that never
//! commits still shows its work), the commits since the last round and the size of the change.
//!
//! The round asks git as the user it runs as, the agent's (as `vcs` does), never as root: the
//! after-round step that runs as root only reads the state. The work tree and its `.git` are the
//! agent's, so git runs with the repository's code-running settings overridden (no fsmonitor, no
//! hooks), refuses a repository another user owns when the round runs as root, and its answers
//! are treated as hostile: every command is bounded in time and output, and every answer must
//! parse exactly or the measure fails.
//!
//! The tree hash costs two git commands and no copy of the tree: the real index is copied into a
//! scratch index (its stat data spares rehashing unchanged files), `git add -A` brings the
//! scratch index up to the work tree and `git write-tree` names it. The blobs this writes are
//! unreferenced objects that git's own garbage collection removes, as it does a stash's.

use nix::sys::signalfd::SignalFd;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::bounded::{self, Bounds};
use super::brakes::Mark;
use crate::config::{PROGRESS_LIMIT_S, Project};

/// The most of a git answer that is read: ids, counts and one path are far shorter.
const ANSWER_MAX: usize = 64 * 1024;
/// The largest index copied for its stat data; a larger one is left out (the scratch index then
/// starts empty and git hashes every file, which is slower but gives the same tree).
const INDEX_COPY_MAX: u64 = 256 * 1024 * 1024;

/// What changed since a mark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Change {
    /// Commits between the mark's HEAD and this one; `None` when git could not count them (a
    /// rewritten history).
    pub commits: Option<u64>,
    /// Files whose content differs.
    pub files_changed: u64,
    /// Lines added.
    pub insertions: u64,
    /// Lines removed.
    pub deletions: u64,
}

/// Git in the work tree, bounded by one deadline for all of its commands.
pub(crate) struct Git<'a> {
    project: &'a Project,
    state_dir: &'a Path,
    deadline: Instant,
    stop: Option<&'a SignalFd>,
}

impl<'a> Git<'a> {
    /// Git for `project`'s work tree, giving up after [`PROGRESS_LIMIT_S`] or at a stop.
    pub(crate) fn new(
        project: &'a Project,
        state_dir: &'a Path,
        stop: Option<&'a SignalFd>,
    ) -> Self {
        Self {
            project,
            state_dir,
            deadline: Instant::now() + Duration::from_secs(PROGRESS_LIMIT_S),
            stop,
        }
    }

    /// Where the work tree stands now.
    pub(crate) fn mark(&self) -> Result<Mark, String> {
        let head = self.head()?;
        let tree = self.tree()?;
        Ok(Mark { head, tree })
    }

    /// What changed between `from` and `to`.
    pub(crate) fn change(&self, from: &Mark, to: &Mark) -> Result<Change, String> {
        let commits = match (&from.head, &to.head) {
            (Some(a), Some(b)) if a == b => Some(0),
            (Some(a), Some(b)) => self
                .answer(&["rev-list", "--count", &format!("{a}..{b}")], None)
                .ok()
                .and_then(|out| number(&out)),
            (None, Some(b)) => self
                .answer(&["rev-list", "--count", b], None)
                .ok()
                .and_then(|out| number(&out)),
            (_, None) => Some(0),
        };
        let mut change = Change {
            commits,
            ..Change::default()
        };
        if from.tree != to.tree {
            let stat = self.answer(
                &[
                    "diff-tree",
                    "-r",
                    "--no-renames",
                    "--shortstat",
                    &from.tree,
                    &to.tree,
                ],
                None,
            )?;
            (change.files_changed, change.insertions, change.deletions) = shortstat(&stat)
                .ok_or_else(|| format!("git diff-tree: unexpected answer {:?}", clip(&stat)))?;
        }
        Ok(change)
    }

    fn head(&self) -> Result<Option<String>, String> {
        match self.answer(&["rev-parse", "-q", "--verify", "HEAD^{commit}"], None) {
            Ok(out) => object_id(&out)
                .map(Some)
                .ok_or_else(|| format!("git rev-parse HEAD: unexpected answer {:?}", clip(&out))),
            // No commit yet: the tree alone tells the change.
            Err(_) if self.unborn()? => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether HEAD names a branch without commits (a fresh repository).
    fn unborn(&self) -> Result<bool, String> {
        let out = self.answer(&["symbolic-ref", "-q", "HEAD"], None)?;
        Ok(out.trim_end().starts_with("refs/heads/"))
    }

    /// The tree id of every tracked and untracked, non-ignored file, the project's own files
    /// (config, prompts, logs, state, `vcs.protect`) as the index has them.
    fn tree(&self) -> Result<String, String> {
        let answer = self.answer(
            &["rev-parse", "--show-toplevel", "--git-path", "index"],
            None,
        )?;
        let mut lines = answer.lines();
        let (Some(top), Some(index), None) = (lines.next(), lines.next(), lines.next()) else {
            return Err(format!(
                "git rev-parse: unexpected answer {:?}",
                clip(&answer)
            ));
        };
        let scratch = Scratch::new()?;
        let scratch_index = scratch.0.join("index");
        copy_index(&self.project.runtime.work_dir.join(index), &scratch_index);
        let top = super::vcs::canonical(Path::new(top));
        let specs = super::vcs::pathspecs(self.project, &top, self.state_dir);
        let mut add = vec!["add", "-A", "--ignore-errors", "--"];
        add.extend(specs.iter().map(String::as_str));
        self.answer(&add, Some(&scratch_index))?;
        let out = self.answer(&["write-tree"], Some(&scratch_index))?;
        object_id(&out).ok_or_else(|| format!("git write-tree: unexpected answer {:?}", clip(&out)))
    }

    /// Runs git with `args`, its standard output when it succeeds.
    fn answer(&self, args: &[&str], index: Option<&Path>) -> Result<String, String> {
        let ran = bounded::run(
            self.command(args, index),
            Bounds {
                deadline: self.deadline,
                keep: ANSWER_MAX,
                merge_stderr: false,
                stop: self.stop,
            },
        )
        .map_err(|e| format!("cannot run git: {e}"))?;
        let what = args.first().copied().unwrap_or_default();
        if ran.timed_out {
            return Err(format!("git {what}: no answer within {PROGRESS_LIMIT_S}s"));
        }
        if ran.stopped {
            return Err(format!("git {what}: the round was told to stop"));
        }
        if !ran.succeeded() {
            let err = String::from_utf8_lossy(&ran.errors);
            let first = err
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed");
            return Err(format!("git {what}: {}", clip(first.trim())));
        }
        if ran.dropped > 0 {
            return Err(format!("git {what}: answer longer than {ANSWER_MAX} bytes"));
        }
        String::from_utf8(ran.output).map_err(|_| format!("git {what}: answer is not UTF-8"))
    }

    fn command(&self, args: &[&str], index: Option<&Path>) -> Command {
        let mut cmd = Command::new("git");
        // What the repository's own config could make git run is switched off: the agent writes
        // `.git/config`. Hooks do not run for these commands; the empty hooks path makes sure.
        cmd.args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
        ]);
        if nix::unistd::geteuid().is_root() {
            // Root inspects only a repository root owns: the empty value drops any
            // `safe.directory` exception, so git's own ownership check applies.
            cmd.args(["-c", "safe.directory="]);
        }
        cmd.args(args)
            .current_dir(&self.project.runtime.work_dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            // The answers are parsed: git must not translate them.
            .env("LC_ALL", "C")
            .env("LANGUAGE", "C");
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_CONFIG_PARAMETERS",
        ] {
            cmd.env_remove(var);
        }
        if let Some(index) = index {
            cmd.env("GIT_INDEX_FILE", index);
        }
        cmd
    }
}

/// A private directory for the scratch index, removed with what is in it.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Self, String> {
        nix::unistd::mkdtemp(&std::env::temp_dir().join("agent-runner-progress.XXXXXX"))
            .map(Scratch)
            .map_err(|e| format!("cannot create a scratch directory: {e}"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the real index into the scratch one, when it is a regular file of a sane size: never
/// through a link, never waiting on a FIFO. Without it the scratch index starts empty.
fn copy_index(from: &Path, to: &Path) {
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(from);
    let Ok(file) = opened else { return };
    if !file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() <= INDEX_COPY_MAX)
    {
        return;
    }
    let Ok(mut out) = std::fs::File::create(to) else {
        return;
    };
    let copied = std::io::copy(&mut file.take(INDEX_COPY_MAX), &mut out);
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
}

/// A full object id (40 or 64 lowercase hex digits) alone on its line.
fn object_id(out: &str) -> Option<String> {
    let id = out.strip_suffix('\n')?;
    let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    (matches!(id.len(), 40 | 64) && id.chars().all(hex)).then(|| id.to_string())
}

/// A count alone on its line.
fn number(out: &str) -> Option<u64> {
    let n = out.strip_suffix('\n')?;
    if n.is_empty() || n.len() > 19 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// `git diff --shortstat`: " 3 files changed, 10 insertions(+), 2 deletions(-)", either count
/// left out when it is zero; an empty answer is no change.
fn shortstat(out: &str) -> Option<(u64, u64, u64)> {
    if out.is_empty() {
        return Some((0, 0, 0));
    }
    let line = out.strip_prefix(' ')?.strip_suffix('\n')?;
    let mut parts = line.split(", ");
    let files = counted(parts.next()?, &["file changed", "files changed"])?;
    let (mut insertions, mut deletions) = (0, 0);
    for part in parts {
        if let Some(n) = counted(part, &["insertion(+)", "insertions(+)"]) {
            insertions = n;
        } else {
            deletions = counted(part, &["deletion(-)", "deletions(-)"])?;
        }
    }
    Some((files, insertions, deletions))
}

/// "12 files changed" with one of `words` after the number.
fn counted(part: &str, words: &[&str]) -> Option<u64> {
    let (n, rest) = part.split_once(' ')?;
    if !words.contains(&rest) {
        return None;
    }
    number(&format!("{n}\n"))
}

/// At most 200 characters of `text`, for an error message.
fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_exactly_or_not_at_all() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(object_id(&format!("{id}\n")).as_deref(), Some(id));
        for bad in [
            id.to_string(),
            format!("{id}\n\n"),
            format!("{id}x\n"),
            format!("{}\n", id.to_uppercase()),
        ] {
            assert_eq!(object_id(&bad), None, "{bad:?}");
        }
        assert_eq!(number("12\n"), Some(12));
        for bad in ["", "12", "-1\n", "1 2\n", "99999999999999999999\n"] {
            assert_eq!(number(bad), None, "{bad:?}");
        }
        assert_eq!(shortstat(""), Some((0, 0, 0)));
        assert_eq!(
            shortstat(" 3 files changed, 10 insertions(+), 2 deletions(-)\n"),
            Some((3, 10, 2))
        );
        assert_eq!(
            shortstat(" 1 file changed, 1 deletion(-)\n"),
            Some((1, 0, 1))
        );
        assert_eq!(shortstat(" 1 file changed\n"), Some((1, 0, 0)));
        for bad in [
            "3 files changed\n",
            " 3 files changed, 2 bananas\n",
            " 3 Dateien geändert\n",
            " 3 files changed, 2 insertions(+)",
        ] {
            assert_eq!(shortstat(bad), None, "{bad:?}");
        }
    }
}
