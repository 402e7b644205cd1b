//! `[hooks]`: lists of argv arrays, run without a shell, and their common time limit.

use super::checker::Checker;
use super::progress::check_cmd;
use crate::config::hooks::Hooks;
use crate::config::raw::RawHooks;

/// More hooks than this in one list is a script that belongs in one file.
const MAX_HOOKS: usize = 10;
/// A hook's default time limit.
const DEFAULT_HOOK_TIMEOUT_S: i64 = 60;
/// A hook's longest time limit: the round service's runtime limit grows by every hook's, and a
/// pre_round hook holds the round's start.
const MAX_HOOK_TIMEOUT_S: i64 = 3600;

pub(super) fn hooks(c: &mut Checker<'_, '_>, raw: &RawHooks) -> Hooks {
    let timeout_s = match raw.timeout_s {
        Some(t) if !(1..=MAX_HOOK_TIMEOUT_S).contains(&t) => {
            c.fail(
                &["hooks", "timeout_s"],
                format!("must be a number of seconds from 1 to {MAX_HOOK_TIMEOUT_S}, got {t}"),
            );
            0
        }
        t => t.map_or(DEFAULT_HOOK_TIMEOUT_S, |t| t).unsigned_abs(),
    };
    Hooks {
        pre_round: list(c, "pre_round", &raw.pre_round),
        post_round: list(c, "post_round", &raw.post_round),
        timeout_s,
    }
}

fn list(c: &mut Checker<'_, '_>, key: &str, raw: &[Vec<String>]) -> Vec<Vec<String>> {
    if raw.len() > MAX_HOOKS {
        c.fail_hint(
            &["hooks", key],
            format!("{} hooks; at most {MAX_HOOKS} are allowed", raw.len()),
            "run a longer list of commands from one script",
        );
        return Vec::new();
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, argv)| check_cmd(c, &["hooks", key, &i.to_string()], Some(argv)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::load_minimal_with as load;

    #[test]
    fn hooks_are_argv_lists_with_a_common_time_limit() {
        let p = load("[hooks]\npre_round = [[\"git\", \"pull\"], [\"./fetch.sh\"]]\npost_round = [[\"true\"]]\n").unwrap();
        assert_eq!(
            p.hooks.pre_round,
            vec![
                vec!["git".to_string(), "pull".into()],
                vec!["./fetch.sh".into()]
            ]
        );
        assert_eq!(p.hooks.post_round, vec![vec!["true".to_string()]]);
        assert_eq!(p.hooks.timeout_s, 60);
        assert_eq!(p.hooks.total_timeout_s(), 180);
        let none = load("").unwrap();
        assert!(none.hooks.pre_round.is_empty() && none.hooks.post_round.is_empty());
        assert_eq!(none.hooks.total_timeout_s(), 0);
    }

    #[test]
    fn bad_hooks_are_positioned_errors() {
        for (hooks, expected) in [
            (
                "[hooks]\npre_round = [[]]\n",
                "hooks.pre_round.0: must name a program: the list is empty",
            ),
            (
                "[hooks]\npost_round = [[\"true\"], [\" \"]]\n",
                "hooks.post_round.1: must name a program: the first word is empty",
            ),
            (
                "[hooks]\ntimeout_s = 0\n",
                "hooks.timeout_s: must be a number of seconds from 1 to 3600, got 0",
            ),
            (
                "[hooks]\ntimeout_s = 3601\n",
                "hooks.timeout_s: must be a number of seconds from 1 to 3600, got 3601",
            ),
            ("[hooks]\npre_round = [\"git pull\"]\n", "hooks.pre_round"),
            ("[hooks]\npre = [[\"x\"]]\n", "pre"),
        ] {
            let err = load(hooks).unwrap_err();
            assert!(err.contains(expected), "{hooks}: {err}");
        }
        let many = format!("[hooks]\npre_round = [{}]\n", ["[\"true\"]"; 11].join(", "));
        assert!(load(&many).unwrap_err().contains("11 hooks; at most 10"));
    }
}
