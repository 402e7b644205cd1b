//! What a round tells: its events (each tagged with the round and its phase), the one-line summary
//! and the `round_end` event that carries the exit status.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use sd_notify::NotifyState;

use super::brakes::{Brake, halt_event};
use super::classify::{Classified, Outcome};
use super::failure::TransientClass;
use super::findings::Findings;
use super::launch::{Agent, Round};
use super::notify::notify;
use super::procs;
use super::prompt::{self, Prompt};
use super::state::{Action, HaltReason, State};
use super::stop::{KillReason, Limits};
use super::supervise::{Note, Supervised};
use crate::config::Project;
use crate::events::payload::{
    AgentAuthErrorDetected, AgentCheckin, AgentExit, AgentNetworkErrorDetected, AgentRetrying,
    AgentSpawn, AuthFailed, CheckinFailed, ConfigBroken, CrashLoop, LogComplete, LoopStarted,
    MaxRoundsReached, ProjectOffline, RoundEnd, RoundGraceExtended, RoundGraceKill,
    RoundInterrupted, RoundOrphansKilled, RoundStart, RoundTimeoutKill, TransientErrorDetected,
    TransientErrorRecovered, TransientErrorStop,
};
use crate::events::{Emitter, Event};
use crate::redact;

/// How much of the log a crash_loop event carries.
const CRASH_TAIL_CHARS: usize = 2000;

/// Emits the events of one round.
pub(crate) struct RoundEvents<'a> {
    emitter: &'a Emitter,
    round: u64,
    phase: Option<&'a str>,
}

impl<'a> RoundEvents<'a> {
    /// The events of round `round` (phase `phase`), sent through `emitter`.
    pub(crate) fn new(emitter: &'a Emitter, round: u64, phase: Option<&'a str>) -> Self {
        Self {
            emitter,
            round,
            phase,
        }
    }

    /// Emits one event with its human sentence.
    pub(crate) fn emit(&self, message: &str, event: impl Into<Event>) {
        self.emitter
            .emit(Some(self.round), self.phase, message, event);
    }

    /// The round has started (a new loop, the end of a back-off) and its agent runs.
    pub(crate) fn started(
        &self,
        project: &Project,
        round: &Round<'_>,
        prompt: &Prompt,
        agent: &Agent,
        log: &Path,
        spawn_latency: Duration,
    ) {
        let n = self.round;
        let agent_pid = agent.pid;
        self.began(project, round);
        let timeout_s = round.timeout_s;
        self.emit(
            &match self.phase {
                Some(p) => format!("round {n} started (phase {p})"),
                None => format!("round {n} started"),
            },
            RoundStart {
                timeout_s,
                prompt_bytes: prompt.bytes,
                prompt_delivery: prompt::delivery_name(project.agent.prompt_delivery).into(),
                config: project.source.display().to_string(),
                previous_round_unfinished: round.unfinished,
            },
        );
        self.emit(
            &format!("round {n}: agent started (pid {agent_pid}, timeout {timeout_s}s)"),
            AgentSpawn {
                pid: agent_pid,
                timeout_s,
                command: prompt.argv[0].clone(),
                log: log.display().to_string(),
                spawn_latency_us: micros(spawn_latency),
            },
        );
    }

    /// What beginning the round found: a new loop, the end of a back-off (whether or not its
    /// agent then runs).
    pub(crate) fn began(&self, project: &Project, round: &Round<'_>) {
        let n = self.round;
        if round.begun.new_loop {
            self.emit(
                &format!("loop of {} started at round {n}", project.name),
                LoopStarted {
                    max_rounds: project.runtime.max_rounds,
                },
            );
        }
        if let Some((class, secs)) = &round.begun.recovered {
            self.emit(
                &format!("round {n}: back-off after {class} ended ({secs}s throttled)"),
                TransientErrorRecovered {
                    classification: class.clone(),
                    throttled_for_s: *secs,
                },
            );
        }
    }

    /// What the supervision noticed while the agent ran.
    pub(crate) fn note(&self, note: Note<'_>) {
        let n = self.round;
        match note {
            Note::CheckedIn { via, after } => self.emit(
                &format!("round {n}: agent checked in ({via}) after {:.1}s", after.as_secs_f64()),
                AgentCheckin {
                    via: via.into(),
                    after_ms: ms(after),
                },
            ),
            Note::Retrying { burst, retry } => self.emit(
                &format!(
                    "round {n}: the agent is retrying a failed request ({})",
                    retry.describe()
                ),
                AgentRetrying {
                    burst,
                    status: retry.status,
                    classification: retry.cause.map(|c| c.as_str().into()),
                    attempt: retry.attempt,
                    max_retries: retry.max_retries,
                    retry_delay_ms: retry.delay_ms,
                    raw: Some(retry.raw.clone()).filter(|r| !r.is_empty()),
                },
            ),
            Note::GraceExtended {
                live,
                ignored,
                grace,
            } => self.emit(
                &format!(
                    "round {n}: result seen {}s ago but {} worker process(es) still run; waiting until the hard timeout",
                    grace.as_secs(),
                    live.len()
                ),
                RoundGraceExtended {
                    grace_s: grace.as_secs(),
                    live_children: procs::describe(live),
                    ignored_children: procs::describe(ignored),
                },
            ),
        }
    }

    /// How the agent's run ended: its exit, why the runner killed it, what it left behind.
    pub(crate) fn agent_ended(&self, s: &Supervised, lim: &Limits) {
        self.emit(
            &format!(
                "round {}: agent ended with {} after {:.1}s ({})",
                self.round,
                exit_text(s),
                s.duration.as_secs_f64(),
                exit_cause(s)
            ),
            AgentExit {
                exit_code: s.exit_code,
                signal: s.signal,
                duration_ms: ms(s.duration),
                exit_cause: exit_cause(s).into(),
                output_bytes: s.bytes,
                checked_in: s.checked_in,
                log_error: s.log_error.clone(),
                survivors: s.survivors,
            },
        );
        if let Some(why) = s.killed {
            self.killed(why, lim);
        }
        if !s.orphans.is_empty() {
            self.emit(
                &format!(
                    "round {}: {} process(es) outlived the agent and were killed",
                    self.round,
                    s.orphans.len()
                ),
                RoundOrphansKilled {
                    processes: procs::describe(&s.orphans),
                },
            );
        }
    }

    /// Why the runner killed the agent.
    fn killed(&self, why: KillReason, lim: &Limits) {
        let n = self.round;
        match why {
            KillReason::Timeout => self.emit(
                &format!(
                    "round {n}: killed after {}s (round_timeout_s)",
                    lim.timeout.as_secs()
                ),
                RoundTimeoutKill {
                    reason: "round_timeout_s".into(),
                    limit_s: lim.timeout.as_secs(),
                    service_watchdog_ms: None,
                },
            ),
            KillReason::Watchdog => self.watchdog_killed(lim),
            KillReason::GraceKill => self.emit(
                &format!(
                    "round {n}: agent lingered {}s after its result with no live workers; stopped",
                    lim.grace_after_result.unwrap_or_default().as_secs()
                ),
                RoundGraceKill {
                    grace_s: lim.grace_after_result.unwrap_or_default().as_secs(),
                },
            ),
            KillReason::NoCheckin => self.emit(
                &format!(
                    "round {n}: no output and no check-in within {}s; agent killed",
                    lim.checkin_timeout.as_secs()
                ),
                CheckinFailed {
                    checkin_timeout_s: lim.checkin_timeout.as_secs(),
                },
            ),
            KillReason::Interrupted(sig) => self.emit(
                &format!(
                    "round {n}: {sig} received; sent {} to the agent, then SIGTERM/SIGKILL to what remained",
                    lim.stop_signal
                ),
                RoundInterrupted {
                    signal: sig.as_str().into(),
                    stop_signal: lim.stop_signal.as_str().into(),
                },
            ),
            KillReason::Orphans => {}
        }
    }

    fn watchdog_killed(&self, lim: &Limits) {
        let limit = lim.watchdog.unwrap_or_default();
        let service = sd_notify::watchdog_enabled();
        let bound = match service {
            Some(w) if w < limit => {
                format!(" (the service watchdog allows {:.1}s)", w.as_secs_f64())
            }
            _ => String::new(),
        };
        self.emit(
            &format!(
                "round {}: agent silent for too long (watchdog_s = {}){bound}; killed",
                self.round,
                limit.as_secs()
            ),
            RoundTimeoutKill {
                reason: "watchdog_s".into(),
                limit_s: limit.as_secs(),
                service_watchdog_ms: Some(service.map(ms)),
            },
        );
    }

    /// What the output said: usage (when a request did use something: a failed one reports zeros),
    /// and the transient, auth or network failure behind the outcome.
    pub(crate) fn findings(&self, c: &Classified, f: &Findings) {
        let n = self.round;
        if let Some(u) = f.usage.as_ref().filter(|u| u.shows_use()) {
            let mut msg = format!("round {n}: usage");
            if let (Some(i), Some(o)) = (u.input_tokens, u.output_tokens) {
                let _ = write!(msg, " {i} in / {o} out tokens");
            } else if let Some(t) = u.total_tokens {
                let _ = write!(msg, " {t} tokens");
            }
            if let Some(cost) = u.cost_usd {
                let _ = write!(msg, ", ${cost:.4}");
            }
            self.emit(&msg, u.to_payload(f.model()));
        }
        match c.outcome {
            Outcome::Transient => self.transient(c),
            Outcome::AuthFail => self.emit(
                &format!("round {n}: the agent could not authenticate"),
                AgentAuthErrorDetected {
                    raw: c.evidence.clone(),
                },
            ),
            _ => {}
        }
    }

    fn transient(&self, c: &Classified) {
        let n = self.round;
        let t = c.transient.as_ref();
        let class = c.classification.as_deref().unwrap_or("transient");
        let reset = t.and_then(|t| t.reset_at);
        if t.is_some_and(|t| t.class == TransientClass::Network) {
            self.emit(
                &format!("round {n}: network failure"),
                AgentNetworkErrorDetected {
                    raw: c.evidence.clone(),
                },
            );
        }
        self.emit(
            &match reset {
                Some(r) => format!(
                    "round {n}: transient error {class}; resets at {}",
                    crate::time::timestamp(crate::time::epoch_time(r))
                ),
                None => format!("round {n}: transient error {class}"),
            },
            TransientErrorDetected {
                classification: class.into(),
                reset_at: reset,
                default_back_off_s: t.map(|t| t.class.default_back_off_s()),
                raw: c.evidence.clone(),
            },
        );
    }

    /// Emits the halt event for `reason` and returns its message. `tail` is the end of the
    /// agent's output, for a crash loop.
    pub(crate) fn halt(
        &self,
        project: &Project,
        st: &State,
        reason: HaltReason,
        c: &Classified,
        tail: &[u8],
    ) -> String {
        let rt = &project.runtime;
        let name = &project.name;
        let (message, event): (String, Event) = match reason {
            HaltReason::CrashLoop => (
                format!(
                    "{name}: {} short crashes in a row (last: {}); loop halted",
                    st.consecutive_short_crashes,
                    c.classification.as_deref().unwrap_or("crash")
                ),
                CrashLoop {
                    consecutive: st.consecutive_short_crashes,
                    classification: c.classification.clone(),
                    reason: last_chars(&String::from_utf8_lossy(tail), CRASH_TAIL_CHARS).into(),
                }
                .into(),
            ),
            HaltReason::Offline => (
                format!(
                    "{name}: {} rounds in a row did not check in within {}s; project offline",
                    st.consecutive_checkin_failures, rt.checkin_timeout_s
                ),
                ProjectOffline {
                    consecutive: st.consecutive_checkin_failures,
                    checkin_timeout_s: rt.checkin_timeout_s,
                }
                .into(),
            ),
            HaltReason::MaxRounds => (
                format!(
                    "{name}: max_rounds ({}) reached; loop stops",
                    rt.max_rounds.unwrap_or_default()
                ),
                MaxRoundsReached {
                    rounds_completed: st.rounds_this_loop,
                    max_rounds: rt.max_rounds,
                }
                .into(),
            ),
            HaltReason::TransientError => (
                format!(
                    "{name}: transient error {} and transient_error_action = stop; loop halted",
                    c.classification.as_deref().unwrap_or("")
                ),
                TransientErrorStop {
                    classification: c.classification.clone(),
                }
                .into(),
            ),
            HaltReason::AuthFailed => {
                let hint = project.agent.auth_hint();
                (
                    format!(
                        "{name}: {} rounds in a row failed to authenticate; loop halted. To fix: {hint}",
                        st.consecutive_auth_failures
                    ),
                    AuthFailed {
                        consecutive: st.consecutive_auth_failures,
                        hint: hint.into(),
                        raw: c.evidence.clone(),
                    }
                    .into(),
                )
            }
            // Their events (cost_spike, budget_exhausted) carry the amounts and were emitted
            // where the spend was settled.
            HaltReason::LoopBudget | HaltReason::CostSpike => {
                return format!("{name}: spend limit; loop halted ({})", reason.as_str());
            }
            HaltReason::ConfigBroken => (
                format!("{name}: configuration broken; loop halted"),
                ConfigBroken::default().into(),
            ),
            HaltReason::GoalReached => halt_event(project, &st.progress, Brake::GoalReached),
            HaltReason::StalledNoProgress => halt_event(project, &st.progress, Brake::Stalled),
            HaltReason::RepeatingDiff => halt_event(project, &st.progress, Brake::Repeating),
            // Decided by the after-round step, never by a round; named here for completeness.
            HaltReason::MemLoop => {
                let consecutive = st.oom.map_or(0, |streak| streak.rounds);
                (
                    format!("{name}: {consecutive} rounds in a row killed for memory; loop halted"),
                    crate::events::payload::MemLoop { consecutive }.into(),
                )
            }
        };
        self.emit(&message, event);
        message
    }

    /// The round's end: the summary line (STATUS=, and stdout off the journal) and `round_end`.
    /// Returns the round's exit status.
    pub(crate) fn ended(
        &self,
        label: &str,
        c: &Classified,
        s: &Supervised,
        st: &State,
        log: &Path,
        agent_done_at: Instant,
    ) -> u8 {
        let outcome = c.outcome;
        let code = outcome.exit_code();
        let summary = summary(label, c, s, st);
        let peak = procs::peak_rss_kib();
        self.emit(
            &summary,
            RoundEnd {
                outcome: outcome.as_str().into(),
                classification: c.classification.clone(),
                exit_code: code,
                agent_exit_code: s.exit_code,
                agent_signal: s.signal,
                duration_ms: ms(s.duration),
                output_bytes: s.bytes,
                verdict: st.verdict.action.as_str().into(),
                until: st.verdict.until,
                log: log.display().to_string(),
                runner_peak_rss_kb: peak,
                exit_latency_us: micros(agent_done_at.elapsed()),
                log_complete: LogComplete(s.log_complete()),
                agent_retries: Some(c.agent_retries).filter(|n| *n > 0),
                tokens: st.last_spend.as_ref().map(|s| s.tokens).filter(|t| *t > 0),
                cost_usd: st.last_spend.as_ref().and_then(|s| s.cost_usd),
                cost_source: st.last_spend.as_ref().and_then(|s| s.cost_source.clone()),
            },
        );
        notify(&[NotifyState::Status(&summary)]);
        if !libsystemd::logging::connected_to_journal() {
            // The exit status is the round's verdict: a summary line nobody reads (closed pipe,
            // full disk) must not turn it into a failure, nor panic as println! would.
            let _ = crate::output::line(format_args!("{}", redact::redact(&summary)));
        }
        code
    }
}

/// "round 7 (build) ended: transient (rate_limit_model) in 3.2s, the agent retried 10 failed
/// request(s); backing off until …", and a word when its log is incomplete.
fn summary(label: &str, c: &Classified, s: &Supervised, st: &State) -> String {
    let outcome = c.outcome;
    let mut summary = format!(
        "{label} ended: {}{} in {:.1}s",
        outcome.as_str(),
        c.classification
            .as_deref()
            .filter(|_| outcome != Outcome::Stopped)
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        s.duration.as_secs_f64()
    );
    if c.agent_retries > 0 {
        let _ = write!(
            summary,
            ", the agent retried {} failed request(s)",
            c.agent_retries
        );
    }
    if let Some(e) = &s.log_error {
        let _ = write!(summary, "; round log incomplete ({e})");
    }
    match st.verdict.action {
        Action::Continue => {}
        Action::BackOff => {
            if let Some(until) = st.verdict.until {
                let _ = write!(
                    summary,
                    "; backing off until {}",
                    crate::time::timestamp(crate::time::epoch_time(until))
                );
            }
        }
        Action::Halt => {
            let _ = write!(
                summary,
                "; loop halts ({})",
                st.verdict.reason.as_deref().unwrap_or("halt")
            );
        }
    }
    summary
}

/// How the agent's run ended, in one word of the `agent_exit` event.
fn exit_cause(s: &Supervised) -> &'static str {
    match s.killed {
        Some(KillReason::Timeout) => "timeout",
        Some(KillReason::Watchdog) => "watchdog",
        Some(KillReason::GraceKill) => "grace_kill",
        Some(KillReason::NoCheckin) => "checkin_failed",
        Some(KillReason::Interrupted(_)) => "interrupted",
        Some(KillReason::Orphans) | None => match (s.exit_code, s.signal) {
            (Some(0), _) => "clean",
            (Some(_), _) => "error",
            _ => "signal",
        },
    }
}

/// "exit code 3", "signal SIGKILL".
fn exit_text(s: &Supervised) -> String {
    match (s.exit_code, s.signal) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(sig)) => format!(
            "signal {}",
            Signal::try_from(sig).map_or_else(|_| sig.to_string(), |s| s.as_str().to_string())
        ),
        _ => "unknown status".into(),
    }
}

/// The last `n` characters of `text`.
fn last_chars(text: &str, n: usize) -> &str {
    let start = text.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i);
    &text[start..]
}

/// `d` in whole milliseconds.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
