//! What the loop of a project is doing, in one word, and why a loop that is down stopped: decided
//! from the units, the state file and the newest halt event of the JSON mirror.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::partial;
use super::state_file::{StateView, state_dir};
use super::unit_states::UnitStates;
use crate::config::Project;
use crate::error::{Error, Unseen};
use crate::events::read::{self, Query, Record};
use crate::events::{Event, Kind};
use crate::fsutil;
use crate::round::state::HALT_REQUEST_FILE;
use crate::round::state::HaltReason;
use crate::systemd::bus::UnitInfo;

/// Event kinds that end a loop; the newest of them explains a halt.
const HALT_KINDS: [Kind; 12] = [
    Kind::StopFileDetected,
    Kind::AgentSelfTerminated,
    Kind::MaxRoundsReached,
    Kind::CrashLoop,
    Kind::AuthFailed,
    Kind::ProjectOffline,
    Kind::ConfigBroken,
    Kind::TransientErrorStop,
    Kind::GoalReached,
    Kind::StalledNoProgress,
    Kind::RepeatingDiff,
    Kind::LoopHalted,
];

/// How many of the newest mirror events the halt reason is looked for in.
const HALT_SCAN: usize = 200;

/// Events that start or end a loop without a halt: a halt older than them is history.
const LOOP_KINDS: [Kind; 2] = [Kind::LoopStarted, Kind::LoopStopped];

/// What the loop of a project is doing, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum LoopState {
    /// A round is running.
    Running,
    /// Between rounds: the timer holds the next one.
    Waiting,
    /// Between rounds, backing off after a transient error (rate limit, 5xx).
    Throttled,
    /// A stop trigger or a defensive stop ended the loop (`reason` says which).
    Halted,
    /// The agent did not check in often enough; the loop stopped.
    Offline,
    /// The round service failed.
    Failed,
    /// systemd refused to start the round again (start rate limit).
    StartLimitHit,
    /// Not running, and no halt explains it (never started, or stopped by the operator).
    Stopped,
    /// The units of the project were never generated.
    NotGenerated,
}

impl LoopState {
    /// The word shown in the table and the JSON.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LoopState::Running => "running",
            LoopState::Waiting => "waiting",
            LoopState::Throttled => "throttled",
            LoopState::Halted => "halted",
            LoopState::Offline => "offline",
            LoopState::Failed => "failed",
            LoopState::StartLimitHit => "start-limit-hit",
            LoopState::Stopped => "stopped",
            LoopState::NotGenerated => "not-generated",
        }
    }
}

/// What the state of a loop is decided from.
pub(crate) struct Evidence<'a> {
    /// The project's units.
    pub units: &'a UnitStates,
    /// Its state file, when a round has written one.
    pub state_file: Option<&'a StateView>,
    /// A transient back-off is in force.
    pub throttled: bool,
    /// Its drop-ins were generated at least once.
    pub generated: bool,
}

/// Decides the one-word state, and the reason when the loop is halted, offline or failed. A
/// source it looked at and could not read lands in `unseen`.
pub(crate) fn classify(
    evidence: &Evidence,
    project: &Project,
    unseen: &mut Vec<Unseen>,
) -> (LoopState, Option<String>) {
    let units = evidence.units;
    let service = units.service.clone().unwrap_or_default();
    if !evidence.generated && service.load_state != "loaded" {
        return (LoopState::NotGenerated, None);
    }
    if service.is_up() && service.sub_state != "auto-restart" {
        return (LoopState::Running, None);
    }
    // systemd refuses every further start, the timer's included: the loop is dead whatever the
    // timer says.
    if service.start_limit_hit() && service.active_state == "failed" {
        return (LoopState::StartLimitHit, Some("start-limit-hit".into()));
    }
    let loop_on = units.loop_unit.as_ref().is_some_and(UnitInfo::is_up)
        || units.timer.as_ref().is_some_and(UnitInfo::is_up)
        || units.backoff.as_ref().is_some_and(UnitInfo::is_up)
        || service.sub_state == "auto-restart";
    if loop_on {
        let state = if evidence.throttled {
            LoopState::Throttled
        } else {
            LoopState::Waiting
        };
        return (state, None);
    }
    match halt_reason(evidence.state_file, project, &service, unseen) {
        Some(r) if r == "offline" => (LoopState::Offline, Some(r)),
        Some(r) => (LoopState::Halted, Some(r)),
        None if service.active_state == "failed" => {
            let status = service
                .exec_main_status
                .filter(|s| *s != 0)
                .map(|s| format!(" (exit status {s})"))
                .unwrap_or_default();
            (
                LoopState::Failed,
                Some(format!("{}{status}", service.result)),
            )
        }
        None => (LoopState::Stopped, None),
    }
}

/// Why a loop that is down was halted: the round's halt verdict, else the newest halt event when
/// it is newer than the last round start (an older one was followed by a restart), else a stop
/// trigger still present on disk.
fn halt_reason(
    state_file: Option<&StateView>,
    project: &Project,
    service: &UnitInfo,
    unseen: &mut Vec<Unseen>,
) -> Option<String> {
    if let Some(r) = state_file.and_then(StateView::verdict_halt_reason) {
        return Some(r);
    }
    if let Some(event) = newest_loop_event(project, unseen) {
        let current = event
            .ts_us()
            .is_some_and(|ts| ts + 1_000_000 >= service.active_enter_us);
        if current && let Some(reason) = halt_reason_of(&event) {
            return Some(reason);
        }
        if current && event.kind() == Some(Kind::LoopStopped) {
            return None;
        }
    }
    let triggers = [
        project.runtime.stop_file.clone().map(|f| (f, "stop_file")),
        Some((project.agent_done_file(), "agent_done")),
    ];
    triggers
        .into_iter()
        .flatten()
        .find(|(file, _)| trigger_present(file, unseen))
        .map(|(_, reason)| reason.to_string())
}

/// The stop triggers present on disk (the stop file, `.agent-done`, `halt-request`), each with
/// its path, looked at as the state is decided: never opened nor followed.
pub(crate) fn stop_triggers(
    project: &Project,
    unseen: &mut Vec<Unseen>,
) -> Vec<(&'static str, PathBuf)> {
    let halt_request = state_dir(project).join(HALT_REQUEST_FILE);
    [
        project.runtime.stop_file.clone().map(|f| ("stop_file", f)),
        Some(("agent_done", project.agent_done_file())),
        Some(("halt_request", halt_request)),
    ]
    .into_iter()
    .flatten()
    .filter(|(_, file)| trigger_present(file, unseen))
    .collect()
}

/// Whether a stop trigger is at `file`: whatever is there counts, a link included, and nothing
/// there is opened or followed (the agent can put a link, a FIFO or a device in its place).
fn trigger_present(file: &Path, unseen: &mut Vec<Unseen>) -> bool {
    match fsutil::entry_kind(file) {
        Ok(found) => found.is_some(),
        Err(e) => {
            unseen.extend(fsutil::unseen(
                "stop_trigger",
                &Error::io("cannot read", file, e),
            ));
            false
        }
    }
}

/// The newest event of the mirror that halted, started or stopped the loop.
fn newest_loop_event(project: &Project, unseen: &mut Vec<Unseen>) -> Option<Record> {
    let newest = read::read_mirror_only(
        project,
        &Query {
            kinds: HALT_KINDS
                .iter()
                .chain(&LOOP_KINDS)
                .map(|&k| k.into())
                .collect(),
            limit: Some(1),
            // A halt is among the last events the loop wrote before it stopped.
            scan: Some(HALT_SCAN),
            ..Query::default()
        },
    );
    match newest {
        Ok(mut events) => events.pop(),
        Err(e) => {
            unseen.extend(partial::unseen_in("events", e).unwrap_or_default());
            None
        }
    }
}

/// The halt reason (the vocabulary of `loop_halted` and the state's verdict) a halt event
/// stands for; `None` for an event that is no halt.
fn halt_reason_of(event: &Record) -> Option<String> {
    let reason = match event.kind()? {
        Kind::StopFileDetected => "stop_file",
        Kind::AgentSelfTerminated => "agent_done",
        Kind::MaxRoundsReached => HaltReason::MaxRounds.as_str(),
        Kind::CrashLoop => HaltReason::CrashLoop.as_str(),
        Kind::AuthFailed => HaltReason::AuthFailed.as_str(),
        Kind::ProjectOffline => HaltReason::Offline.as_str(),
        Kind::ConfigBroken => HaltReason::ConfigBroken.as_str(),
        Kind::TransientErrorStop => HaltReason::TransientError.as_str(),
        Kind::GoalReached => HaltReason::GoalReached.as_str(),
        Kind::StalledNoProgress => HaltReason::StalledNoProgress.as_str(),
        Kind::RepeatingDiff => HaltReason::RepeatingDiff.as_str(),
        Kind::MemLoop => HaltReason::MemLoop.as_str(),
        Kind::LoopHalted => match event.event() {
            Some(Event::LoopHalted(halted)) if !halted.reason.is_empty() => {
                return Some(halted.reason);
            }
            _ => "requested",
        },
        _ => return None,
    };
    Some(reason.to_string())
}
