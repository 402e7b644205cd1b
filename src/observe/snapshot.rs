//! The per-project snapshot `status`, `peek` and `diagnose` show. One snapshot joins three
//! sources: the units' states over D-Bus, the round's state file, and the newest events of the
//! JSON mirror (for why a loop halted). Everything is read, nothing is changed; a source that is
//! missing makes its fields null, never the command fail, and a source that is there but cannot
//! be read (no permission, or a link or a FIFO in its place) is named in `unreadable`.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use super::loop_state::{self, Evidence, LoopState};
use super::state_file::{LastOutcome, Loaded, StateView, state_dir};
use super::unit_states::UnitStates;
use crate::alerts::{self, Alert};
use crate::config::Project;
use crate::error::{Result, Unseen};
use crate::paths::Scope;
use crate::render::drift::drift;
use crate::systemd::bus::{Bus, ListedUnit};
use crate::time::{iso_utc_s, iso_utc_us, now_us};

/// Everything `status` knows about one project.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Snapshot {
    /// The project name.
    pub project: String,
    /// system or user.
    pub scope: Scope,
    /// Its TOML file.
    pub source: PathBuf,
    /// The loop in one word.
    pub state: LoopState,
    /// Why it is halted, offline or failed (an event kind, a systemd result, or a sentence).
    pub reason: Option<String>,
    /// The last round started.
    pub round: Option<u64>,
    /// That round's phase (when the project has phases).
    pub phase: Option<String>,
    /// The last round's outcome.
    pub last_outcome: Option<LastOutcome>,
    /// When the next round runs (ISO 8601 UTC), when the timer holds one.
    pub next_round_at: Option<String>,
    /// Back-off until (ISO 8601 UTC), when throttled.
    pub throttle_until: Option<String>,
    /// The transient class behind the back-off.
    pub throttle_class: Option<String>,
    /// The last error recorded by a round.
    pub last_error: Option<String>,
    /// The open alerts of the detectors, from root's store (the agent cannot clear them).
    pub alerts: Vec<Alert>,
    /// The round service starts at boot.
    pub enabled: bool,
    /// The generated units are older than the TOML.
    pub drifted: bool,
    /// The units.
    pub units: UnitStates,
    /// Spend against the budgets (absent: no ledger and no budget).
    pub spend: Option<super::spend::SpendView>,
    /// The park of the project's shared provider account, while it holds the project.
    pub account_park: Option<AccountParkView>,
    /// The schedule pause the loop is in (outside its run windows or inside a pause window),
    /// with the next start.
    pub schedule_pause: Option<crate::round::state::SchedulePause>,
    /// What could not be read (the state file, the events, a stop trigger): when any, the
    /// snapshot is partial and its state a guess.
    pub unreadable: Vec<Unseen>,
    /// Why the project file does not load, when it does not: the rest is then found by the
    /// project's name and the scope's default paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
    /// The parsed state file (absent before round 1).
    #[serde(skip)]
    pub state_file: Option<StateView>,
    /// The state file as it is on disk.
    #[serde(skip)]
    pub state_raw: Option<Value>,
}

/// A shared account's park as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AccountParkView {
    /// The account.
    pub account: String,
    /// Why: the account's limit, or which of its budgets ran out.
    pub reason: String,
    /// When the park began (epoch seconds).
    pub since: u64,
    /// When this project resumes (epoch seconds).
    pub until: u64,
}

/// The park of `project`'s account from root's store, while it holds the project.
fn account_park(project: &Project, unreadable: &mut Vec<Unseen>) -> Option<AccountParkView> {
    let account = project.agent.account.as_deref()?;
    let park = match crate::round::account_park::load(project.scope, account) {
        Ok(park) => park?,
        Err(e) => {
            unreadable.extend(crate::fsutil::unseen("account park", &e));
            return None;
        }
    };
    let until = park.until(&project.name);
    (until > crate::time::now_epoch()).then(|| AccountParkView {
        account: park.account.clone(),
        reason: park.reason(),
        since: park.since,
        until,
    })
}

/// Builds the snapshot of one project. `listed` holds the units systemd has loaded (see
/// [`UnitStates::read`]); `None` lists the project's own.
pub(crate) fn snapshot(
    project: &Project,
    bus: &Bus,
    listed: Option<&[ListedUnit]>,
) -> Result<Snapshot> {
    let units = UnitStates::read(bus, &project.name, listed)?;
    let mut unreadable = Vec::new();
    let (state_file, state_raw) = match StateView::load(&state_dir(project)) {
        Loaded::Absent => (None, None),
        Loaded::Read(view, raw) => (Some(*view), Some(raw)),
        Loaded::Unseen(unseen) => {
            unreadable.push(unseen);
            (None, None)
        }
    };
    let alerts = match alerts::store::load(project.scope, &project.name) {
        Ok(open) => open.alerts,
        Err(e) => {
            unreadable.extend(crate::fsutil::unseen("alerts", &e));
            Vec::new()
        }
    };
    let account_park = account_park(project, &mut unreadable);
    let drift = drift(project, project.scope);
    let state = state_file.as_ref();
    let mut snap = Snapshot {
        project: project.name.clone(),
        scope: project.scope,
        source: project.source.clone(),
        state: LoopState::Stopped,
        reason: None,
        round: state.and_then(|s| s.round),
        phase: None,
        last_outcome: state.and_then(|s| s.last_outcome.clone()),
        next_round_at: next_round_at(&units),
        throttle_until: None,
        throttle_class: None,
        last_error: state.and_then(|s| s.last_error.clone()),
        alerts,
        enabled: units
            .service
            .as_ref()
            .is_some_and(|s| s.unit_file_state == "enabled"),
        drifted: drift.generated && !drift.in_sync,
        units,
        spend: None,
        account_park,
        schedule_pause: state_raw
            .as_ref()
            .and_then(|s| s.get("schedule_pause"))
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .filter(|p: &crate::round::state::SchedulePause| {
                p.recheck_at > crate::time::now_epoch()
            }),
        unreadable,
        config_error: None,
        state_file,
        state_raw,
    };
    snap.spend = super::spend::spend(
        project,
        &state_dir(project),
        snap.state_raw.as_ref(),
        crate::time::now_epoch(),
    );
    snap.phase = snap
        .round
        .and_then(|r| project.phase_for_round(r))
        .map(|p| p.name.clone());
    if let Some((until, class)) = snap.state_file.as_ref().and_then(back_off_in_force) {
        snap.throttle_until = Some(until);
        snap.throttle_class = class;
    }
    snap.classify(project, drift.generated);
    Ok(snap)
}

impl Snapshot {
    /// Decides the one-word state (and its reason) from what the snapshot holds.
    fn classify(&mut self, project: &Project, generated: bool) {
        let evidence = Evidence {
            units: &self.units,
            state_file: self.state_file.as_ref(),
            throttled: self.throttle_until.is_some(),
            generated,
        };
        (self.state, self.reason) = loop_state::classify(&evidence, project, &mut self.unreadable);
    }
}

/// The back-off of the state file while it lasts: (until, as ISO 8601 UTC; its class).
fn back_off_in_force(state: &StateView) -> Option<(String, Option<String>)> {
    let until = state.throttle_until?;
    (until.saturating_mul(1_000_000) > now_us())
        .then(|| (iso_utc_s(until), state.throttle_class.clone()))
}

/// When the timer, or the back-off timer, fires next while it is up.
fn next_round_at(units: &UnitStates) -> Option<String> {
    [&units.timer, &units.backoff]
        .into_iter()
        .flatten()
        .filter(|t| t.is_up())
        .filter_map(|t| t.next_elapse_us)
        .min()
        .map(iso_utc_us)
}

/// Project `t` with everything under `dir`, for the observers' tests.
#[cfg(test)]
pub(crate) fn example_project(dir: &std::path::Path) -> Project {
    let text = format!(
        "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"{0}\"\nlog_dir = \"{0}/log\"\nstop_file = \"{0}/STOP\"\n[prompt]\nfiles = [\"{0}/p.md\"]\n",
        dir.display()
    );
    crate::config::load_str(&text, &dir.join("t.toml"), Scope::System).expect("valid test project")
}

/// A snapshot of project `t` in `state`, for the presenters' tests.
#[cfg(test)]
pub(crate) fn example(state: LoopState, reason: Option<&str>, unreadable: Vec<Unseen>) -> Snapshot {
    Snapshot {
        project: "t".into(),
        scope: Scope::System,
        source: PathBuf::from("/etc/agent-runner/t.toml"),
        state,
        reason: reason.map(str::to_string),
        round: Some(3),
        phase: None,
        last_outcome: None,
        next_round_at: None,
        throttle_until: None,
        throttle_class: None,
        last_error: None,
        alerts: Vec::new(),
        enabled: false,
        drifted: false,
        units: UnitStates::default(),
        spend: None,
        account_park: None,
        schedule_pause: None,
        unreadable,
        config_error: None,
        state_file: None,
        state_raw: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::bus::UnitInfo;
    use crate::time::parse_iso_us;

    fn unit(name: &str, active: &str, sub: &str, result: &str) -> UnitInfo {
        UnitInfo {
            name: name.into(),
            load_state: "loaded".into(),
            active_state: active.into(),
            sub_state: sub.into(),
            result: result.into(),
            ..UnitInfo::default()
        }
    }

    fn snap(service: UnitInfo, timer: UnitInfo, state: Option<Value>) -> Snapshot {
        Snapshot {
            round: None,
            units: UnitStates {
                service: Some(service),
                timer: Some(timer),
                ..UnitStates::default()
            },
            state_file: state.as_ref().map(StateView::from_value),
            state_raw: state,
            ..example(LoopState::Stopped, None, Vec::new())
        }
    }

    fn classified(mut s: Snapshot, p: &Project) -> (LoopState, Option<String>) {
        s.classify(p, true);
        (s.state, s.reason)
    }

    #[test]
    fn the_loop_state_follows_units_state_and_events() {
        let dir = tempfile::tempdir().unwrap();
        let p = example_project(dir.path());
        let idle = unit("t.timer", "inactive", "dead", "success");
        let waiting = unit("t.timer", "active", "waiting", "success");
        let running = unit("s", "active", "running", "success");
        let dead = unit("s", "inactive", "dead", "success");

        assert_eq!(
            classified(snap(running, idle.clone(), None), &p).0,
            LoopState::Running
        );
        assert_eq!(
            classified(snap(dead.clone(), waiting.clone(), None), &p).0,
            LoopState::Waiting
        );
        assert_eq!(
            classified(snap(dead.clone(), idle.clone(), None), &p).0,
            LoopState::Stopped
        );

        // The start limit beats a timer that still looks alive.
        let limited = unit("s", "failed", "failed", "start-limit-hit");
        assert_eq!(
            classified(snap(limited, waiting, None), &p),
            (LoopState::StartLimitHit, Some("start-limit-hit".into()))
        );

        // A halt verdict names the reason; offline is its own state.
        let halt =
            |reason: &str| serde_json::json!({"verdict": {"action": "halt", "reason": reason}});
        assert_eq!(
            classified(
                snap(dead.clone(), idle.clone(), Some(halt("max_rounds"))),
                &p
            ),
            (LoopState::Halted, Some("max_rounds".into()))
        );
        assert_eq!(
            classified(snap(dead.clone(), idle.clone(), Some(halt("offline"))), &p).0,
            LoopState::Offline
        );
        let broken = unit("s", "failed", "failed", "exit-code");
        assert_eq!(
            classified(
                snap(broken.clone(), idle.clone(), Some(halt("config_broken"))),
                &p
            ),
            (LoopState::Halted, Some("config_broken".into()))
        );
        let mut failed = broken;
        failed.exec_main_status = Some(3);
        assert_eq!(
            classified(snap(failed, idle.clone(), None), &p),
            (LoopState::Failed, Some("exit-code (exit status 3)".into()))
        );

        // The newest halt event of the mirror, in the loop_halted vocabulary.
        std::fs::create_dir_all(dir.path().join("log")).unwrap();
        std::fs::write(
            dir.path().join("log/events.jsonl"),
            "{\"ts\":\"2026-11-22T10:00:00.000Z\",\"event\":\"round_end\",\"round\":3}\n\
             {\"ts\":\"2026-11-22T10:00:01.000Z\",\"event\":\"agent_self_terminated\",\"round\":3}\n",
        )
        .unwrap();
        assert_eq!(
            classified(snap(dead.clone(), idle.clone(), None), &p),
            (LoopState::Halted, Some("agent_done".into()))
        );
        // ...unless the loop ran again after it.
        let mut later = dead.clone();
        later.active_enter_us = parse_iso_us("2026-11-22T11:00:00Z").unwrap();
        assert_eq!(
            classified(snap(later, idle.clone(), None), &p).0,
            LoopState::Stopped
        );

        // A stop file on disk explains a stop nothing else explains.
        std::fs::remove_file(dir.path().join("log/events.jsonl")).unwrap();
        std::fs::write(dir.path().join("STOP"), "").unwrap();
        assert_eq!(
            classified(snap(dead, idle, None), &p),
            (LoopState::Halted, Some("stop_file".into()))
        );
    }

    #[test]
    fn what_cannot_be_read_is_named_not_guessed_from() {
        let dir = tempfile::tempdir().unwrap();
        let p = example_project(dir.path());
        let idle = unit("t.timer", "inactive", "dead", "success");
        let dead = unit("s", "inactive", "dead", "success");
        // The mirror replaced by a link to a file that would explain a halt: it is not read,
        // and it is named.
        std::fs::create_dir_all(dir.path().join("log")).unwrap();
        std::fs::write(
            dir.path().join("elsewhere.jsonl"),
            "{\"ts\":\"2026-11-22T10:00:01.000Z\",\"event\":\"agent_self_terminated\"}\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("elsewhere.jsonl"),
            dir.path().join("log/events.jsonl"),
        )
        .unwrap();
        let mut s = snap(dead.clone(), idle.clone(), None);
        s.classify(&p, true);
        assert_eq!(s.state, LoopState::Stopped);
        let sources: Vec<_> = s.unreadable.iter().map(|u| (u.source, &u.reason)).collect();
        assert_eq!(sources, [("events", &"is a symbolic link".to_string())]);
        assert!(
            serde_json::to_value(&s).unwrap()["unreadable"][0]["path"]
                .as_str()
                .unwrap()
                .ends_with("log/events.jsonl")
        );

        // A stop trigger is the entry itself: a dangling link the agent left counts, unfollowed.
        std::fs::remove_file(dir.path().join("log/events.jsonl")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", dir.path().join("log/.agent-done")).unwrap();
        let mut s = snap(dead, idle, None);
        s.classify(&p, true);
        assert_eq!(
            (s.state, s.reason.as_deref()),
            (LoopState::Halted, Some("agent_done"))
        );
        assert!(s.unreadable.is_empty());
    }
}
