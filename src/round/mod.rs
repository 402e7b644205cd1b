//! `agent-runner round NAME`: exactly one round, what `ExecStart=` runs. [`execute`] is the round's
//! steps in order; each lives in the file named after it:
//!
//! [`setup`] (config, startup battery, directories, lock, the state ([`recover`]ed when it lies),
//! gates: the schedule's [`windows`], spend; credentials) → [`launch`] (state bump, the `pre_round`
//! [`hooks`] of [`hook_gate`], [`prompt`], signals, environment, [`spawn`]) →
//! [`logs`] (the round log) → [`supervise`] (output through [`mask`] to the log and through
//! [`scan`] for [`findings`] — [`failure`], [`reset`] (with the host's zone from `time::zone`), [`retries`], [`usage`] —
//! check-in, timeouts, grace, signals, [`procs`]) → [`classify`] → [`after`] (the goal checks of
//! [`goal`] and the progress of [`progress`] and [`brakes`], each command [`bounded`]) → [`vcs`] →
//! the `post_round` hooks → [`verdict`] →
//! [`state`] → [`report`] (events, summary line, exit status).

pub(crate) mod account_park;
mod after;
mod bounded;
mod brakes;
mod checkin;
mod classify;
mod cooldown;
mod cost;
mod failure;
mod findings;
mod goal;
mod hook_gate;
mod hooks;
mod launch;
pub(crate) mod ledger;
mod logs;
mod mask;
mod notify;
mod procs;
mod progress;
mod prompt;
pub(crate) mod recover;
mod report;
mod reset;
mod retries;
mod scan;
mod setup;
mod spawn;
pub(crate) mod spend;
pub(crate) mod state;
mod stop;
mod summary;
mod supervise;
mod usage;
mod vcs;
mod verdict;
pub(crate) mod windows;

use std::time::Instant;

pub(crate) use self::classify::Outcome;
use self::classify::classify;
use self::report::RoundEvents;
use self::scan::Scanner;
use self::stop::Limits;
use self::supervise::Watch;
use self::verdict::{Finished, Policy};
use crate::config::{Project, ProjectRef};
use crate::context::Context;
use crate::error::Result;

pub(crate) use self::checkin::checkin;

/// Runs one round and returns its exit status (0 ok, 75 transient, 78 config, 1 crash, 124 timeout).
pub(crate) fn run(ctx: &Context, reference: &ProjectRef) -> Result<u8> {
    let project = setup::load(reference, ctx.scope)?;
    execute(&project)
}

fn execute(project: &Project) -> Result<u8> {
    let exec_at = Instant::now();
    let (dirs, emitter) = setup::dirs(project)?;
    setup::startup_battery(project, &dirs.state, &emitter)?;
    let _lock = setup::lock(project, &dirs.state)?;
    let mut st = setup::load_state(project, &dirs, &emitter);
    let now = cooldown::wait_out(project, &st);
    if let Some(code) = closed_gate(project, &dirs.state, &mut st, &emitter, now) {
        return Ok(code);
    }
    let window_reset = spend::window_reset(&mut st, now);
    let schedule_resumed = windows::resumed(&mut st, now);
    let secrets = setup::credentials(project, &dirs.state, &emitter)?;

    // The round begins; only what the agent needs comes before its spawn.
    let round = launch::begin(project, &mut st, now);
    // The operator's pre_round hooks may keep the agent from starting (and write the prompt).
    let gate = hook_gate::pre_round(project, &dirs, &emitter, &round, &secrets, &mut st)?;
    let hooks_log = match gate {
        hook_gate::Gate::Open(log) => log,
        hook_gate::Gate::Closed(code) => return Ok(code),
    };
    let (prompt, stdin) = launch::prompt(project, &dirs.state, &emitter, &round)?;
    let agent = launch::spawn(project, &dirs, &emitter, &round, &prompt, stdin, &secrets)?;
    let spawn_latency = agent.spawned_at.duration_since(exec_at);

    // After the spawn, before the first byte of output is read: the round log and
    // `round-current.log` (new inodes the agent need not wait for), then bookkeeping.
    let (mut log, log_path) = match hooks_log {
        Some(opened) => opened,
        None => logs::create(&dirs, round.number, agent.pid, round.runner_pid)?,
    };
    let final_save = st.record_start(&dirs.state);
    let events = RoundEvents::new(&emitter, round.number, round.phase);
    events.started(project, &round, &prompt, &agent, &log_path, spawn_latency);
    spend::tell_window_reset(&events, window_reset);
    windows::tell_resumed(&events, schedule_resumed);

    // The agent runs: watch it until it and everything it started are gone.
    let limits = Limits::of(project, round.timeout_s);
    let mut scanner = Scanner::new(
        project.agent.output_format,
        project.agent.terminal_marker.as_deref(),
        now,
    );
    let label = round.label();
    let supervised = Watch {
        pid: agent.pid,
        output: agent.output,
        log: logs::LogWriter::new(&mut log, mask::maskable(&secrets)),
        scanner: &mut scanner,
        signals: &agent.signals,
        checkin: agent.checkin.as_ref(),
        limits: &limits,
        label: &label,
    }
    .run(&mut |note| events.note(note));
    let agent_done_at = Instant::now();
    drop(agent.checkin);

    let classified = how_it_ended(&supervised, &mut scanner, &limits, &events);

    // The operator's goal checks (into the round log) and what git says changed, when asked for.
    let found = after::check(
        project,
        &dirs.state,
        classified.outcome,
        round.number,
        &mut log,
        &secrets,
        &agent.signals,
        &mut st,
        &events,
    );

    // The work tree, then the operator's post_round hooks (into the round log).
    after::work_tree(project, &round, &dirs.state, &found, &mut st, &events);
    let (outcome, signals) = (classified.outcome, &agent.signals);
    hook_gate::post_round(
        project, &dirs, &round, &secrets, signals, log, outcome, &events,
    );

    // The verdict, and the end.
    let finished = Finished {
        brake: found.brake(),
        ..Finished::of(round.number, &classified, &supervised)
    };
    let spent = conclude(
        project,
        &dirs.state,
        &mut st,
        &finished,
        &scanner,
        &events,
        &classified,
    );
    st.save_final(final_save, &dirs.state)?;
    prompt.remove_file();
    logs::prune(&dirs.log, round.number, project.runtime.round_log_retention);
    summary::summarize(
        &events,
        project,
        &classified,
        &supervised,
        &st,
        &spent.ledger,
        &found,
    );
    Ok(events.ended(
        &label,
        &classified,
        &supervised,
        &st,
        &log_path,
        agent_done_at,
    ))
}

/// How the agent's run ended, classified, and told.
fn how_it_ended(
    supervised: &supervise::Supervised,
    scanner: &mut Scanner,
    limits: &Limits,
    events: &RoundEvents<'_>,
) -> classify::Classified {
    if supervised.ending.failed() {
        // Auth and network patterns only decide failed rounds; a clean one skips the regexes.
        scanner.scan_tail();
    }
    events.agent_ended(supervised, limits);
    let classified = classify(
        supervised.ending,
        &scanner.findings,
        crate::time::now_epoch(),
    );
    events.findings(&classified, &scanner.findings);
    classified
}

/// The verdict on the finished round, its spend settled, and the halt either asks for.
fn conclude(
    project: &Project,
    state_dir: &std::path::Path,
    st: &mut state::State,
    finished: &Finished,
    scanner: &Scanner,
    events: &RoundEvents<'_>,
    classified: &classify::Classified,
) -> spend::Settled {
    let ended_at = crate::time::now_epoch();
    let halt = st.finish_round(finished, &Policy::of(project), ended_at);
    let spent = spend::settle(
        project,
        state_dir,
        st,
        &scanner.findings,
        events,
        halt.is_some(),
        ended_at,
    );
    if let Some(reason) = halt {
        let message = events.halt(project, st, reason, classified, scanner.tail());
        st.request_halt(state_dir, reason, &message);
    } else if let Some((reason, message)) = &spent.halt {
        st.request_halt(state_dir, *reason, message);
    } else if matches!(classified.outcome, Outcome::Ok | Outcome::GraceKill) {
        st.last_error = None;
    }
    spent
}
/// The gates before the agent may run, in order: stop triggers and back-offs, the schedule's
/// windows, spend. Returns the round's exit status when one is closed.
fn closed_gate(
    project: &Project,
    state_dir: &std::path::Path,
    st: &mut state::State,
    emitter: &crate::events::Emitter,
    now: u64,
) -> Option<u8> {
    setup::closed_gate(project, emitter, st, now)
        .or_else(|| windows::gate(project, state_dir, st, emitter, now))
        .or_else(|| account_park::spend_gates(project, state_dir, st, emitter, now))
}
