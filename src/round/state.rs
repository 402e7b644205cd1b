//! A project's state between rounds (`state.json` in the state directory), the loop verdict a round
//! leaves behind, and the `halt-request` file the stop machinery acts on.
//!
//! Nothing of agent-runner stays resident between rounds, so everything one round must tell the
//! next — the round counter, crash and check-in streaks, a transient back-off — lives here and is
//! written atomically (write, fsync, rename). The round owns the file; `halt`, `status`, `peek`
//! and `diagnose` use this module's API to read it or to end a loop.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Project, TransientAction};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Scope;

/// The state file's name inside the state directory.
pub(crate) const STATE_FILE: &str = "state.json";
/// The halt request's name inside the state directory (watched by the path unit).
pub(crate) const HALT_REQUEST_FILE: &str = "halt-request";
/// Crash back-offs never exceed this.
pub(crate) const MAX_CRASH_DELAY_S: u64 = 1800;
/// Transient back-offs never exceed this (an account limit resets within hours).
pub(crate) const MAX_THROTTLE_S: u64 = 8 * 3600;

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

/// How a round ended (DESIGN §4 step 6, plus the two ways a round can end without a verdict on
/// the agent: it never checked in, or the runner was told to stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The agent exited 0.
    Ok,
    /// The agent failed (non-zero exit or killed by a signal it did not ask for).
    Crash,
    /// The hard round timeout (or the runner's own watchdog) ended it.
    Timeout,
    /// It finished its work (terminal marker) but lingered and was stopped.
    GraceKill,
    /// A rate limit, server error, request timeout or network failure.
    Transient,
    /// An authentication failure (401, invalid key, expired OAuth token).
    AuthFail,
    /// The configuration or startup battery failed; never retried.
    ConfigBroken,
    /// No output and no check-in within checkin_timeout_s.
    NoCheckin,
    /// The runner got SIGTERM/SIGINT and stopped the agent.
    Stopped,
}

impl Outcome {
    /// The snake_case name used in events and state.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Crash => "crash",
            Outcome::Timeout => "timeout",
            Outcome::GraceKill => "grace_kill",
            Outcome::Transient => "transient",
            Outcome::AuthFail => "auth_fail",
            Outcome::ConfigBroken => "config_broken",
            Outcome::NoCheckin => "no_checkin",
            Outcome::Stopped => "stopped",
        }
    }

    /// The round's exit status (DESIGN §4): 0 ok, 75 transient, 78 config, 1 failure, 124 timeout.
    pub(crate) fn exit_code(self) -> u8 {
        use crate::error::exit;
        match self {
            Outcome::Ok | Outcome::GraceKill | Outcome::Stopped => exit::OK,
            Outcome::Transient => exit::TEMPFAIL,
            Outcome::ConfigBroken => exit::CONFIG,
            Outcome::Timeout => exit::TIMEOUT,
            Outcome::Crash | Outcome::AuthFail | Outcome::NoCheckin => exit::FAILURE,
        }
    }
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// The knobs of the verdict logic, from the project's `[runtime]`.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// restart_delay_s.
    pub restart_delay_s: u64,
    /// max_rounds.
    pub max_rounds: Option<u64>,
    /// crash_loop_threshold.
    pub crash_loop_threshold: u32,
    /// short_crash_s.
    pub short_crash_s: u64,
    /// checkin_attempts.
    pub checkin_attempts: u32,
    /// transient_error_action.
    pub transient_action: TransientAction,
}

impl Policy {
    /// The policy of `project`.
    pub(crate) fn of(project: &Project) -> Self {
        let rt = &project.runtime;
        Self {
            restart_delay_s: rt.restart_delay_s,
            max_rounds: rt.max_rounds,
            crash_loop_threshold: rt.crash_loop_threshold,
            short_crash_s: rt.short_crash_s,
            checkin_attempts: rt.checkin_attempts,
            transient_action: rt.transient_error_action,
        }
    }
}

/// A finished round, as the verdict logic needs it.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    /// Round number.
    pub round: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Transient class / detail.
    pub classification: Option<String>,
    /// Server-given reset time (epoch seconds), already validated.
    pub reset_at: Option<u64>,
    /// Default back-off of the transient class, seconds.
    pub default_back_off_s: u64,
    /// Agent run time.
    pub duration_ms: u64,
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
    /// Reads `dir/state.json`; a missing file is a fresh state.
    pub(crate) fn load(dir: &Path) -> Result<State> {
        let path = dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Failed(format!(
                    "{} is not a valid state file ({e}); delete it to start the counters afresh",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Error::io("cannot read", path, e)),
        }
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

    fn write(&self, dir: &Path, durable: bool) -> Result<()> {
        fsutil::create_dir_all(dir)?;
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| Error::Failed(e.to_string()))?;
        text.push(b'\n');
        let path = dir.join(STATE_FILE);
        let tmp = dir.join(format!(".{STATE_FILE}.{}", std::process::id()));
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut file, &text)?;
            if durable {
                file.sync_all()?;
            }
            std::fs::rename(&tmp, &path)
        })();
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io("cannot write", &path, e)
        })
    }

    /// Marks the loop as ended (for `halt` and `stop`): the next round starts a new loop with
    /// fresh counters. A transient throttle is kept: the server's limit does not care.
    pub(crate) fn end_loop(dir: &Path) -> Result<()> {
        let mut state = State::load(dir)?;
        state.loop_ended = true;
        state.save(dir)
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

    /// Records a finished round and decides the verdict. Returns the halt reason when the loop
    /// must stop (the caller emits the event and writes the halt request).
    pub(crate) fn finish_round(
        &mut self,
        f: &Finished,
        policy: &Policy,
        now: u64,
    ) -> Option<HaltReason> {
        self.running = None;
        self.last_outcome = Some(LastOutcome {
            round: f.round,
            outcome: f.outcome,
            classification: f.classification.clone(),
            exit_code: f.outcome.exit_code(),
            duration_ms: f.duration_ms,
            ended_at: now,
        });
        self.verdict = Verdict::default();
        let short = f.duration_ms < policy.short_crash_s.saturating_mul(1000);
        // `now` is whole seconds, rounded down: a delay counted from it could be up to a second
        // short, so back-offs count from the next whole second.
        let ceil_now = now + 1;
        let mut halt = None;
        match f.outcome {
            Outcome::Ok | Outcome::GraceKill | Outcome::Timeout | Outcome::Stopped => {
                self.consecutive_short_crashes = 0;
                self.consecutive_checkin_failures = 0;
                self.consecutive_transients = 0;
            }
            Outcome::Crash | Outcome::AuthFail => {
                self.consecutive_checkin_failures = 0;
                self.consecutive_transients = 0;
                if short {
                    self.consecutive_short_crashes += 1;
                    let n = self.consecutive_short_crashes;
                    if n >= policy.crash_loop_threshold {
                        halt = Some(HaltReason::CrashLoop);
                    } else {
                        let delay = policy
                            .restart_delay_s
                            .saturating_mul(1u64 << n.min(20))
                            .min(MAX_CRASH_DELAY_S);
                        self.verdict = Verdict {
                            action: Action::BackOff,
                            until: Some(ceil_now + delay),
                            reason: Some("short_crash".into()),
                        };
                    }
                } else {
                    self.consecutive_short_crashes = 0;
                }
            }
            Outcome::NoCheckin => {
                self.consecutive_checkin_failures += 1;
                if self.consecutive_checkin_failures >= policy.checkin_attempts {
                    halt = Some(HaltReason::Offline);
                }
            }
            Outcome::Transient => {
                self.consecutive_short_crashes = 0;
                self.consecutive_checkin_failures = 0;
                self.consecutive_transients += 1;
                match policy.transient_action {
                    TransientAction::Ignore => {}
                    TransientAction::Stop => halt = Some(HaltReason::TransientError),
                    TransientAction::BackOff => {
                        let until = match f.reset_at {
                            Some(t) if t > now => t.min(now + MAX_THROTTLE_S),
                            _ => {
                                let n = self.consecutive_transients.saturating_sub(1).min(5);
                                ceil_now
                                    + f.default_back_off_s
                                        .saturating_mul(1u64 << n)
                                        .min(MAX_CRASH_DELAY_S)
                            }
                        };
                        self.throttle_until = Some(until);
                        self.throttle_class.clone_from(&f.classification);
                        self.throttle_since = Some(now);
                        self.verdict = Verdict {
                            action: Action::BackOff,
                            until: Some(until),
                            reason: f.classification.clone(),
                        };
                    }
                }
            }
            Outcome::ConfigBroken => halt = Some(HaltReason::ConfigBroken),
        }
        if halt.is_none()
            && policy
                .max_rounds
                .is_some_and(|max| self.rounds_this_loop >= max)
        {
            halt = Some(HaltReason::MaxRounds);
        }
        if let Some(reason) = halt {
            self.verdict = Verdict {
                action: Action::Halt,
                until: None,
                reason: Some(reason.as_str().into()),
            };
        }
        halt
    }
}

/// A durable state write prepared in advance: the temporary file (a new inode, which can cost
/// milliseconds on a busy ext4) is created while the agent runs, so that the round's final save is
/// only write, fsync, rename.
#[derive(Debug)]
pub(crate) struct PendingSave {
    dir: PathBuf,
    tmp: PathBuf,
    file: Option<std::fs::File>,
}

impl PendingSave {
    /// Creates the temporary file in `dir`.
    pub(crate) fn prepare(dir: &Path) -> Result<Self> {
        let tmp = dir.join(format!(".{STATE_FILE}.{}.final", std::process::id()));
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io("cannot write", &tmp, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tmp,
            file: Some(file),
        })
    }

    /// Writes `state` durably into place (write, fsync, rename).
    pub(crate) fn commit(mut self, state: &State) -> Result<()> {
        let path = self.dir.join(STATE_FILE);
        let mut text =
            serde_json::to_vec_pretty(state).map_err(|e| Error::Failed(e.to_string()))?;
        text.push(b'\n');
        let mut file = self.file.take().expect("committed once");
        std::io::Write::write_all(&mut file, &text)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&self.tmp, &path))
            .map_err(|e| Error::io("cannot write", &path, e))
    }
}

impl Drop for PendingSave {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `dir/halt-request` atomically.
pub(crate) fn write_halt_request(dir: &Path, request: &HaltRequest) -> Result<()> {
    fsutil::create_dir_all(dir)?;
    let mut text = serde_json::to_vec(request).map_err(|e| Error::Failed(e.to_string()))?;
    text.push(b'\n');
    fsutil::write_atomic(&dir.join(HALT_REQUEST_FILE), &text, 0o644)
}

/// Reads `dir/halt-request`, if present. An unreadable or malformed request still means "halt":
/// it comes back with reason `config_broken`-free defaults only when it parses, else as an error.
pub(crate) fn read_halt_request(dir: &Path) -> Result<Option<HaltRequest>> {
    let path = dir.join(HALT_REQUEST_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::Failed(format!(
                "{} is not a valid halt request: {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            restart_delay_s: 3,
            max_rounds: None,
            crash_loop_threshold: 3,
            short_crash_s: 60,
            checkin_attempts: 2,
            transient_action: TransientAction::BackOff,
        }
    }

    fn finished(round: u64, outcome: Outcome, duration_ms: u64) -> Finished {
        Finished {
            round,
            outcome,
            classification: None,
            reset_at: None,
            default_back_off_s: 60,
            duration_ms,
        }
    }

    #[test]
    fn rounds_count_and_phases_rotate() {
        let mut s = State::default();
        let b = s.begin_round(100, 3, 1);
        assert_eq!((b.round, b.phase_index, b.new_loop), (1, Some(0), true));
        s.finish_round(&finished(1, Outcome::Ok, 10), &policy(), 101);
        let indexes: Vec<_> = (0..4)
            .map(|_| s.begin_round(102, 3, 1).phase_index)
            .collect();
        assert_eq!(indexes, [Some(1), Some(2), Some(0), Some(1)]);
        assert_eq!(s.begin_round(103, 0, 1).phase_index, None);
    }

    #[test]
    fn short_crashes_escalate_then_halt() {
        let mut s = State::default();
        let mut delays = Vec::new();
        for i in 1..=3 {
            s.begin_round(1000, 0, 1);
            let halt = s.finish_round(&finished(i, Outcome::Crash, 500), &policy(), 1000);
            if i < 3 {
                assert_eq!(halt, None);
                assert_eq!(s.verdict.action, Action::BackOff);
                delays.push(s.verdict.until.unwrap() - 1001);
                assert_eq!(s.not_before(1000), s.verdict.until);
            } else {
                assert_eq!(halt, Some(HaltReason::CrashLoop));
                assert_eq!(s.verdict.action, Action::Halt);
            }
        }
        assert_eq!(delays, [6, 12]);
    }

    #[test]
    fn long_crash_and_ok_reset_the_streak() {
        let mut s = State::default();
        s.begin_round(0, 0, 1);
        s.finish_round(&finished(1, Outcome::Crash, 500), &policy(), 0);
        assert_eq!(s.consecutive_short_crashes, 1);
        s.begin_round(0, 0, 1);
        s.finish_round(&finished(2, Outcome::Crash, 120_000), &policy(), 0);
        assert_eq!(s.consecutive_short_crashes, 0);
        assert_eq!(s.verdict.action, Action::Continue);
    }

    #[test]
    fn checkin_failures_mark_offline() {
        let mut s = State::default();
        s.begin_round(0, 0, 1);
        assert_eq!(
            s.finish_round(&finished(1, Outcome::NoCheckin, 30_000), &policy(), 0),
            None
        );
        s.begin_round(0, 0, 1);
        assert_eq!(
            s.finish_round(&finished(2, Outcome::NoCheckin, 30_000), &policy(), 0),
            Some(HaltReason::Offline)
        );
        // A restarted loop starts the streak afresh.
        let b = s.begin_round(10, 0, 1);
        assert!(b.new_loop);
        assert_eq!(s.consecutive_checkin_failures, 0);
    }

    #[test]
    fn transient_backs_off_to_reset_time_then_recovers() {
        let mut s = State::default();
        s.begin_round(1000, 0, 1);
        let mut f = finished(1, Outcome::Transient, 500);
        f.classification = Some("rate_limit_account".into());
        f.reset_at = Some(5000);
        assert_eq!(s.finish_round(&f, &policy(), 1000), None);
        assert_eq!(s.throttle_until, Some(5000));
        assert_eq!(s.not_before(4999), Some(5000));
        assert_eq!(s.not_before(5000), None);
        assert_eq!(s.consecutive_short_crashes, 0);
        let b = s.begin_round(5001, 0, 1);
        assert_eq!(b.recovered, Some(("rate_limit_account".into(), 4001)));
        assert_eq!(s.throttle_until, None);
        // Only once.
        s.finish_round(&finished(2, Outcome::Ok, 5), &policy(), 5002);
        assert_eq!(s.begin_round(5003, 0, 1).recovered, None);
    }

    #[test]
    fn estimated_transients_escalate_and_stop_action_halts() {
        let mut s = State::default();
        let mut f = finished(1, Outcome::Transient, 500);
        f.classification = Some("rate_limit_model".into());
        s.begin_round(0, 0, 1);
        s.finish_round(&f, &policy(), 0);
        assert_eq!(s.throttle_until, Some(61));
        s.begin_round(100, 0, 1);
        s.finish_round(&f, &policy(), 100);
        assert_eq!(s.throttle_until, Some(221));
        let mut stop = policy();
        stop.transient_action = TransientAction::Stop;
        s.begin_round(300, 0, 1);
        assert_eq!(
            s.finish_round(&f, &stop, 300),
            Some(HaltReason::TransientError)
        );
    }

    #[test]
    fn max_rounds_counts_this_loop_only() {
        let mut p = policy();
        p.max_rounds = Some(2);
        let mut s = State::default();
        s.begin_round(0, 0, 1);
        assert_eq!(s.finish_round(&finished(1, Outcome::Ok, 5), &p, 0), None);
        s.begin_round(0, 0, 1);
        assert_eq!(
            s.finish_round(&finished(2, Outcome::Ok, 5), &p, 0),
            Some(HaltReason::MaxRounds)
        );
        // After the halt, the next round is a new loop: counting starts again.
        assert!(s.begin_round(0, 0, 1).new_loop);
        assert_eq!(s.rounds_this_loop, 1);
        assert_eq!(s.round, 3);
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
        assert!(
            State::load(dir.path())
                .unwrap_err()
                .to_string()
                .contains("delete it")
        );
    }
}
