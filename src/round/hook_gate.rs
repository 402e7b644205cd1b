//! The `[hooks]` around a round's agent. `pre_round` hooks are a gate after the round has begun
//! (they get its number and write its log, which is created before them): when one fails, the
//! agent is not started and the round ends transient, classified `pre_round_hook`. The loop then
//! backs off as after a transient error (restart_delay_s, doubling with each such round in a
//! row, at most 30 minutes), whatever `transient_error_action` says: a hook that says "not now"
//! (no work yet, a service down) neither spins the loop nor halts it, and a skipped round does not
//! count toward max_rounds. `post_round` hooks run after the VCS step of a round whose agent ran
//! and was not stopped; a failure is told and changes nothing.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nix::sys::signalfd::SignalFd;
use sd_notify::NotifyState;

use super::classify::{Classified, Ending, Outcome};
use super::hooks::{self, Hooked, Phase};
use super::launch::{self, Round};
use super::logs::{self, LogWriter};
use super::mask;
use super::notify::notify;
use super::report::{RoundEvents, ms};
use super::setup::Dirs;
use super::state::State;
use super::supervise::Supervised;
use super::verdict::{Finished, Policy};
use crate::config::{Project, TransientAction};
use crate::error::Result;
use crate::events::Emitter;

/// The classification of a round whose `pre_round` hook failed.
pub(crate) const PRE_ROUND_HOOK: &str = "pre_round_hook";

/// What the `pre_round` hooks decided.
pub(crate) enum Gate {
    /// They passed (or there are none): the round log they wrote, for the agent's output.
    Open(Option<(File, PathBuf)>),
    /// One failed (or the runner was told to stop): the round ended with this exit status.
    Closed(u8),
}

/// Runs the `pre_round` hooks of `round`, in work_dir with the agent's environment, into the
/// round log created for them. Without hooks nothing happens.
pub(crate) fn pre_round(
    project: &Project,
    dirs: &Dirs,
    emitter: &Emitter,
    round: &Round<'_>,
    secrets: &[(String, String)],
    st: &mut State,
) -> Result<Gate> {
    if project.hooks.pre_round.is_empty() {
        return Ok(Gate::Open(None));
    }
    // A stop request ends a hook as it ends the agent; the agent's spawn routes them again (a
    // signal that arrives in between stays pending, blocked, until then).
    let signals = launch::route_signals()?;
    launch::enter_work_dir(project, dirs, emitter)?;
    let (mut log, log_path) = logs::open(dirs, round.number, round.runner_pid)?;
    let env = launch::environment(project, &dirs.log, round, secrets, None);
    let mut writer = LogWriter::new(&mut log, mask::maskable(secrets));
    let hooked = hooks::run(project, Phase::PreRound, env, &mut writer, &signals);
    let log_error = writer.finish();
    if hooked.failed.is_empty() && !hooked.stopped {
        return Ok(Gate::Open(Some((log, log_path))));
    }
    let events = RoundEvents::new(emitter, round.number, round.phase);
    let ended = Skipped {
        project,
        round,
        hooked: &hooked,
        log_error,
    };
    Ok(Gate::Closed(ended.end(&events, &dirs.state, st, &log_path)))
}

/// A round whose agent a `pre_round` hook kept from starting.
struct Skipped<'a> {
    project: &'a Project,
    round: &'a Round<'a>,
    hooked: &'a Hooked,
    log_error: Option<String>,
}

impl Skipped<'_> {
    /// Tells the failure, records the round and its back-off, and returns its exit status.
    fn end(&self, events: &RoundEvents<'_>, state_dir: &Path, st: &mut State, log: &Path) -> u8 {
        let (project, round) = (self.project, self.round);
        events.began(project, round);
        for (message, event) in &self.hooked.failed {
            let message = format!(
                "round {}: {message}; the agent is not started",
                round.number
            );
            st.last_error = Some(crate::redact::redact(&message).into_owned());
            events.emit(&message, event.clone());
        }
        let outcome = if self.hooked.stopped {
            Outcome::Stopped
        } else {
            Outcome::Transient
        };
        let classified = Classified {
            outcome,
            classification: Some(PRE_ROUND_HOOK.into()),
            transient: None,
            evidence: None,
            agent_retries: 0,
        };
        // A skipped round is no round of the agent's: max_rounds counts the agent's rounds.
        st.rounds_this_loop = st.rounds_this_loop.saturating_sub(1);
        let finished = Finished {
            round: round.number,
            outcome,
            classification: classified.classification.clone(),
            reset_at: None,
            default_back_off_s: project.runtime.restart_delay_s,
            duration_ms: ms(self.hooked.took),
            log_error: self.log_error.clone(),
            brake: None,
        };
        let policy = Policy {
            transient_action: TransientAction::BackOff,
            ..Policy::of(project)
        };
        if let Some(reason) = st.finish_round(&finished, &policy, crate::time::now_epoch()) {
            let message = events.halt(project, st, reason, &classified, &[]);
            st.request_halt(state_dir, reason, &message);
        }
        if let Err(e) = st.save(state_dir) {
            let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
        }
        // Type=notify: a round that exits before READY=1 would be a protocol failure.
        notify(&[NotifyState::Ready]);
        let supervised = Supervised {
            ending: Ending::Interrupted,
            exit_code: None,
            signal: None,
            duration: self.hooked.took,
            checked_in: false,
            bytes: 0,
            killed: None,
            orphans: Vec::new(),
            survivors: 0,
            log_error: self.log_error.clone(),
        };
        events.ended(
            &round.label(),
            &classified,
            &supervised,
            st,
            log,
            Instant::now(),
        )
    }
}

/// Runs the `post_round` hooks (the project has some) after a round whose agent ran and ended
/// with `outcome`, into the round log; a failed one is told and changes nothing.
#[allow(clippy::too_many_arguments)] // the round's parts they need, each once
pub(crate) fn post_round(
    project: &Project,
    dirs: &Dirs,
    round: &Round<'_>,
    secrets: &[(String, String)],
    signals: &SignalFd,
    mut log: File,
    outcome: Outcome,
    events: &RoundEvents<'_>,
) {
    if project.hooks.post_round.is_empty() || outcome == Outcome::Stopped {
        return;
    }
    let env = launch::environment(project, &dirs.log, round, secrets, None);
    let env = hooks::with_outcome(env, outcome.as_str());
    let mut writer = LogWriter::new(&mut log, mask::maskable(secrets));
    let hooked = hooks::run(project, Phase::PostRound, env, &mut writer, signals);
    writer.finish();
    for (message, event) in hooked.failed {
        events.emit(&format!("round {}: {message}", round.number), event);
    }
}
