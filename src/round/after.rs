//! What a round does after its agent when the operator asked for it: the goal checks (into the
//! round log) and the progress measure, then — once the VCS step has stashed or committed — the
//! mark the next round is compared with, and the ending either brings. Without `[progress]` and
//! `[[goal.checks]]` nothing here runs, git included.

use nix::sys::signalfd::SignalFd;
use std::fs::File;
use std::path::Path;

use super::brakes::{Brake, Judged, Mark};
use super::classify::Outcome;
use super::goal::{self, Checked};
use super::launch::Round;
use super::logs::LogWriter;
use super::mask;
use super::progress::{Change, Git};
use super::report::RoundEvents;
use super::state::State;
use super::vcs;
use crate::config::Project;
use crate::events::payload::RoundProgress;

/// What the checks and the measure found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The goal checks' results, when they ran.
    pub goal: Option<Checked>,
    /// The progress measure, when it ran: the work tree's mark, or why git could not tell.
    pub now: Option<Result<Mark, String>>,
    /// What changed since the previous mark.
    pub change: Option<Change>,
    /// The progress brake that fires, if one does.
    pub judged: Judged,
}

impl Found {
    /// The goal reached, else the progress brake that fires.
    pub(crate) fn brake(&self) -> Option<Brake> {
        if self.goal.as_ref().is_some_and(Checked::all_passed) {
            Some(Brake::GoalReached)
        } else {
            self.judged.brake
        }
    }
}

/// Whether the agent really worked in the round: only then are its work and its goal looked at
/// (a rate-limited, stopped or unauthenticated round neither progresses nor stalls).
fn agent_worked(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Ok | Outcome::GraceKill | Outcome::Timeout | Outcome::Crash
    )
}

/// The checks and the measure, after the agent of round `round` ended with `outcome`.
#[allow(clippy::too_many_arguments)] // the round's parts it needs, each once
pub(crate) fn check(
    project: &Project,
    state_dir: &Path,
    outcome: Outcome,
    round: u64,
    log: &mut File,
    secrets: &[(String, String)],
    stop: &SignalFd,
    st: &mut State,
    events: &RoundEvents<'_>,
) -> Found {
    let mut found = Found::default();
    if !agent_worked(outcome) {
        return found;
    }
    if !project.goal.checks.is_empty() {
        let mut writer = LogWriter::new(log, mask::maskable(secrets));
        let checked = goal::run(project, round, &mut writer, stop);
        writer.finish();
        for (message, event) in &checked.events {
            events.emit(message, event.clone());
        }
        found.goal = Some(checked);
    }
    if project.progress.enabled() {
        let git = Git::new(project, state_dir, Some(stop));
        let now = git.mark();
        found.change = match (&st.progress.mark, &now) {
            (Some(before), Ok(now)) => git.change(before, now).ok(),
            _ => None,
        };
        found.judged = st
            .progress
            .record(now.as_ref().map_err(String::as_str), &project.progress);
        emit_progress(events, round, &found, &now, st);
        found.now = Some(now);
    }
    found
}

/// The VCS step (stash or commit, its events), then the mark the next round is compared with.
pub(crate) fn work_tree(
    project: &Project,
    round: &Round<'_>,
    state_dir: &Path,
    found: &Found,
    st: &mut State,
    events: &RoundEvents<'_>,
) {
    let vcs = vcs::after_round(project, round, state_dir);
    remember(project, state_dir, found, vcs.acted(), st);
    for (message, event) in vcs.events {
        events.emit(&message, event);
    }
    if vcs.stash.is_some() {
        st.last_stash = vcs.stash;
    }
}

/// After the VCS step: the mark the next round is compared with — the tree as the stash or commit
/// left it, else as the measure found it. When git cannot tell, the old mark stays.
fn remember(project: &Project, state_dir: &Path, found: &Found, vcs_acted: bool, st: &mut State) {
    let Some(now) = &found.now else { return };
    let mark = if vcs_acted {
        Git::new(project, state_dir, None).mark().ok()
    } else {
        now.as_ref().ok().cloned()
    };
    if let Some(mark) = mark {
        st.progress.mark = Some(mark);
    }
}

fn emit_progress(
    events: &RoundEvents<'_>,
    round: u64,
    found: &Found,
    now: &Result<Mark, String>,
    st: &State,
) {
    let (rounds_unchanged, rounds_same_change) = st.progress.streaks();
    let change = found.change.clone().unwrap_or_default();
    let message = match now {
        Err(e) => {
            format!("round {round}: git could not tell what changed ({e}); counted as no progress")
        }
        Ok(_) if found.judged.first => format!("round {round}: progress marked for the next round"),
        Ok(_) => format!(
            "round {round}: {} file(s) changed (+{} -{}), {} commit(s); {rounds_unchanged} round(s) in a row unchanged",
            change.files_changed,
            change.insertions,
            change.deletions,
            change
                .commits
                .map_or_else(|| "?".to_string(), |n| n.to_string()),
        ),
    };
    let mark = now.as_ref().ok();
    events.emit(
        &message,
        RoundProgress {
            commits: change
                .commits
                .filter(|_| mark.is_some() && !found.judged.first),
            files_changed: change.files_changed,
            insertions: change.insertions,
            deletions: change.deletions,
            head: mark.and_then(|m| m.head.clone()),
            tree: mark.map(|m| m.tree.clone()),
            rounds_unchanged,
            rounds_same_change,
            error: now.as_ref().err().cloned(),
            first: found.judged.first,
            state_garbled: found.judged.garbled,
        },
    );
}
