//! The brakes on a loop that achieves nothing, and its goal: what the state remembers between
//! rounds (`progress` in state.json: where the work tree stood and the two streaks), how a
//! measured round moves the streaks, and which ending fires.
//!
//! The agent's user can write the state file, so this part of it is read leniently and checked
//! value by value: a value that is not what it should be never turns a brake off. When anything
//! in the record is garbled, both streaks stand one round short of their brakes and the round
//! sets a new mark, so the next round without progress halts; the round says so
//! (`state_garbled` in `round_progress`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::config::{Progress, Project};
use crate::events::Event;
use crate::events::payload::{GoalReached, RepeatingDiff, StalledNoProgress};

/// Where the work tree stood: its commit and its content (measured by `super::progress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    /// HEAD's commit; `None` before the first commit.
    pub head: Option<String>,
    /// The tree id of the work tree's content.
    pub tree: String,
}

/// A streak as read from the state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Streak {
    /// A count that could be believed.
    Known(u32),
    /// Not a count: taken as one round short of its brake.
    Garbled,
}

impl Default for Streak {
    fn default() -> Self {
        Streak::Known(0)
    }
}

impl Streak {
    /// The count, a garbled one read as one round short of `brake`.
    fn count(self, brake: Option<u32>) -> u32 {
        match self {
            Streak::Known(n) => n,
            Streak::Garbled => brake.map_or(0, |b| b.saturating_sub(1)),
        }
    }
}

/// The progress brakes' memory between rounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Memory {
    /// Where the work tree stood when the last measured round was done with it.
    pub mark: Option<Mark>,
    /// The last round's change, `FROM..TO` tree ids, while a run of the same change lasts.
    pub last_change: Option<String>,
    /// Rounds in a row without a new commit or a change to the tree.
    pub rounds_unchanged: Streak,
    /// Rounds in a row that left the same non-empty change.
    pub rounds_same_change: Streak,
    /// Some value in the file could not be believed.
    pub garbled: bool,
}

/// A brake or the goal: why a round ends the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Brake {
    /// Every goal check passed.
    GoalReached,
    /// stall_rounds rounds without progress.
    Stalled,
    /// repeat_rounds rounds with the same change.
    Repeating,
}

/// What a measured round did to the memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Judged {
    /// The brake that fires, if one does.
    pub brake: Option<Brake>,
    /// The first round measured: nothing to compare with yet.
    pub first: bool,
    /// The memory could not be believed.
    pub garbled: bool,
}

impl Memory {
    /// A new loop: the streaks start afresh; the mark stays (the tree is where it is).
    pub(crate) fn new_loop(&mut self) {
        self.last_change = None;
        self.rounds_unchanged = Streak::Known(0);
        self.rounds_same_change = Streak::Known(0);
    }

    /// The memory of a state that had to be recovered: nothing in it can be believed.
    pub(crate) fn lost() -> Self {
        Self {
            rounds_unchanged: Streak::Garbled,
            rounds_same_change: Streak::Garbled,
            garbled: true,
            ..Self::default()
        }
    }

    /// Moves the streaks for a round that ended with the work tree at `now` (an error when git
    /// could not tell, which counts as no progress) and returns the brake that fires.
    pub(crate) fn record(&mut self, now: Result<&Mark, &str>, policy: &Progress) -> Judged {
        let garbled = self.garbled;
        let mut unchanged = self.rounds_unchanged.count(policy.stall_rounds);
        let mut same = self.rounds_same_change.count(policy.repeat_rounds);
        let mut first = false;
        match (now, &self.mark) {
            (Ok(now), Some(before)) => {
                let tree_changed = now.tree != before.tree;
                if !tree_changed && now.head == before.head {
                    unchanged = unchanged.saturating_add(1);
                    (same, self.last_change) = (0, None);
                } else {
                    unchanged = 0;
                    let change = tree_changed.then(|| format!("{}..{}", before.tree, now.tree));
                    same = match &change {
                        Some(c) if self.last_change.as_ref() == Some(c) => same.saturating_add(1),
                        Some(_) => 1,
                        None => 0,
                    };
                    self.last_change = change;
                }
            }
            // Nothing to compare with: a project's first measured round, or one after a mark
            // that could not be believed (its streaks stand one round short of their brakes).
            (Ok(_), None) => first = !garbled,
            // Git could not tell: no progress seen.
            (Err(_), _) => {
                unchanged = unchanged.saturating_add(1);
                (same, self.last_change) = (0, None);
            }
        }
        self.rounds_unchanged = Streak::Known(unchanged);
        self.rounds_same_change = Streak::Known(same);
        self.garbled = false;
        let brake = if policy.stall_rounds.is_some_and(|n| unchanged >= n) {
            Some(Brake::Stalled)
        } else if policy.repeat_rounds.is_some_and(|n| same >= n) {
            Some(Brake::Repeating)
        } else {
            None
        };
        Judged {
            brake,
            first,
            garbled,
        }
    }

    /// The streaks as counts, for events (garbled ones as zero: they are replaced before use).
    pub(crate) fn streaks(&self) -> (u32, u32) {
        (
            self.rounds_unchanged.count(None),
            self.rounds_same_change.count(None),
        )
    }
}

/// The event and sentence of a brake's halt, for `project`.
pub(crate) fn halt_event(project: &Project, memory: &Memory, brake: Brake) -> (String, Event) {
    let name = &project.name;
    let (unchanged, same) = memory.streaks();
    match brake {
        Brake::GoalReached => {
            let checks: Vec<String> = project.goal.checks.iter().map(|c| c.name.clone()).collect();
            (
                format!(
                    "{name}: every goal check passed ({}); loop done",
                    checks.join(", ")
                ),
                GoalReached { checks }.into(),
            )
        }
        Brake::Stalled => (
            format!(
                "{name}: {unchanged} rounds in a row changed nothing (no commit, same tree); loop halted"
            ),
            StalledNoProgress {
                rounds: unchanged,
                stall_rounds: project.progress.stall_rounds.unwrap_or_default(),
            }
            .into(),
        ),
        Brake::Repeating => (
            format!("{name}: {same} rounds in a row left the same change; loop halted"),
            RepeatingDiff {
                rounds: same,
                repeat_rounds: project.progress.repeat_rounds.unwrap_or_default(),
                change: memory.last_change.clone().unwrap_or_default(),
            }
            .into(),
        ),
    }
}

impl Serialize for Memory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let streak = |k: Streak| match k {
            Streak::Known(n) => json!(n),
            Streak::Garbled => Value::Null,
        };
        json!({
            "head": self.mark.as_ref().and_then(|m| m.head.clone()),
            "tree": self.mark.as_ref().map(|m| m.tree.clone()),
            "last_change": self.last_change,
            "rounds_unchanged": streak(self.rounds_unchanged),
            "rounds_same_change": streak(self.rounds_same_change),
        })
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Memory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Memory::from_value(&Value::deserialize(d)?))
    }
}

impl Memory {
    /// Reads the record value by value; whatever is not what it should be is garbled.
    fn from_value(value: &Value) -> Self {
        let Some(record) = value.as_object() else {
            return Self::lost();
        };
        let mut garbled = false;
        let mut id = |key: &str| match record.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if is_object_id(s) => Some(s.clone()),
            Some(_) => {
                garbled = true;
                None
            }
        };
        let head = id("head");
        let tree = id("tree");
        let last_change = match record.get("last_change") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if is_change(s) => Some(s.clone()),
            Some(_) => {
                garbled = true;
                None
            }
        };
        let streak = |key: &str| match record.get(key) {
            None => Streak::Known(0),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map_or(Streak::Garbled, Streak::Known),
        };
        let (rounds_unchanged, rounds_same_change) =
            (streak("rounds_unchanged"), streak("rounds_same_change"));
        // A HEAD without a tree is no mark.
        garbled |= head.is_some() && tree.is_none();
        garbled |= [rounds_unchanged, rounds_same_change].contains(&Streak::Garbled);
        if garbled {
            return Self::lost();
        }
        Self {
            mark: tree.map(|tree| Mark { head, tree }),
            last_change,
            rounds_unchanged,
            rounds_same_change,
            garbled,
        }
    }
}

fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_change(s: &str) -> bool {
    s.split_once("..")
        .is_some_and(|(a, b)| is_object_id(a) && is_object_id(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccccccccccc";

    fn mark(head: &str, tree: &str) -> Mark {
        Mark {
            head: Some(head.into()),
            tree: tree.into(),
        }
    }

    fn brakes(stall: u32, repeat: u32) -> Progress {
        Progress {
            stall_rounds: Some(stall),
            repeat_rounds: Some(repeat),
        }
    }

    #[test]
    fn rounds_without_change_stall_and_a_change_resets() {
        let mut m = Memory::default();
        let p = brakes(3, 3);
        assert!(m.record(Ok(&mark(A, A)), &p).first);
        m.mark = Some(mark(A, A));
        assert_eq!(m.record(Ok(&mark(A, A)), &p).brake, None);
        assert_eq!(m.record(Err("git failed"), &p).brake, None);
        assert_eq!(m.streaks(), (2, 0));
        assert_eq!(m.record(Ok(&mark(A, A)), &p).brake, Some(Brake::Stalled));
        // A new commit alone is progress.
        m.new_loop();
        m.record(Ok(&mark(A, A)), &p);
        assert_eq!(m.record(Ok(&mark(B, A)), &p).brake, None);
        assert_eq!(m.streaks(), (0, 0));
    }

    #[test]
    fn the_same_change_from_the_same_tree_repeats() {
        let mut m = Memory {
            mark: Some(mark(A, A)),
            ..Memory::default()
        };
        let p = brakes(10, 3);
        // The change is stashed after each round: the tree goes back to A.
        assert_eq!(m.record(Ok(&mark(A, B)), &p).brake, None);
        assert_eq!(m.record(Ok(&mark(A, B)), &p).brake, None);
        assert_eq!(m.streaks(), (0, 2));
        assert_eq!(m.record(Ok(&mark(A, B)), &p).brake, Some(Brake::Repeating));
        // Another change breaks the run.
        m.new_loop();
        m.record(Ok(&mark(A, B)), &p);
        m.record(Ok(&mark(A, C)), &p);
        assert_eq!(m.streaks(), (0, 1));
    }

    #[test]
    fn a_garbled_record_never_turns_a_brake_off() {
        let p = brakes(3, 2);
        for bad in [
            json!("x"),
            json!({"rounds_unchanged": -1}),
            json!({"rounds_unchanged": "0", "tree": A}),
            json!({"rounds_unchanged": 0, "tree": "not a tree"}),
            json!({"rounds_unchanged": 1e30, "tree": A}),
            json!({"head": A, "rounds_unchanged": 0}),
        ] {
            let mut m: Memory = serde_json::from_value(bad.clone()).unwrap();
            assert!(m.garbled, "{bad}");
            let judged = m.record(Ok(&mark(A, A)), &p);
            assert!(
                judged.garbled && !judged.first && judged.brake.is_none(),
                "{bad}"
            );
            m.mark = Some(mark(A, A));
            // One more round without progress is all it takes.
            let next = m.record(Ok(&mark(A, A)), &p);
            assert_eq!(next.brake, Some(Brake::Stalled), "{bad}: {m:?}");
        }
    }

    #[test]
    fn the_record_round_trips() {
        let m = Memory {
            mark: Some(mark(A, B)),
            last_change: Some(format!("{A}..{B}")),
            rounds_unchanged: Streak::Known(2),
            rounds_same_change: Streak::Known(1),
            garbled: false,
        };
        let text = serde_json::to_value(&m).unwrap();
        assert_eq!(serde_json::from_value::<Memory>(text).unwrap(), m);
        let empty: Memory = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty, Memory::default());
    }
}
