//! A project's state between rounds (`state.json` in the state directory), the loop verdict a round
//! leaves behind (decided in [`super::verdict`]), and the `halt-request` file the stop machinery
//! acts on.
//!
//! Nothing of agent-runner stays resident between rounds, so everything one round must tell the
//! next — the round counter, crash and check-in streaks, a transient back-off — lives here and is
//! written atomically (write, fsync, rename). The round owns the file; `halt`, `status`, `peek`
//! and `diagnose` use this module's API to read it or to end a loop.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::brakes::Memory;
use super::classify::Outcome;
use crate::config::Project;
use crate::error::{Error, Result};
use crate::events::payload::LogComplete;
use crate::fsutil::{self, Dir, Existing, STATE_MAX_BYTES};
use crate::paths::Scope;

/// The state file's name inside the state directory.
pub(crate) const STATE_FILE: &str = "state.json";
/// The halt request's name inside the state directory (watched by the path unit).
pub(crate) const HALT_REQUEST_FILE: &str = "halt-request";
/// Where the project's state lives: `$AGENT_RUNNER_STATE_DIR` (tests), else systemd's
/// `$STATE_DIRECTORY` (the service), else the scope's state directory when it exists or can be
/// created, else `LOG_DIR/state` (a round run by hand without access to /var/lib).
pub(crate) fn dir(project: &Project) -> PathBuf {
    dir_for(&project.name, project.scope, &project.runtime.log_dir)
}

/// [`dir`] from its parts.
pub(crate) fn dir_for(name: &str, scope: Scope, log_dir: &Path) -> PathBuf {
    if let Some(d) = std::env::var_os("AGENT_RUNNER_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("STATE_DIRECTORY").filter(|d| !d.is_empty()) {
        // systemd passes one path per StateDirectory= entry, colon-separated; ours is the first.
        let first = d
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_string();
        if !first.is_empty() {
            return PathBuf::from(first);
        }
    }
    let scoped = scope.state_dir(name);
    if scoped.join(STATE_FILE).exists() || crate::config::battery::writable_dir(&scoped).is_ok() {
        scoped
    } else {
        log_dir.join("state")
    }
}

/// What the loop should do after a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// Run the next round as scheduled.
    #[default]
    Continue,
    /// Do not run the agent before `until`.
    BackOff,
    /// Stop the loop (a halt request was written).
    Halt,
}

impl Action {
    /// The snake_case name used in events and state.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Continue => "continue",
            Action::BackOff => "back_off",
            Action::Halt => "halt",
        }
    }
}

/// The round's decision for the loop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Verdict {
    /// Continue, back off or halt.
    pub action: Action,
    /// For `back_off`: epoch seconds before which no agent runs.
    pub until: Option<u64>,
    /// Why (a halt reason, a transient class, `short_crash`).
    pub reason: Option<String>,
}

/// The last finished round, for `status` and for the next round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LastOutcome {
    /// Its number.
    pub round: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// The transient class, auth/network detail or crash signal, when there is one.
    #[serde(default)]
    pub classification: Option<String>,
    /// The runner's exit status.
    pub exit_code: u8,
    /// How long the agent ran.
    pub duration_ms: u64,
    /// Epoch seconds.
    pub ended_at: u64,
    /// Whether its log holds all of the agent's output: false when a write failed (a full disk).
    #[serde(default)]
    pub log_complete: LogComplete,
    /// Why its log is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_error: Option<String>,
}

/// The round currently running, so `status` can show it and a crashed runner is noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Running {
    /// The round number.
    pub round: u64,
    /// Its phase.
    pub phase: Option<String>,
    /// The runner's pid.
    pub pid: u32,
    /// Epoch seconds.
    pub started_at: u64,
}

/// The content of `state.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct State {
    /// The last round started (0: none yet).
    pub round: u64,
    /// The phase index of that round.
    pub phase_index: Option<usize>,
    /// Rounds started since the loop (re)started; compared with max_rounds.
    pub rounds_this_loop: u64,
    /// When the current loop started (epoch seconds).
    pub loop_started_at: Option<u64>,
    /// Short crashes in a row (reset by any other outcome except check-in failures).
    pub consecutive_short_crashes: u32,
    /// Rounds in a row that did not check in.
    pub consecutive_checkin_failures: u32,
    /// Transient errors in a row (escalates estimated back-offs).
    pub consecutive_transients: u32,
    /// Rounds in a row that failed to authenticate.
    pub consecutive_auth_failures: u32,
    /// No agent runs before this (epoch seconds) because of a transient error.
    pub throttle_until: Option<u64>,
    /// The transient class behind `throttle_until`.
    pub throttle_class: Option<String>,
    /// When the throttle began (for `transient_error_recovered`).
    pub throttle_since: Option<u64>,
    /// The last finished round.
    pub last_outcome: Option<LastOutcome>,
    /// Why the loop last stopped or failed, in one sentence.
    pub last_error: Option<String>,
    /// The decision the last round took for the loop.
    pub verdict: Verdict,
    /// The SHA of the last stash agent-runner made.
    pub last_stash: Option<String>,
    /// Set by `halt`/`stop`: the next round starts a new loop.
    pub loop_ended: bool,
    /// The round in progress, if any.
    pub running: Option<Running>,
    /// What the last round spent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_spend: Option<super::ledger::RoundSpend>,
    /// The budget that parks the loop, until the first round after its window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_park: Option<super::ledger::BudgetPark>,
    /// The schedule pause the loop is in, until the first round after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_pause: Option<SchedulePause>,
    /// The progress brakes' memory: where the work tree stood, and the streaks.
    pub progress: Memory,
    /// Rounds in a row the kernel killed for memory, as the after-round step counted them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom: Option<OomStreak>,
    /// When the last round's runner finished (epoch milliseconds): the cool-down counts from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at_ms: Option<u64>,
}

/// Rounds in a row that systemd ended with the result oom-kill. Only the after-round step writes
/// it; a round in between that was not killed breaks the streak by its number alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct OomStreak {
    /// How many in a row, the last one included.
    pub rounds: u32,
    /// The number of the last round killed.
    pub last_round: u64,
}

/// A schedule pause, kept in the state until the first round after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct SchedulePause {
    /// When the pause began (epoch seconds).
    pub since: u64,
    /// The pause window in force, as written; empty outside the run windows.
    pub window: String,
    /// When the next window opens, when one does within the search.
    pub resume_at: Option<u64>,
    /// When the loop looks again.
    pub recheck_at: u64,
    /// The zone the windows are read in (`host`: the host's).
    pub timezone: String,
}

/// Why a round asks the loop to halt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HaltReason {
    /// max_rounds reached.
    MaxRounds,
    /// Too many short crashes in a row.
    CrashLoop,
    /// Too many check-in failures in a row.
    Offline,
    /// The startup battery failed.
    ConfigBroken,
    /// transient_error_action = stop.
    TransientError,
    /// Too many authentication failures in a row.
    AuthFailed,
    /// loop_usd spent (or about to be).
    LoopBudget,
    /// A round cost spike_factor times the recent median, and spike_action = halt.
    CostSpike,
    /// Every goal check passed: the loop is done.
    GoalReached,
    /// stall_rounds rounds in a row changed nothing.
    StalledNoProgress,
    /// repeat_rounds rounds in a row left the same change.
    RepeatingDiff,
    /// [limits] oom_rounds rounds in a row were killed by the kernel for memory.
    MemLoop,
}

impl HaltReason {
    /// The snake_case name written into `halt-request`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HaltReason::MaxRounds => "max_rounds",
            HaltReason::CrashLoop => "crash_loop",
            HaltReason::Offline => "offline",
            HaltReason::ConfigBroken => "config_broken",
            HaltReason::TransientError => "transient_error",
            HaltReason::AuthFailed => "auth_failed",
            HaltReason::LoopBudget => "loop_budget",
            HaltReason::CostSpike => "cost_spike",
            HaltReason::GoalReached => "goal_reached",
            HaltReason::StalledNoProgress => "stalled_no_progress",
            HaltReason::RepeatingDiff => "repeating_diff",
            HaltReason::MemLoop => "mem_loop",
        }
    }
}

/// The `halt-request` file: written by a round, consumed by `agent-runner halt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HaltRequest {
    /// Why.
    pub reason: HaltReason,
    /// One human sentence (already redacted).
    pub message: String,
}

impl HaltRequest {
    /// A request to halt for `reason`, its `message` redacted.
    pub(crate) fn new(reason: HaltReason, message: &str) -> Self {
        Self {
            reason,
            message: crate::redact::redact(message).into_owned(),
        }
    }
}

/// What [`State::begin_round`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Begun {
    /// The new round number.
    pub round: u64,
    /// Its phase index (when the project has phases).
    pub phase_index: Option<usize>,
    /// Whether this round starts a new loop.
    pub new_loop: bool,
    /// A transient back-off just ended: (class, seconds throttled).
    pub recovered: Option<(String, u64)>,
}

impl State {
    /// Reads `dir/state.json`; a missing file is a fresh state. The agent can write in `dir`:
    /// the file is read with no link followed, without waiting on a FIFO, and at most
    /// [`STATE_MAX_BYTES`]. A round recovers from a file that is not a state
    /// (`super::recover`); no one needs to delete it.
    pub(crate) fn load(dir: &Path) -> Result<State> {
        let Some(bytes) = read_if_present(dir, STATE_FILE)? else {
            return Ok(State::default());
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            // serde quotes what it could not read, and the agent wrote it: newlines included,
            // it must not start a line of its own in root's journal.
            Error::Failed(format!(
                "{} is not a valid state file ({})",
                dir.join(STATE_FILE).display(),
                crate::output::visible(&e.to_string(), false)
            ))
        })
    }

    /// Writes `dir/state.json` atomically and durably: write, fsync, rename (the directory is
    /// created if needed). Readers see the old or the new state, never a mix.
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        self.write(dir, true)
    }

    /// Like [`State::save`] without the fsync: still atomic for readers, but a power cut may lose
    /// it. For the round-start record, which the round's end overwrites durably moments later
    /// (keeping an fsync off the path between exec and the agent's spawn).
    pub(crate) fn save_quick(&self, dir: &Path) -> Result<()> {
        self.write(dir, false)
    }

    /// The round-start record and the final save's temporary file: bookkeeping the agent need not
    /// wait for, done after its spawn. A failed quick save is only a warning (the agent runs
    /// already; the round's end writes the state again).
    pub(crate) fn record_start(&self, dir: &Path) -> Result<PendingSave> {
        if let Err(e) = self.save_quick(dir) {
            let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
        }
        PendingSave::prepare(dir)
    }

    /// The round's final save, durable: into the temporary file [`State::record_start`]
    /// prepared, else from scratch. It records the round's end, where the cool-down begins.
    pub(crate) fn save_final(&mut self, prepared: Result<PendingSave>, dir: &Path) -> Result<()> {
        self.ended_at_ms = Some(crate::time::now_us() / 1000);
        match prepared {
            Ok(pending) => pending.commit(self),
            Err(_) => self.save(dir),
        }
    }

    fn write(&self, dir: &Path, durable: bool) -> Result<()> {
        fsutil::create_dir_all(dir)?;
        let tmp = format!(".{STATE_FILE}.{}", std::process::id());
        PendingSave::create(dir, tmp)?.finish(self, durable)
    }

    /// Marks the loop as ended (for `halt` and `stop`): the next round starts a new loop with
    /// fresh counters. A transient throttle is kept: the server's limit does not care.
    pub(crate) fn end_loop(dir: &Path) -> Result<()> {
        let mut state = State::load(dir)?;
        state.loop_ended = true;
        state.save(dir)
    }

    /// Records a halt the verdict decided: `message` becomes the last error, and the halt
    /// request is written for the path unit (a failure to write it is reported on stderr).
    pub(crate) fn request_halt(&mut self, dir: &Path, reason: HaltReason, message: &str) {
        let request = HaltRequest::new(reason, message);
        self.last_error = Some(request.message.clone());
        if let Err(e) = write_halt_request(dir, &request) {
            let _ = writeln!(std::io::stderr(), "agent-runner: {e}");
        }
    }

    /// Epoch seconds before which no agent may run, when that is in the future.
    pub(crate) fn not_before(&self, now: u64) -> Option<u64> {
        let verdict_until = match self.verdict.action {
            Action::BackOff => self.verdict.until,
            _ => None,
        };
        [self.throttle_until, verdict_until]
            .into_iter()
            .flatten()
            .max()
            .filter(|t| *t > now)
    }

    /// Starts a round: bumps the counters, picks the phase, detects a new loop and the end of a
    /// transient back-off.
    pub(crate) fn begin_round(&mut self, now: u64, phases: usize, pid: u32) -> Begun {
        let new_loop = self.loop_ended
            || self.loop_started_at.is_none()
            || self.verdict.action == Action::Halt;
        if new_loop {
            self.rounds_this_loop = 0;
            self.loop_started_at = Some(now);
            self.consecutive_short_crashes = 0;
            self.consecutive_checkin_failures = 0;
            self.consecutive_auth_failures = 0;
            self.progress.new_loop();
            self.oom = None;
            self.loop_ended = false;
        }
        let recovered = match (self.throttle_until, self.throttle_class.take()) {
            (Some(until), Some(class)) if until <= now => {
                let since = self.throttle_since.unwrap_or(until);
                Some((class, now.saturating_sub(since)))
            }
            (_, class) => {
                self.throttle_class = class;
                None
            }
        };
        if recovered.is_some() || self.throttle_until.is_some_and(|t| t <= now) {
            self.throttle_until = None;
            self.throttle_since = None;
        }
        self.round = self.round.saturating_add(1);
        self.rounds_this_loop = self.rounds_this_loop.saturating_add(1);
        self.phase_index =
            (phases > 0).then(|| usize::try_from((self.round - 1) % phases as u64).unwrap_or(0));
        self.verdict = Verdict::default();
        self.running = Some(Running {
            round: self.round,
            phase: None,
            pid,
            started_at: now,
        });
        Begun {
            round: self.round,
            phase_index: self.phase_index,
            new_loop,
            recovered,
        }
    }
}

/// A durable state write prepared in advance: the temporary file (a new inode, which can cost
/// milliseconds on a busy ext4) is created while the agent runs, so that the round's final save is
/// only write, fsync, rename. The temporary file is created new in the held-open state directory
/// (`O_EXCL`, no link followed): a link the agent planted under its name redirects nothing.
#[derive(Debug)]
pub(crate) struct PendingSave {
    dir: Dir,
    tmp: String,
    file: Option<std::fs::File>,
}

impl PendingSave {
    /// Creates the temporary file in `dir`.
    pub(crate) fn prepare(dir: &Path) -> Result<Self> {
        Self::create(dir, format!(".{STATE_FILE}.{}.final", std::process::id()))
    }

    fn create(dir: &Path, tmp: String) -> Result<Self> {
        let dir = Dir::open(dir)?;
        // A temporary file left by a runner that died with this pid, or a link in its place.
        dir.remove(&tmp);
        let file = dir.open_write(Path::new(&tmp), Existing::Refuse, 0o644)?;
        dir.hand_to_owner(&file)?;
        Ok(Self {
            dir,
            tmp,
            file: Some(file),
        })
    }

    /// Writes `state` durably into place (write, fsync, rename).
    pub(crate) fn commit(self, state: &State) -> Result<()> {
        self.finish(state, true)
    }

    fn finish(mut self, state: &State, durable: bool) -> Result<()> {
        let mut text =
            serde_json::to_vec_pretty(state).map_err(|e| Error::Failed(e.to_string()))?;
        text.push(b'\n');
        let mut file = self.file.take().expect("finished once");
        let written = std::io::Write::write_all(&mut file, &text)
            .and_then(|()| if durable { file.sync_all() } else { Ok(()) })
            .map_err(|e| Error::io("cannot write", self.dir.path().join(STATE_FILE), e))
            .and_then(|()| self.dir.rename(&self.tmp, STATE_FILE));
        if written.is_err() {
            self.dir.remove(&self.tmp);
        }
        written
    }
}

impl Drop for PendingSave {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.dir.remove(&self.tmp);
        }
    }
}

/// The bytes of the file `name` in `dir`, `None` when it (or `dir`) does not exist; read with no
/// link followed, never waiting, at most [`STATE_MAX_BYTES`].
fn read_if_present(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    let read = Dir::open(dir).and_then(|d| d.read(Path::new(name), STATE_MAX_BYTES));
    match read {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.io_source().map(std::io::Error::kind) == Some(std::io::ErrorKind::NotFound) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Writes `dir/halt-request` atomically. The directory is reached as the state file's is: a
/// root step (the after-round unit halting a loop killed for memory) writes here too, and must
/// not follow a link the agent planted in its place.
pub(crate) fn write_halt_request(dir: &Path, request: &HaltRequest) -> Result<()> {
    fsutil::create_dir_all(dir)?;
    let mut text = serde_json::to_vec(request).map_err(|e| Error::Failed(e.to_string()))?;
    text.push(b'\n');
    Dir::open(dir)?.write_atomic(HALT_REQUEST_FILE, &text, 0o644)
}

/// Reads `dir/halt-request`, if present. An unreadable or malformed request still means "halt":
/// it comes back with reason `config_broken`-free defaults only when it parses, else as an error.
pub(crate) fn read_halt_request(dir: &Path) -> Result<Option<HaltRequest>> {
    let Some(bytes) = read_if_present(dir, HALT_REQUEST_FILE)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::Failed(format!(
            "{} is not a valid halt request: {}",
            dir.join(HALT_REQUEST_FILE).display(),
            crate::output::visible(&e.to_string(), false)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_serde_quotes_of_a_bad_state_stays_on_one_escaped_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(STATE_FILE),
            "{\"verdict\":{\"action\":\"x\\nagent-runner: forged\\u001b[2J\"}}",
        )
        .unwrap();
        let text = State::load(dir.path()).unwrap_err().to_string();
        assert!(!text.contains('\n') && !text.contains('\x1b'), "{text}");
        assert!(
            text.contains("x\\u000aagent-runner: forged\\u001b[2J"),
            "{text}"
        );
    }

    #[test]
    fn state_and_halt_request_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = State::default();
        s.begin_round(7, 2, 42);
        s.save(dir.path()).unwrap();
        assert_eq!(State::load(dir.path()).unwrap(), s);
        let mut later = s.clone();
        later.round = 99;
        PendingSave::prepare(dir.path())
            .unwrap()
            .commit(&later)
            .unwrap();
        assert_eq!(State::load(dir.path()).unwrap().round, 99);
        drop(PendingSave::prepare(dir.path()).unwrap());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        State::end_loop(dir.path()).unwrap();
        assert!(State::load(dir.path()).unwrap().loop_ended);

        assert_eq!(read_halt_request(dir.path()).unwrap(), None);
        let req = HaltRequest {
            reason: HaltReason::CrashLoop,
            message: "x".into(),
        };
        write_halt_request(dir.path(), &req).unwrap();
        let text = std::fs::read_to_string(dir.path().join(HALT_REQUEST_FILE)).unwrap();
        assert!(text.contains("\"reason\":\"crash_loop\""), "{text}");
        assert_eq!(read_halt_request(dir.path()).unwrap(), Some(req));

        std::fs::write(dir.path().join(STATE_FILE), "{garbage").unwrap();
        let garbage = State::load(dir.path()).unwrap_err().to_string();
        assert!(
            garbage.ends_with(
                "state.json is not a valid state file (key must be a string at line 1 column 2)"
            ),
            "{garbage}"
        );
    }

    #[test]
    fn a_link_planted_at_a_temporary_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "kept").unwrap();
        let pid = std::process::id();
        for tmp in [
            format!(".{STATE_FILE}.{pid}"),
            format!(".{STATE_FILE}.{pid}.final"),
        ] {
            std::os::unix::fs::symlink(outside.path(), dir.path().join(tmp)).unwrap();
        }
        State::default().save_quick(dir.path()).unwrap();
        PendingSave::prepare(dir.path())
            .unwrap()
            .commit(&State::default())
            .unwrap();
        assert_eq!(std::fs::read_to_string(outside.path()).unwrap(), "kept");
        assert!(!dir.path().join(STATE_FILE).is_symlink());
    }

    #[test]
    fn a_halt_request_goes_through_no_link_another_user_planted() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let state_dir = tmp.path().join("state");
        std::os::unix::fs::symlink(&elsewhere, &state_dir).unwrap();
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            &state_dir,
            Some(nix::unistd::Uid::from_raw(65534)),
            None,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .unwrap();
        let request = HaltRequest::new(HaltReason::MemLoop, "killed for memory");
        let e = write_halt_request(&state_dir, &request).unwrap_err();
        assert!(e.to_string().ends_with("is a symbolic link"), "{e}");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
}
