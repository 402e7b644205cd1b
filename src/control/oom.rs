//! The after-round step's judgement of a round systemd ended with the result `oom-kill`: the
//! kernel's OOM killer killed a process of the round (past `[limits] memory_max`, or a host out
//! of memory). The runner cannot tell: it saw its agent die of SIGKILL (a crash), or systemd
//! stop it (stopped), or it was killed itself and recorded nothing. Only systemd's
//! `$MONITOR_SERVICE_RESULT`, which the after-round step gets, says why; so the step rewrites the round's
//! record in the state as `oom`, says so in `round_oom` (the `round_end` already written stays as
//! it was), counts such rounds in a row and halts the loop (`mem_loop`) at `[limits] oom_rounds`.

use crate::config::Project;
use crate::error::Result;
use crate::events::Emitter;
use crate::events::payload::{MemLoop, RoundOom};
use crate::round::Outcome;
use crate::round::state::{self, Action, HaltReason, LastOutcome, OomStreak, State, Verdict};

/// systemd's `$MONITOR_SERVICE_RESULT` for a unit the kernel's OOM killer hit.
const OOM_KILL: &str = "oom-kill";

/// What the step concluded about the round just ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judged {
    /// The round's number.
    pub round: u64,
    /// What the runner had recorded for it, if anything.
    pub recorded: Option<Outcome>,
    /// Rounds in a row killed for memory, this one included.
    pub consecutive: u32,
    /// Whether the streak reached `oom_rounds` and the loop halts.
    pub halts: bool,
}

/// Judges the round that just ended when systemd's result (`service_result`) says the kernel
/// killed it for memory: the state is rewritten, the events emitted, and a halt requested at
/// `oom_rounds` in a row. Any other result changes nothing: the next round's number alone breaks
/// a streak.
pub(crate) fn after_round(project: &Project, service_result: &str) -> Result<Option<Judged>> {
    if service_result != OOM_KILL {
        return Ok(None);
    }
    let dir = state::dir(project);
    // Read like every root step reads the agent-writable state: no link, no FIFO, bounded.
    let mut st = State::load(&dir)?;
    let now = crate::time::now_epoch();
    let Some(judged) = judge(&mut st, project.limits.oom_rounds, now) else {
        return Ok(None);
    };
    if judged.halts {
        let message = format!(
            "{}: {} rounds in a row were killed for memory (systemd result oom-kill); loop halted",
            project.name, judged.consecutive
        );
        st.request_halt(&dir, HaltReason::MemLoop, &message);
    }
    st.save(&dir)?;
    tell(project, &judged);
    Ok(Some(judged))
}

/// Records round `st.round` as killed for memory; `None` when there is no round to judge or this
/// one was judged already (the step may run twice for one round).
fn judge(st: &mut State, oom_rounds: u32, now: u64) -> Option<Judged> {
    let round = st.round;
    if round == 0 || st.oom.is_some_and(|streak| streak.last_round >= round) {
        return None;
    }
    let consecutive = match st.oom {
        Some(streak) if streak.last_round + 1 == round => streak.rounds.saturating_add(1),
        _ => 1,
    };
    st.oom = Some(OomStreak {
        rounds: consecutive,
        last_round: round,
    });
    let recorded = st.last_outcome.as_ref().filter(|o| o.round == round);
    let recorded_outcome = recorded.map(|o| o.outcome);
    let started_at = st
        .running
        .as_ref()
        .filter(|r| r.round == round)
        .map(|r| r.started_at);
    st.last_outcome = Some(LastOutcome {
        round,
        outcome: Outcome::Oom,
        classification: Some(OOM_KILL.into()),
        exit_code: Outcome::Oom.exit_code(),
        duration_ms: recorded.map_or_else(
            || started_at.map_or(0, |at| now.saturating_sub(at).saturating_mul(1000)),
            |o| o.duration_ms,
        ),
        ended_at: recorded.map_or(now, |o| o.ended_at),
        log_complete: recorded.map(|o| o.log_complete).unwrap_or_default(),
        log_error: recorded.and_then(|o| o.log_error.clone()),
    });
    st.running = None;
    let halts = consecutive >= oom_rounds;
    if halts {
        st.verdict = Verdict {
            action: Action::Halt,
            until: None,
            reason: Some(HaltReason::MemLoop.as_str().into()),
        };
    }
    Some(Judged {
        round,
        recorded: recorded_outcome,
        consecutive,
        halts,
    })
}

fn tell(project: &Project, judged: &Judged) {
    let emitter = Emitter::new(&project.name, Some(&project.runtime.log_dir));
    let recorded = judged.recorded.map(|o| o.as_str().to_string());
    let limit = project.limits.oom_rounds;
    emitter.emit(
        Some(judged.round),
        None,
        &format!(
            "round {} of {} was killed for memory (systemd result oom-kill; recorded as {}): {} of {limit} in a row",
            judged.round,
            project.name,
            recorded.as_deref().unwrap_or("nothing"),
            judged.consecutive
        ),
        RoundOom {
            recorded,
            consecutive: judged.consecutive,
            limit,
        },
    );
    if judged.halts {
        emitter.emit(
            Some(judged.round),
            None,
            &format!(
                "{}: {} rounds in a row killed for memory; loop halted (mem_loop)",
                project.name, judged.consecutive
            ),
            MemLoop {
                consecutive: judged.consecutive,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round::state::Running;

    fn ended(round: u64, outcome: Outcome) -> State {
        State {
            round,
            last_outcome: Some(LastOutcome {
                round,
                outcome,
                classification: None,
                exit_code: outcome.exit_code(),
                duration_ms: 4000,
                ended_at: 50,
                log_complete: crate::events::payload::LogComplete(true),
                log_error: None,
            }),
            ..State::default()
        }
    }

    #[test]
    fn a_recorded_round_becomes_oom_and_keeps_its_times() {
        let mut st = ended(4, Outcome::Stopped);
        let judged = judge(&mut st, 3, 100).unwrap();
        assert_eq!(judged.recorded, Some(Outcome::Stopped));
        assert_eq!((judged.consecutive, judged.halts), (1, false));
        let last = st.last_outcome.unwrap();
        assert_eq!((last.outcome, last.exit_code), (Outcome::Oom, 1));
        assert_eq!((last.duration_ms, last.ended_at), (4000, 50));
    }

    #[test]
    fn a_runner_killed_before_it_recorded_the_round_still_gets_its_record() {
        let mut st = ended(4, Outcome::Ok);
        st.round = 5;
        st.running = Some(Running {
            round: 5,
            phase: None,
            pid: 9,
            started_at: 90,
        });
        let judged = judge(&mut st, 3, 100).unwrap();
        assert_eq!(judged.recorded, None);
        let last = st.last_outcome.unwrap();
        assert_eq!(
            (last.round, last.duration_ms, last.ended_at),
            (5, 10_000, 100)
        );
        assert_eq!(st.running, None);
    }

    #[test]
    fn only_rounds_in_a_row_count_and_the_limit_halts() {
        let mut st = ended(1, Outcome::Crash);
        assert_eq!(judge(&mut st, 2, 100).unwrap().consecutive, 1);
        assert_eq!(judge(&mut st, 2, 100), None, "judged once");
        st.round = 3; // round 2 was not killed
        assert_eq!(judge(&mut st, 2, 100).unwrap().consecutive, 1);
        st.round = 4;
        let judged = judge(&mut st, 2, 100).unwrap();
        assert_eq!((judged.consecutive, judged.halts), (2, true));
        assert_eq!(st.verdict.action, Action::Halt);
        assert_eq!(st.verdict.reason.as_deref(), Some("mem_loop"));
    }
}
