//! `agent-runner status [NAME]`, and the per-project snapshot `peek` and `diagnose` build on.
//!
//! One snapshot joins three sources: the units' states over D-Bus, the round's state file, and
//! the newest events of the JSON mirror (for why a loop halted). Everything is read, nothing is
//! changed; a source that is missing makes its fields null, never the command fail.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::config::ProjectRef;
use crate::config::{self, Project};
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::read::{self, Query, Record};
use crate::events::{Event, Kind};
use crate::observe::events::relative;
use crate::paths::Scope;
use crate::round::state::HaltReason;
use crate::systemd::bus::{Bus, ListedUnit, UnitInfo};
use crate::time::{iso_utc_s, iso_utc_us, now_us, parse_iso_us};
use crate::units::{self, Unit, Units};

/// Event kinds that end a loop; the newest of them explains a halt.
const HALT_KINDS: [Kind; 8] = [
    Kind::StopFileDetected,
    Kind::AgentSelfTerminated,
    Kind::MaxRoundsReached,
    Kind::CrashLoop,
    Kind::ProjectOffline,
    Kind::ConfigBroken,
    Kind::TransientErrorStop,
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

/// The round's last outcome, as the state file records it.
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct LastOutcome {
    /// The round number.
    pub round: Option<u64>,
    /// ok, crash, timeout, grace_kill, transient, auth_fail, config_broken, …
    pub outcome: Option<String>,
    /// The round's exit status.
    pub exit_code: Option<i64>,
    /// How long the round took.
    pub duration_ms: Option<u64>,
    /// The transient class or other detail of the outcome.
    pub classification: Option<String>,
    /// When it ended (ISO 8601 UTC).
    pub ended_at: Option<String>,
}

/// The fields of `state.json` (owned by the round) that the read commands show. Read leniently:
/// a missing or odd field is `None`, whatever version wrote the file.
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct StateView {
    /// The last round started.
    pub round: Option<u64>,
    /// Index of the phase of that round.
    pub phase_index: Option<u64>,
    /// Rounds since the loop was started.
    pub rounds_this_loop: Option<u64>,
    /// Consecutive short crashes (the crash-loop breaker's counter).
    pub consecutive_short_crashes: Option<u64>,
    /// Consecutive rounds without a check-in.
    pub consecutive_checkin_failures: Option<u64>,
    /// Back-off until this time (epoch seconds).
    pub throttle_until: Option<u64>,
    /// The transient class behind the back-off.
    pub throttle_class: Option<String>,
    /// The last round's outcome.
    pub last_outcome: Option<LastOutcome>,
    /// The last error, as a sentence.
    pub last_error: Option<String>,
    /// The round's verdict: continue, back_off or halt (with reason).
    pub verdict: Option<Value>,
}

impl StateView {
    /// Reads `state.json` from `dir`; `(None, raw)` never fails: an unreadable file is absent.
    pub(crate) fn load(dir: &std::path::Path) -> (Option<Self>, Option<Value>) {
        let Ok(text) = std::fs::read(dir.join("state.json")) else {
            return (None, None);
        };
        let Ok(raw) = serde_json::from_slice::<Value>(&text) else {
            return (None, None);
        };
        (Some(Self::from_value(&raw)), Some(raw))
    }

    fn from_value(v: &Value) -> Self {
        let u = |k: &str| v.get(k).and_then(Value::as_u64);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let last_outcome = v
            .get("last_outcome")
            .filter(|o| o.is_object())
            .map(|o| LastOutcome {
                round: o.get("round").and_then(Value::as_u64),
                outcome: o.get("outcome").and_then(Value::as_str).map(str::to_string),
                exit_code: o.get("exit_code").and_then(Value::as_i64),
                duration_ms: o.get("duration_ms").and_then(Value::as_u64),
                classification: o
                    .get("classification")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                ended_at: match o.get("ended_at") {
                    Some(Value::Number(n)) => n.as_u64().map(iso_utc_s),
                    Some(Value::String(t)) => Some(t.clone()),
                    _ => None,
                },
            });
        Self {
            round: u("round"),
            phase_index: u("phase_index"),
            rounds_this_loop: u("rounds_this_loop"),
            consecutive_short_crashes: u("consecutive_short_crashes"),
            consecutive_checkin_failures: u("consecutive_checkin_failures"),
            throttle_until: u("throttle_until"),
            throttle_class: s("throttle_class"),
            last_outcome,
            last_error: s("last_error"),
            verdict: v.get("verdict").filter(|x| !x.is_null()).cloned(),
        }
    }

    fn verdict_halt_reason(&self) -> Option<String> {
        let verdict = self.verdict.as_ref()?;
        (verdict.get("action").and_then(Value::as_str) == Some("halt"))
            .then(|| {
                verdict
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .flatten()
    }
}

/// The state directory of a project, where the round keeps it (`crate::round::state::dir`).
pub(crate) fn state_dir(project: &Project) -> PathBuf {
    crate::round::state::dir(project)
}

/// The units of a project, as systemd reports them (`None`: unknown to systemd).
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct UnitStates {
    /// The round service.
    pub service: Option<UnitInfo>,
    /// The timer.
    pub timer: Option<UnitInfo>,
    /// The path unit.
    pub path: Option<UnitInfo>,
    /// The halt helper.
    pub halt: Option<UnitInfo>,
    /// The loop unit (active while the loop runs), when the installed templates have one.
    #[serde(rename = "loop")]
    pub loop_unit: Option<UnitInfo>,
    /// The transient back-off timer, while a long back-off parks the loop on it.
    pub backoff: Option<UnitInfo>,
}

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
    /// The round service starts at boot.
    pub enabled: bool,
    /// The generated units are older than the TOML.
    pub drifted: bool,
    /// The units.
    pub units: UnitStates,
    /// The parsed state file (absent before round 1).
    #[serde(skip)]
    pub state_file: Option<StateView>,
    /// The state file as it is on disk.
    #[serde(skip)]
    pub state_raw: Option<Value>,
}

/// Builds the snapshot of one project. `listed` holds the units systemd has loaded (from one
/// `ListUnitsByPatterns` for every project): units not in it cost no call, and of the others only
/// the service and the timer are asked for more than their states.
pub(crate) fn snapshot(
    project: &Project,
    bus: &Bus,
    listed: Option<&[ListedUnit]>,
) -> Result<Snapshot> {
    let names = Units::of(&project.name);
    // One project alone: one listing of its own units, so that only the service and the timer
    // cost more calls (LoadUnit for each unit would triple them).
    let own;
    let (listed, single) = if let Some(l) = listed {
        (l, false)
    } else {
        own = bus.list(&names.all_with_loop())?;
        (own.as_slice(), true)
    };
    let fetch = |unit: &str, detail: bool| -> Result<Option<UnitInfo>> {
        match listed.iter().find(|l| l.info.name == unit) {
            // Not loaded: for the service of a single project, ask systemd to load it, which
            // tells "not-found" (never generated) from "inactive".
            None if single && unit == names.service => bus.unit(unit).map(Some),
            None => Ok(None),
            Some(l) if detail && !l.detailed => bus.listed_unit(l).map(Some),
            Some(l) => Ok(Some(l.info.clone())),
        }
    };
    let units = UnitStates {
        service: fetch(&names.service, true)?,
        timer: fetch(&names.timer, true)?,
        path: fetch(&names.path, false)?,
        halt: fetch(&names.halt, false)?,
        loop_unit: fetch(&names.loop_unit, false)?.filter(|u| u.load_state == "loaded"),
        backoff: fetch(&names.backoff, true)?.filter(|u| u.load_state == "loaded"),
    };
    let (state_file, state_raw) = StateView::load(&state_dir(project));
    let drift = crate::render::drift::drift(project, project.scope);
    let now = now_us();
    let mut snap = Snapshot {
        project: project.name.clone(),
        scope: project.scope,
        source: project.source.clone(),
        state: LoopState::Stopped,
        reason: None,
        round: state_file.as_ref().and_then(|s| s.round),
        phase: None,
        last_outcome: state_file.as_ref().and_then(|s| s.last_outcome.clone()),
        next_round_at: None,
        throttle_until: None,
        throttle_class: None,
        last_error: state_file.as_ref().and_then(|s| s.last_error.clone()),
        enabled: units
            .service
            .as_ref()
            .is_some_and(|s| s.unit_file_state == "enabled"),
        drifted: drift.generated && !drift.in_sync,
        units,
        state_file,
        state_raw,
    };
    snap.phase = snap
        .round
        .and_then(|r| project.phase_for_round(r))
        .map(|p| p.name.clone());
    if let Some(s) = &snap.state_file
        && let Some(until) = s.throttle_until
        && until.saturating_mul(1_000_000) > now
    {
        snap.throttle_until = Some(iso_utc_s(until));
        snap.throttle_class.clone_from(&s.throttle_class);
    }
    snap.next_round_at = [&snap.units.timer, &snap.units.backoff]
        .into_iter()
        .flatten()
        .filter(|t| t.is_up())
        .filter_map(|t| t.next_elapse_us)
        .min()
        .map(iso_utc_us);
    classify(&mut snap, project, drift.generated);
    Ok(snap)
}

/// Decides the one-word state from the units, the state file and the newest halt event.
fn classify(snap: &mut Snapshot, project: &Project, generated: bool) {
    let service = snap.units.service.clone().unwrap_or_default();
    if !generated && service.load_state != "loaded" {
        snap.state = LoopState::NotGenerated;
        return;
    }
    if service.is_up() && service.sub_state != "auto-restart" {
        snap.state = LoopState::Running;
        return;
    }
    // systemd refuses every further start, the timer's included: the loop is dead whatever the
    // timer says.
    if service.start_limit_hit() && service.active_state == "failed" {
        snap.state = LoopState::StartLimitHit;
        snap.reason = Some("start-limit-hit".into());
        return;
    }
    let loop_on = snap.units.loop_unit.as_ref().is_some_and(UnitInfo::is_up)
        || snap.units.timer.as_ref().is_some_and(UnitInfo::is_up)
        || snap.units.backoff.as_ref().is_some_and(UnitInfo::is_up)
        || service.sub_state == "auto-restart";
    if loop_on {
        snap.state = if snap.throttle_until.is_some() {
            LoopState::Throttled
        } else {
            LoopState::Waiting
        };
        return;
    }
    match halt_reason(snap, project, &service) {
        Some(r) if r == "offline" => {
            snap.state = LoopState::Offline;
            snap.reason = Some(r);
        }
        Some(r) => {
            snap.state = LoopState::Halted;
            snap.reason = Some(r);
        }
        None if service.active_state == "failed" => {
            snap.state = LoopState::Failed;
            let status = service
                .exec_main_status
                .filter(|s| *s != 0)
                .map(|s| format!(" (exit status {s})"))
                .unwrap_or_default();
            snap.reason = Some(format!("{}{status}", service.result));
        }
        None => snap.state = LoopState::Stopped,
    }
}

/// Why a loop that is down was halted: the round's halt verdict, else the newest halt event when
/// it is newer than the last round start (an older one was followed by a restart), else a stop
/// trigger still present on disk.
fn halt_reason(snap: &Snapshot, project: &Project, service: &UnitInfo) -> Option<String> {
    if let Some(r) = snap
        .state_file
        .as_ref()
        .and_then(StateView::verdict_halt_reason)
    {
        return Some(r);
    }
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
    )
    .ok()
    .and_then(|mut v| v.pop());
    if let Some(event) = newest {
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
    if project
        .runtime
        .stop_file
        .as_ref()
        .is_some_and(|p| p.exists())
    {
        return Some("stop_file".into());
    }
    project
        .agent_done_file()
        .exists()
        .then(|| "agent_done".to_string())
}

/// The halt reason (the vocabulary of `loop_halted` and the state's verdict) a halt event
/// stands for; `None` for an event that is no halt.
fn halt_reason_of(event: &Record) -> Option<String> {
    let reason = match event.kind()? {
        Kind::StopFileDetected => "stop_file",
        Kind::AgentSelfTerminated => "agent_done",
        Kind::MaxRoundsReached => HaltReason::MaxRounds.as_str(),
        Kind::CrashLoop => HaltReason::CrashLoop.as_str(),
        Kind::ProjectOffline => HaltReason::Offline.as_str(),
        Kind::ConfigBroken => HaltReason::ConfigBroken.as_str(),
        Kind::TransientErrorStop => HaltReason::TransientError.as_str(),
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

/// The loaded agent-runner units of a manager.
pub(crate) fn loaded_units(bus: &Bus) -> Result<Vec<ListedUnit>> {
    bus.list(&units::ALL_PROJECTS_PATTERNS)
}

/// `agent-runner status [NAME] [--json]`.
pub(crate) fn run(ctx: &Context, reference: Option<ProjectRef>, json: bool) -> Result<u8> {
    if let Some(r) = reference {
        let project = crate::config::load_project(&r, ctx.scope)?;
        let bus = Bus::connect(ctx.scope, None)?;
        let snap = snapshot(&project, &bus, None)?;
        if json {
            print_json(&snap)?;
        } else {
            print_detail(&snap);
        }
        return Ok(exit::OK);
    }
    {
        {
            let files = config::discover(ctx.scope)?;
            let bus = Bus::connect(ctx.scope, None)?;
            let mut loaded = loaded_units(&bus)?;
            // The details of every round service and timer, fetched concurrently, then handed
            // to the snapshots as if listed that way.
            let wanted: Vec<&ListedUnit> = loaded
                .iter()
                .filter(|l| {
                    matches!(
                        Unit::parse(&l.info.name),
                        Some((
                            Unit::Round | Unit::Timer | Unit::BackoffTimer | Unit::BackoffService,
                            _
                        ))
                    )
                })
                .collect();
            let details = bus.listed_units(&wanted)?;
            for info in details {
                if let Some(l) = loaded.iter_mut().find(|l| l.info.name == info.name) {
                    l.info = info;
                    l.detailed = true;
                }
            }
            let mut snaps = Vec::new();
            let mut broken = Vec::new();
            for file in files {
                match config::load(&file, ctx.scope) {
                    Ok(project) => snaps.push(snapshot(&project, &bus, Some(&loaded))?),
                    Err(e) => broken.push((file, e)),
                }
            }
            if json {
                let mut rows: Vec<Value> = snaps
                    .iter()
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
                    .collect();
                for (file, e) in &broken {
                    rows.push(serde_json::json!({
                        "project": file.file_stem().map(|s| s.to_string_lossy().into_owned()),
                        "source": file,
                        "state": "config-error",
                        "reason": e.to_string(),
                    }));
                }
                print_json(&rows)?;
            } else {
                print_table(&snaps, &broken, ctx.scope);
            }
            Ok(exit::OK)
        }
    }
}

fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Failed(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// "ok 12.3s" for a last outcome.
fn outcome_text(o: &LastOutcome) -> String {
    let what = o.outcome.clone().unwrap_or_else(|| "?".into());
    match o.duration_ms {
        Some(ms) => format!("{what} {}.{}s", ms / 1000, (ms % 1000) / 100),
        None => what,
    }
}

fn state_text(s: &Snapshot) -> String {
    match (&s.reason, s.state) {
        (Some(r), LoopState::Halted | LoopState::Failed) => format!("{}({r})", s.state.as_str()),
        (_, LoopState::Throttled) => format!(
            "throttled({})",
            s.throttle_class.as_deref().unwrap_or("transient")
        ),
        _ => s.state.as_str().to_string(),
    }
}

fn print_table(snaps: &[Snapshot], broken: &[(PathBuf, Error)], scope: Scope) {
    let mut out = std::io::stdout().lock();
    if snaps.is_empty() && broken.is_empty() {
        let _ = writeln!(
            out,
            "no projects in {} (create one with `agent-runner{} init --preset shell NAME`)",
            scope.config_dir().display(),
            scope.flag()
        );
        return;
    }
    let now = now_us();
    let _ = writeln!(
        out,
        "{:<20} {:<28} {:>6} {:<10} {:<16} NEXT",
        "PROJECT", "STATE", "ROUND", "PHASE", "LAST"
    );
    for s in snaps {
        let next = if let Some(until) = &s.throttle_until {
            let at = parse_iso_us(until).unwrap_or(now);
            format!(
                "throttled {} ({})",
                relative(at, now),
                s.throttle_class.as_deref().unwrap_or("?")
            )
        } else if let Some(at) = s.next_round_at.as_deref().and_then(parse_iso_us) {
            relative(at, now)
        } else if s.state == LoopState::Running {
            "running now".into()
        } else {
            "-".into()
        };
        let mut state = state_text(s);
        if s.drifted {
            state.push_str(" drifted");
        }
        let _ = writeln!(
            out,
            "{:<20} {:<28} {:>6} {:<10} {:<16} {}",
            s.project,
            state,
            s.round.map_or_else(|| "-".into(), |r| r.to_string()),
            s.phase.as_deref().unwrap_or("-"),
            s.last_outcome
                .as_ref()
                .map_or_else(|| "-".into(), outcome_text),
            next
        );
    }
    for (file, e) in broken {
        let first = e.to_string();
        let _ = writeln!(
            out,
            "{:<20} config-error  {}",
            file.file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
            first.lines().next().unwrap_or("")
        );
    }
}

fn print_detail(s: &Snapshot) {
    let now = now_us();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} ({}, {})",
        s.project,
        s.source.display(),
        match s.scope {
            Scope::System => "system",
            Scope::User => "user",
        }
    );
    let _ = writeln!(out, "  state:       {}", state_text(s));
    if s.state == LoopState::Offline
        && let Some(e) = &s.last_error
    {
        let _ = writeln!(out, "  why:         {e}");
    }
    if let Some(r) = s.round {
        let phase = s
            .phase
            .as_ref()
            .map(|p| format!(" (phase {p})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  round:       {r}{phase}");
    }
    if let Some(o) = &s.last_outcome {
        let code = o
            .exit_code
            .map(|c| format!(", exit {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  last round:  {} {}{code}",
            o.round.map_or_else(String::new, |r| format!("#{r}")),
            outcome_text(o)
        );
    }
    if let Some(at) = s.next_round_at.as_deref() {
        let rel = parse_iso_us(at)
            .map(|t| relative(t, now))
            .unwrap_or_default();
        let _ = writeln!(out, "  next round:  {at} ({rel})");
    }
    if let Some(until) = &s.throttle_until {
        let _ = writeln!(
            out,
            "  throttled:   until {until} ({})",
            s.throttle_class.as_deref().unwrap_or("transient")
        );
    }
    if let Some(e) = &s.last_error
        && s.state != LoopState::Offline
    {
        let _ = writeln!(out, "  last error:  {e}");
    }
    let _ = writeln!(
        out,
        "  at boot:     {}",
        if s.enabled { "enabled" } else { "disabled" }
    );
    if s.drifted {
        let _ = writeln!(
            out,
            "  drift:       the TOML changed after generate; run `agent-runner{} generate {}`",
            s.scope.flag(),
            s.project
        );
    }
    for (label, unit) in [
        ("service", &s.units.service),
        ("timer", &s.units.timer),
        ("path", &s.units.path),
        ("halt", &s.units.halt),
        ("loop", &s.units.loop_unit),
        ("backoff", &s.units.backoff),
    ] {
        let text = unit.as_ref().map_or_else(
            || "not loaded".to_string(),
            |u| {
                let since = [u.state_change_us, u.active_enter_us]
                    .into_iter()
                    .max()
                    .filter(|t| *t > 0)
                    .map(|t| format!(" since {}", relative(t, now)))
                    .unwrap_or_default();
                let result = if u.result.is_empty() || u.result == "success" {
                    String::new()
                } else {
                    format!(", result {}", u.result)
                };
                format!(
                    "{} {}/{}{result}{since}",
                    u.name, u.active_state, u.sub_state
                )
            },
        );
        let _ = writeln!(out, "  {label:<8}     {text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &std::path::Path) -> Project {
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"{0}\"\nlog_dir = \"{0}/log\"\nstop_file = \"{0}/STOP\"\n[prompt]\nfiles = [\"{0}/p.md\"]\n",
            dir.display()
        );
        config::load_str(&text, &dir.join("t.toml"), Scope::System).expect("valid test project")
    }

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
            project: "t".into(),
            scope: Scope::System,
            source: PathBuf::from("t.toml"),
            state: LoopState::Stopped,
            reason: None,
            round: None,
            phase: None,
            last_outcome: None,
            next_round_at: None,
            throttle_until: None,
            throttle_class: None,
            last_error: None,
            enabled: false,
            drifted: false,
            units: UnitStates {
                service: Some(service),
                timer: Some(timer),
                ..UnitStates::default()
            },
            state_file: state.as_ref().map(StateView::from_value),
            state_raw: state,
        }
    }

    fn classified(mut s: Snapshot, p: &Project) -> (LoopState, Option<String>) {
        classify(&mut s, p, true);
        (s.state, s.reason)
    }

    #[test]
    fn the_loop_state_follows_units_state_and_events() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(dir.path());
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
    fn odd_state_files_degrade_to_unknown() {
        let v = serde_json::json!({"round": "seven", "last_outcome": {"duration_ms": -1, "ended_at": 1_795_341_600_u64}, "throttle_until": null});
        let s = StateView::from_value(&v);
        assert_eq!(s.round, None);
        let o = s.last_outcome.unwrap();
        assert_eq!(o.duration_ms, None);
        assert_eq!(o.ended_at.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert_eq!(s.throttle_until, None);
    }
}
