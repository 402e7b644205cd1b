//! `[progress]` and `[[goal.checks]]`: the brakes on a loop that achieves nothing and the
//! operator's test of "done".

use std::collections::BTreeSet;

use super::checker::Checker;
use crate::config::problems::echoed;
use crate::config::progress::{Goal, GoalCheck, Progress};
use crate::config::raw::{RawGoal, RawGoalCheck, RawProgress};

/// More rounds than this is no brake at all (a loop of a round a minute runs a week).
const MAX_BRAKE_ROUNDS: i64 = 10_000;
/// Goal checks run one after the other after every round: more than this is a test suite that
/// belongs in one script.
const MAX_GOAL_CHECKS: usize = 20;
/// A check's default time limit.
const DEFAULT_CHECK_TIMEOUT_S: i64 = 300;
/// A check's longest time limit: the round service's runtime limit grows by every check's.
const MAX_CHECK_TIMEOUT_S: i64 = 24 * 3600;
/// The longest check name (it appears in events and in the round log).
const MAX_CHECK_NAME: usize = 64;

pub(super) fn progress(c: &mut Checker<'_, '_>, raw: &RawProgress) -> Progress {
    let stall_rounds = rounds(c, "stall_rounds", raw.stall_rounds, 1);
    // One round's change is no repetition: the smallest brake that means something is two.
    let repeat_rounds = rounds(c, "repeat_rounds", raw.repeat_rounds, 2);
    Progress {
        stall_rounds,
        repeat_rounds,
    }
}

fn rounds(c: &mut Checker<'_, '_>, key: &str, value: Option<i64>, least: i64) -> Option<u32> {
    let v = value?;
    if !(least..=MAX_BRAKE_ROUNDS).contains(&v) {
        c.fail(
            &["progress", key],
            format!("must be a number of rounds from {least} to {MAX_BRAKE_ROUNDS}, got {v}"),
        );
        return None;
    }
    u32::try_from(v).ok()
}

pub(super) fn goal(c: &mut Checker<'_, '_>, raw: &RawGoal) -> Goal {
    if raw.checks.len() > MAX_GOAL_CHECKS {
        c.fail_hint(
            &["goal", "checks"],
            format!(
                "{} checks; at most {MAX_GOAL_CHECKS} are allowed",
                raw.checks.len()
            ),
            "run a longer list of tests from one script",
        );
        return Goal::default();
    }
    let mut names = BTreeSet::new();
    let checks = raw
        .checks
        .iter()
        .enumerate()
        .filter_map(|(i, check)| goal_check(c, i, check, &mut names))
        .collect();
    Goal { checks }
}

fn goal_check(
    c: &mut Checker<'_, '_>,
    index: usize,
    raw: &RawGoalCheck,
    names: &mut BTreeSet<String>,
) -> Option<GoalCheck> {
    let index = index.to_string();
    let at = |key: &'static str| ["goal", "checks", index.as_str(), key];
    let name = check_name(c, &at("name"), raw.name.as_deref(), names);
    let cmd = check_cmd(c, &at("cmd"), raw.cmd.as_deref());
    let timeout_s = match raw.timeout_s {
        Some(t) if t > MAX_CHECK_TIMEOUT_S => {
            c.fail(
                &at("timeout_s"),
                format!("{t} is longer than a check may run ({MAX_CHECK_TIMEOUT_S} seconds)"),
            );
            None
        }
        t => Some(c.positive(&at("timeout_s"), t, DEFAULT_CHECK_TIMEOUT_S)),
    };
    Some(GoalCheck {
        name: name?,
        cmd: cmd?,
        timeout_s: timeout_s?,
    })
}

fn check_name(
    c: &mut Checker<'_, '_>,
    path: &[&str],
    name: Option<&str>,
    names: &mut BTreeSet<String>,
) -> Option<String> {
    let Some(name) = name else {
        c.fail_hint(
            path,
            "missing `name`",
            "name each check, e.g. name = \"tests\"",
        );
        return None;
    };
    let valid = !name.is_empty()
        && name.len() <= MAX_CHECK_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !valid {
        c.fail(
            path,
            format!(
                "invalid check name \"{}\": a check name is 1 to {MAX_CHECK_NAME} letters, digits, `_`, `.` or `-`",
                echoed(name)
            ),
        );
        return None;
    }
    if !names.insert(name.to_string()) {
        c.fail(path, format!("a second check named \"{name}\""));
        return None;
    }
    Some(name.to_string())
}

pub(super) fn check_cmd(
    c: &mut Checker<'_, '_>,
    path: &[&str],
    cmd: Option<&[String]>,
) -> Option<Vec<String>> {
    let cmd = match cmd {
        None => {
            c.fail_hint(
                path,
                "missing `cmd`",
                "the command as a list of words, e.g. cmd = [\"cargo\", \"test\"]",
            );
            return None;
        }
        Some([]) => {
            c.fail(path, "must name a program: the list is empty");
            return None;
        }
        Some(cmd) => cmd,
    };
    if cmd[0].trim().is_empty() {
        c.fail(path, "must name a program: the first word is empty");
        return None;
    }
    // A control character cannot reach an argv (NUL) or is a typo that no log shows.
    if !cmd.iter().all(|word| c.free_of_control_chars(path, word)) {
        return None;
    }
    Some(cmd.to_vec())
}

#[cfg(test)]
mod tests {
    use super::super::tests::load_minimal_with as load;
    use crate::config::progress::GoalCheck;

    #[test]
    fn brakes_and_checks_load_with_defaults() {
        let p = load("[progress]\nstall_rounds = 3\n[[goal.checks]]\nname = \"tests\"\ncmd = [\"cargo\", \"test\"]\n[[goal.checks]]\nname = \"lint\"\ncmd = [\"make\", \"lint\"]\ntimeout_s = 60\n").unwrap();
        assert_eq!(p.progress.stall_rounds, Some(3));
        assert_eq!(p.progress.repeat_rounds, None);
        assert_eq!(
            p.goal.checks,
            [
                GoalCheck {
                    name: "tests".into(),
                    cmd: vec!["cargo".into(), "test".into()],
                    timeout_s: 300,
                },
                GoalCheck {
                    name: "lint".into(),
                    cmd: vec!["make".into(), "lint".into()],
                    timeout_s: 60,
                },
            ]
        );
        let none = load("").unwrap();
        assert!(!none.progress.enabled() && none.goal.checks.is_empty());
    }

    #[test]
    fn bad_values_get_one_clear_line_each_at_their_place() {
        let err = load(concat!(
            "[progress]\nstall_rounds = 0\nrepeat_rounds = 1\n",
            "[[goal.checks]]\nname = \"a b\"\ncmd = []\n",
            "[[goal.checks]]\nname = \"t\"\ncmd = [\"x\"]\ntimeout_s = 0\n",
            "[[goal.checks]]\nname = \"t\"\ncmd = [\"\"]\ntimeout_s = 100000\n",
            "[[goal.checks]]\ncmd = [\"x\"]\n",
        ))
        .unwrap_err();
        for expected in [
            "progress.stall_rounds: must be a number of rounds from 1 to 10000, got 0",
            "progress.repeat_rounds: must be a number of rounds from 2 to 10000, got 1",
            "goal.checks.0.name: invalid check name \"a b\"",
            "goal.checks.0.cmd: must name a program: the list is empty",
            "goal.checks.1.timeout_s: must be a positive duration, got 0",
            "goal.checks.2.name: a second check named \"t\"",
            "goal.checks.2.cmd: must name a program: the first word is empty",
            "goal.checks.2.timeout_s: 100000 is longer than a check may run",
            "goal.checks.3.name: missing `name`",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
        }
        let unknown = load("[[goal.checks]]\nname = \"t\"\ncommand = [\"x\"]\n").unwrap_err();
        assert!(
            unknown.contains("unknown key `command` in [goal.checks]")
                && unknown.contains("valid keys here: name, cmd, timeout_s"),
            "{unknown}"
        );
    }
}
