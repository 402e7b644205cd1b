//! The verdict policy: how a finished round moves the state's streaks and what it decides for the
//! loop — continue, back off until a time, or halt (and why). Pure and unit-tested: the round
//! hands in what happened, the state comes out changed.

use super::brakes::Brake;
use super::classify::{Classified, Outcome};
use super::state::{Action, HaltReason, LastOutcome, State, Verdict};
use super::supervise::Supervised;
use crate::config::{Project, TransientAction};
use crate::events::payload::LogComplete;

/// Crash back-offs never exceed this.
const MAX_CRASH_DELAY_S: u64 = 1800;
/// Transient back-offs never exceed this (an account limit resets within hours).
const MAX_THROTTLE_S: u64 = 8 * 3600;

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
    /// auth_fail_halt_after.
    pub auth_fail_halt_after: u32,
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
            auth_fail_halt_after: rt.auth_fail_halt_after,
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
    /// Why the round log is incomplete, if it is.
    pub log_error: Option<String>,
    /// The goal reached, or a progress brake, when one fires.
    pub brake: Option<Brake>,
}

impl Finished {
    /// Round `round`, classified, as the supervision saw it.
    pub(crate) fn of(round: u64, c: &Classified, s: &Supervised) -> Self {
        let transient = c.transient.as_ref();
        Self {
            round,
            outcome: c.outcome,
            classification: c.classification.clone(),
            reset_at: transient.and_then(|t| t.reset_at),
            default_back_off_s: transient.map_or(60, |t| t.class.default_back_off_s()),
            duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
            log_error: s.log_error.clone(),
            brake: None,
        }
    }
}

impl State {
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
            log_complete: LogComplete(f.log_error.is_none()),
            log_error: f.log_error.clone(),
        });
        self.verdict = Verdict::default();
        self.consecutive_auth_failures = if f.outcome == Outcome::AuthFail {
            self.consecutive_auth_failures.saturating_add(1)
        } else {
            0
        };
        let mut halt = match f.outcome {
            Outcome::Ok | Outcome::GraceKill | Outcome::Timeout | Outcome::Stopped => {
                self.consecutive_short_crashes = 0;
                self.consecutive_checkin_failures = 0;
                self.consecutive_transients = 0;
                None
            }
            // A credential that does not work will not start working by itself: after a few
            // such rounds the loop halts with a hint instead of crash-looping.
            Outcome::AuthFail if self.consecutive_auth_failures >= policy.auth_fail_halt_after => {
                Some(HaltReason::AuthFailed)
            }
            // The runner never classifies a round oom itself; treated as the crash it resembles.
            Outcome::Crash | Outcome::AuthFail | Outcome::Oom => self.crashed(f, policy, now),
            Outcome::NoCheckin => {
                self.consecutive_checkin_failures += 1;
                (self.consecutive_checkin_failures >= policy.checkin_attempts)
                    .then_some(HaltReason::Offline)
            }
            Outcome::Transient => self.transient(f, policy, now),
            Outcome::ConfigBroken => Some(HaltReason::ConfigBroken),
        };
        halt = match (f.brake, halt) {
            // The operator's checks decide "done", whatever else the round came to.
            (Some(Brake::GoalReached), _) => Some(HaltReason::GoalReached),
            (Some(Brake::Stalled), None) => Some(HaltReason::StalledNoProgress),
            (Some(Brake::Repeating), None) => Some(HaltReason::RepeatingDiff),
            (_, halt) => halt,
        };
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

    /// A crash (or an authentication failure): short ones in a row back off, doubling the restart
    /// delay each time, and halt the loop at the threshold.
    fn crashed(&mut self, f: &Finished, policy: &Policy, now: u64) -> Option<HaltReason> {
        self.consecutive_checkin_failures = 0;
        self.consecutive_transients = 0;
        let short = f.duration_ms < policy.short_crash_s.saturating_mul(1000);
        if !short {
            self.consecutive_short_crashes = 0;
            return None;
        }
        self.consecutive_short_crashes += 1;
        let n = self.consecutive_short_crashes;
        if n >= policy.crash_loop_threshold {
            return Some(HaltReason::CrashLoop);
        }
        let delay = policy
            .restart_delay_s
            .saturating_mul(1u64 << n.min(20))
            .min(MAX_CRASH_DELAY_S);
        self.verdict = Verdict {
            action: Action::BackOff,
            until: Some(next_second(now) + delay),
            reason: Some("short_crash".into()),
        };
        None
    }

    /// A transient error: as transient_error_action says, ignored, halting, or a throttle until
    /// the server's reset time (else the class default, doubling for repeats).
    fn transient(&mut self, f: &Finished, policy: &Policy, now: u64) -> Option<HaltReason> {
        self.consecutive_short_crashes = 0;
        self.consecutive_checkin_failures = 0;
        self.consecutive_transients += 1;
        match policy.transient_action {
            TransientAction::Ignore => return None,
            TransientAction::Stop => return Some(HaltReason::TransientError),
            TransientAction::BackOff => {}
        }
        let until = match f.reset_at {
            Some(t) if t > now => t.min(now + MAX_THROTTLE_S),
            _ => {
                let n = self.consecutive_transients.saturating_sub(1).min(5);
                next_second(now)
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
        None
    }
}

/// Where back-offs count from: `now` is whole seconds, rounded down, so a delay counted from it
/// could be up to a second short.
fn next_second(now: u64) -> u64 {
    now + 1
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
            auth_fail_halt_after: 2,
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
            log_error: None,
            brake: None,
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
    fn auth_failures_in_a_row_halt() {
        let mut s = State::default();
        s.begin_round(0, 0, 1);
        // One authentication failure backs off like a crash.
        assert_eq!(
            s.finish_round(&finished(1, Outcome::AuthFail, 500), &policy(), 0),
            None
        );
        assert_eq!(s.verdict.action, Action::BackOff);
        // Another outcome in between starts the count again.
        s.begin_round(10, 0, 1);
        s.finish_round(&finished(2, Outcome::Ok, 500), &policy(), 10);
        assert_eq!(s.consecutive_auth_failures, 0);
        s.begin_round(20, 0, 1);
        assert_eq!(
            s.finish_round(&finished(3, Outcome::AuthFail, 500), &policy(), 20),
            None
        );
        s.begin_round(30, 0, 1);
        assert_eq!(
            s.finish_round(&finished(4, Outcome::AuthFail, 90_000), &policy(), 30),
            Some(HaltReason::AuthFailed)
        );
        assert_eq!(s.verdict.action, Action::Halt);
        assert_eq!(s.verdict.reason.as_deref(), Some("auth_failed"));
        // A new loop counts afresh.
        assert!(s.begin_round(40, 0, 1).new_loop);
        assert_eq!(s.consecutive_auth_failures, 0);
        let mut one = policy();
        one.auth_fail_halt_after = 1;
        assert_eq!(
            s.finish_round(&finished(5, Outcome::AuthFail, 500), &one, 40),
            Some(HaltReason::AuthFailed)
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
}
