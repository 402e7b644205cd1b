//! A state that lies. The agent's user can write the state directory, so `state.json` may be
//! garbage, hold a round counter that cannot advance, or hold one behind the round logs on disk (a
//! file deleted, rolled back, or a runner killed between creating a round's log and recording the
//! round). Believing it would write a round's log a second time, over the first. The counter is
//! then recovered from what the disk still shows — the highest `rounds/round-N.log` and the
//! newest events of the mirror — and `state_recovered` says so.
//!
//! On the normal path this costs one look at the name the next round's log will have; the round
//! logs are listed only when the state is already known to be wrong.

use std::collections::BTreeSet;

use super::state::State;
use crate::config::Project;
use crate::error::Result;
use crate::events::Emitter;
use crate::events::payload::StateRecovered;
use crate::events::read::{Query, Record, read_mirror_only};
use crate::fsutil::Dir;

/// The largest round number: the largest integer every JSON reader keeps exact (2^53 − 1). A
/// counter at it or past it cannot advance and is treated as corrupted.
pub(crate) const MAX_ROUND: u64 = (1 << 53) - 1;
/// How many of the mirror's newest events are looked at for a round number: a round emits at
/// least five, so this reaches back several rounds while reading little.
const MIRROR_SCAN: usize = 50;

/// Where a recovered round counter was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The highest round log.
    RoundLogs,
    /// The newest events of the mirror.
    EventsMirror,
    /// No trace of an earlier round: the counter starts from 0.
    Nothing,
}

impl Source {
    /// The name the `state_recovered` event carries.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Source::RoundLogs => "round_logs",
            Source::EventsMirror => "events_mirror",
            Source::Nothing => "nothing",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Source::RoundLogs => "the round logs",
            Source::EventsMirror => "the events mirror",
            Source::Nothing => "nothing on disk",
        }
    }
}

/// A state that could not be believed: what was wrong, and the round counter recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// What was wrong with the state file.
    pub problem: String,
    /// The counter recovered: the last round found (the next round is one more, and its log's
    /// name is free).
    pub round: u64,
    /// Where it was found.
    pub source: Source,
}

impl Recovery {
    /// Tells the journal and the mirror.
    pub(crate) fn report(&self, project: &Project, emitter: &Emitter) {
        let message = format!(
            "{}: state.json cannot be believed ({}); round counter recovered as {} from {}, the next round is {}",
            project.name,
            self.problem,
            self.round,
            self.source.words(),
            self.round + 1
        );
        emitter.emit(
            None,
            None,
            &message,
            StateRecovered {
                problem: self.problem.clone(),
                recovered_round: self.round,
                source: self.source.as_str().into(),
            },
        );
    }
}

/// The state the next round begins from: `loaded` when it can be believed, else a recovered one
/// and why. `rounds` is the directory of round logs (`None` when it cannot be opened: the round
/// fails on it anyway when it creates its log).
pub(crate) fn check(
    project: &Project,
    rounds: Option<&Dir>,
    loaded: Result<State>,
) -> (State, Option<Recovery>) {
    let (mut state, problem) = match loaded {
        // Nothing of an unreadable file is believed, the progress brakes' streaks included: they
        // stand one round short of their brakes.
        Err(e) => (
            State {
                progress: super::brakes::Memory::lost(),
                ..State::default()
            },
            e.to_string(),
        ),
        Ok(st) if st.round >= MAX_ROUND => {
            let problem = format!("its round counter {} cannot advance", st.round);
            (st, problem)
        }
        Ok(st) => match rounds.and_then(|dir| next_log_taken(dir, st.round)) {
            None => return (st, None),
            Some(problem) => (st, problem),
        },
    };
    let taken = rounds.map(log_numbers).unwrap_or_default();
    let (round, source) = recovered(&taken, newest_mirror_round(project));
    state.round = round;
    let recovery = Recovery {
        problem,
        round,
        source,
    };
    (state, Some(recovery))
}

/// The name of round `n`'s log in `rounds/`.
pub(crate) fn log_name(n: u64) -> String {
    format!("round-{n}.log")
}

/// The round whose log `name` is: only the name [`log_name`] gives it, of a round in range.
pub(crate) fn round_of(name: &str) -> Option<u64> {
    let n: u64 = name
        .strip_prefix("round-")?
        .strip_suffix(".log")?
        .parse()
        .ok()?;
    (1..=MAX_ROUND)
        .contains(&n)
        .then_some(n)
        .filter(|n| log_name(*n) == name)
}

/// Whether `name` is a round log's (for listing `rounds/`).
pub(crate) fn is_log_name(name: &std::ffi::OsStr) -> bool {
    name.to_str().and_then(round_of).is_some()
}

/// Why the counter `round` cannot be believed when the next round's log is already there.
fn next_log_taken(rounds: &Dir, round: u64) -> Option<String> {
    let name = log_name(round + 1);
    let entry = rounds.entry(&name).ok()??;
    let what = entry
        .not_regular
        .map(|what| format!(" and is {what}"))
        .unwrap_or_default();
    Some(format!(
        "its round counter {round} is behind the round logs: {name} exists{what}"
    ))
}

/// The rounds whose log names are taken in `rounds`, whatever each entry is: a link or a
/// directory blocks the name as much as a log does.
fn log_numbers(rounds: &Dir) -> BTreeSet<u64> {
    rounds
        .entries(is_log_name)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| round_of(e.name.to_str()?))
        .collect()
}

/// The highest round the newest events of the mirror name, if any.
fn newest_mirror_round(project: &Project) -> Option<u64> {
    let query = Query {
        scan: Some(MIRROR_SCAN),
        ..Query::default()
    };
    read_mirror_only(project, &query)
        .ok()?
        .iter()
        .filter_map(Record::round)
        .filter(|n| (1..=MAX_ROUND).contains(n))
        .max()
}

/// The counter to recover and where it was found: the highest round the logs (`taken`) or the
/// mirror show, so that the next round's log name is free. Only when that is the very last round
/// number is the counter set below the lowest free name instead: never frozen, never a log
/// written twice.
fn recovered(taken: &BTreeSet<u64>, mirror: Option<u64>) -> (u64, Source) {
    let logs = taken.last().copied();
    let (highest, source) = match (logs, mirror) {
        (Some(l), Some(m)) if m > l => (m, Source::EventsMirror),
        (Some(l), _) => (l, Source::RoundLogs),
        (None, Some(m)) => (m, Source::EventsMirror),
        (None, None) => (0, Source::Nothing),
    };
    if highest < MAX_ROUND {
        return (highest, source);
    }
    let free = (1..=MAX_ROUND).find(|n| !taken.contains(n)).unwrap_or(1);
    (free - 1, Source::RoundLogs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_the_runner_gives_are_round_logs() {
        assert_eq!(round_of("round-7.log"), Some(7));
        assert_eq!(round_of(&log_name(MAX_ROUND)), Some(MAX_ROUND));
        for name in [
            "round-0.log",
            "round-07.log",
            "round-+7.log",
            "round-7.log.1",
            "round-.log",
            "round-9007199254740992.log",
            "round-18446744073709551615.log",
            "round-current.log",
        ] {
            assert_eq!(round_of(name), None, "{name}");
        }
    }

    #[test]
    fn the_highest_trace_wins_and_the_last_number_wraps_to_a_free_one() {
        let taken: BTreeSet<u64> = [1, 2, 5].into();
        assert_eq!(recovered(&taken, None), (5, Source::RoundLogs));
        assert_eq!(recovered(&taken, Some(4)), (5, Source::RoundLogs));
        assert_eq!(recovered(&taken, Some(9)), (9, Source::EventsMirror));
        assert_eq!(
            recovered(&BTreeSet::new(), Some(3)),
            (3, Source::EventsMirror)
        );
        assert_eq!(recovered(&BTreeSet::new(), None), (0, Source::Nothing));
        // A log planted at the last number leaves no room above it: the lowest free name is next.
        let planted: BTreeSet<u64> = [1, 2, 3, 5, MAX_ROUND].into();
        assert_eq!(recovered(&planted, None), (3, Source::RoundLogs));
        assert_eq!(
            recovered(&[1, 2].into(), Some(MAX_ROUND)),
            (2, Source::RoundLogs)
        );
    }

    #[test]
    fn a_sound_state_is_believed_after_one_look_at_the_next_log() {
        let tmp = tempfile::tempdir().unwrap();
        let rounds = tmp.path().join("rounds");
        std::fs::create_dir(&rounds).unwrap();
        std::fs::write(rounds.join("round-1.log"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", rounds.join("round-2.log")).unwrap();
        let dir = Dir::open(&rounds).unwrap();
        assert_eq!(next_log_taken(&dir, 2), None);
        assert_eq!(
            next_log_taken(&dir, 1).unwrap(),
            "its round counter 1 is behind the round logs: round-2.log exists and is a symbolic link"
        );
        assert_eq!(
            next_log_taken(&dir, 0).unwrap(),
            "its round counter 0 is behind the round logs: round-1.log exists"
        );
        assert_eq!(log_numbers(&dir), [1, 2].into());
    }
}
