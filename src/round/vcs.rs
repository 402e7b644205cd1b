//! What the agent left in the work tree, after its run and before the verdict: detect it, then
//! ignore, stash or commit it — never touching the project's own config and prompt files, its
//! log_dir or `vcs.protect` paths, which are excluded by pathspec from every git command (the seed
//! system's default stash swept an operator's uncommitted config edit away).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::launch::Round;
use crate::config::{DirtyAction, Project};
use crate::events::Event;
use crate::events::payload::{DirtyActionFailed, DirtyCommitted, DirtyDetected, DirtyStashed};

/// What the VCS step did, as events to emit (message, event) and a stash SHA.
#[derive(Debug, Default)]
pub(crate) struct AfterRound {
    /// Events to emit, in order.
    pub events: Vec<(String, Event)>,
    /// The stash commit created, if any.
    pub stash: Option<String>,
}

impl AfterRound {
    /// Whether the step stashed or committed: the work tree or HEAD moved.
    pub(crate) fn acted(&self) -> bool {
        self.events
            .iter()
            .any(|(_, e)| matches!(e, Event::DirtyStashed(_) | Event::DirtyCommitted(_)))
    }

    /// Records that git `step` failed.
    fn failed(&mut self, round: u64, step: &str, reason: String) {
        self.events.push((
            format!("round {round}: {step} failed: {reason}"),
            DirtyActionFailed {
                step: step.into(),
                reason,
            }
            .into(),
        ));
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed");
        Err(format!(
            "git {}: {}",
            args.first().unwrap_or(&""),
            first.trim()
        ))
    }
}

/// Canonical form of a path that may not exist yet (its parent is canonicalised).
pub(super) fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => canonical(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// `:/` plus one top-relative literal exclude per protected path inside the repository.
pub(super) fn pathspecs(project: &Project, top: &Path, state_dir: &Path) -> Vec<String> {
    let mut specs = vec![":/".to_string()];
    let mut protected = vec![
        project.source.clone(),
        project.runtime.log_dir.clone(),
        state_dir.to_path_buf(),
    ];
    protected.extend(project.vcs.protect.iter().cloned());
    // Prompts are the operator's, like the TOML: an edit in progress must not be swept away.
    protected.extend(project.prompt.files.iter().cloned());
    protected.extend(
        project
            .phases
            .iter()
            .flat_map(|ph| ph.prompt.files.iter().cloned()),
    );
    for p in protected {
        if let Ok(rel) = canonical(&p).strip_prefix(top) {
            let rel = rel.to_string_lossy();
            if rel.is_empty() {
                continue; // the whole repository cannot be protected from itself
            }
            specs.push(format!(":(top,exclude,literal){rel}"));
        }
    }
    specs
}

/// Files `git status` lists for `specs`.
fn dirty_files(dir: &Path, specs: &[String]) -> Result<Vec<String>, String> {
    let mut args = vec![
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--",
    ];
    args.extend(specs.iter().map(String::as_str));
    let out = git(dir, &args)?;
    let mut files = Vec::new();
    let mut entries = out.split('\0').filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        if entry.len() < 4 {
            continue;
        }
        let (xy, path) = entry.split_at(3);
        files.push(path.to_string());
        if xy.starts_with('R') || xy.starts_with('C') {
            entries.next(); // the original path of a rename or copy
        }
    }
    Ok(files)
}

/// Runs the project's dirty_action after `round`. `state_dir` is never touched either (it may lie
/// in the work tree).
pub(crate) fn after_round(project: &Project, round: &Round<'_>, state_dir: &Path) -> AfterRound {
    let (phase, round) = (round.phase, round.number);
    let mut out = AfterRound::default();
    let dir = &project.runtime.work_dir;
    let action = project.vcs.dirty_action;
    if action == DirtyAction::Ignore {
        // Nothing will be done about it, so git is not even asked (it costs a process per round).
        return out;
    }
    let (specs, files) = match dirty(project, dir, state_dir) {
        Ok(found) => found,
        Err(e) => {
            out.failed(round, "status", e);
            return out;
        }
    };
    if files.is_empty() {
        return out;
    }
    let action_name = if action == DirtyAction::Stash {
        "stash"
    } else {
        "commit"
    };
    out.events.push((
        format!(
            "round {round} left {} uncommitted file{} (dirty_action = {action_name})",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ),
        DirtyDetected {
            files: files.iter().take(20).cloned().collect(),
            count: files.len(),
            action: action_name.into(),
        }
        .into(),
    ));
    let label = match phase {
        Some(p) => format!("agent-runner round {round} phase {p}"),
        None => format!("agent-runner round {round}"),
    };
    let spec_args: Vec<&str> = specs.iter().map(String::as_str).collect();
    match action {
        DirtyAction::Ignore => {}
        DirtyAction::Stash => stash(dir, &label, &spec_args, files.len(), round, &mut out),
        DirtyAction::Commit => commit(dir, &label, &spec_args, files.len(), round, &mut out),
    }
    out
}

/// The pathspecs that leave the protected paths out, and the files `git status` lists for them.
fn dirty(
    project: &Project,
    dir: &Path,
    state_dir: &Path,
) -> Result<(Vec<String>, Vec<String>), String> {
    let top = canonical(Path::new(
        git(dir, &["rev-parse", "--show-toplevel"])?.trim(),
    ));
    let specs = pathspecs(project, &top, state_dir);
    let files = dirty_files(dir, &specs)?;
    Ok((specs, files))
}

/// `git stash push` of the `specs` paths, recording the new stash commit's SHA.
fn stash(dir: &Path, label: &str, specs: &[&str], count: usize, round: u64, out: &mut AfterRound) {
    let before = git(dir, &["rev-parse", "-q", "--verify", "refs/stash"]).unwrap_or_default();
    let mut args = vec!["stash", "push", "--include-untracked", "-m", label, "--"];
    args.extend(specs);
    if let Err(e) = git(dir, &args) {
        out.failed(round, "stash", e);
        return;
    }
    let after = git(dir, &["rev-parse", "-q", "--verify", "refs/stash"])
        .unwrap_or_default()
        .trim()
        .to_string();
    if after.is_empty() || after == before.trim() {
        out.failed(round, "stash", "git created no stash".into());
        return;
    }
    out.events.push((
        format!("round {round}: stashed {count} file(s) as {after}"),
        DirtyStashed {
            sha: after.clone(),
            count,
        }
        .into(),
    ));
    out.stash = Some(after);
}

/// `git add` + `git commit` of the `specs` paths only (an operator's staged edits elsewhere stay
/// staged), under a stand-in identity when the repository has none.
fn commit(dir: &Path, label: &str, specs: &[&str], count: usize, round: u64, out: &mut AfterRound) {
    let mut add = vec!["add", "-A", "--"];
    add.extend(specs);
    let identity_missing =
        git(dir, &["config", "user.email"]).is_err() || git(dir, &["config", "user.name"]).is_err();
    let mut commit: Vec<&str> = vec!["-c", "commit.gpgsign=false"];
    if identity_missing {
        commit.extend([
            "-c",
            "user.name=agent-runner",
            "-c",
            "user.email=agent-runner@localhost",
        ]);
    }
    commit.extend(["commit", "-q", "-m", label, "--"]);
    commit.extend(specs);
    let result = git(dir, &add)
        .and_then(|_| git(dir, &commit))
        .and_then(|_| git(dir, &["rev-parse", "HEAD"]));
    match result {
        Err(e) => out.failed(round, "commit", e),
        Ok(sha) => {
            let sha = sha.trim().to_string();
            out.events.push((
                format!("round {round}: committed {count} file(s) as {sha}"),
                DirtyCommitted { sha, count }.into(),
            ));
        }
    }
}
