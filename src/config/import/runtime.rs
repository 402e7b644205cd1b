//! `[runtime]` of the old file.

use std::path::Path;

use toml::{Table, Value};

use super::convert::Import;
use super::old::{self, array, string};

/// What stands for the old "0: never prune the round logs": agent-runner keeps a count of logs,
/// and this many is every log a project will ever write in practice.
pub(super) const KEEP_ALL_LOGS: i64 = 1_000_000;

/// Why `disable_pre_round_hooks` (of `[runtime]` or a phase) is not carried over.
pub(super) const DISABLE_HOOKS_GONE: &str = "removed in cli-agent-runner 0.3.9, it did nothing since; agent-runner runs only the hooks [hooks] lists, so none until you add some";

impl Import {
    pub(super) fn runtime(&mut self, table: &Table, work_dir: Option<&Path>) {
        for (key, value) in table {
            let old = format!("runtime.{key}");
            match key.as_str() {
                "work_dir" => self.work_dir(&old, value, work_dir),
                "log_dir" | "stop_file" | "narrative_file" => self.path_key(&old, key, value),
                "round_budget_s" | "round_timeout_s" => self.seconds(&old, value, "round_timeout_s"),
                "restart_delay_s" => self.seconds(&old, value, "restart_delay_s"),
                "max_rounds" => self.seconds(&old, value, "max_rounds"),
                "max_grace_after_result_s" => self.grace(&old, value),
                "round_log_retention" => self.retention(&old, value),
                "transient_error_action" | "rate_limit_action" => self.transient(&old, value),
                "grace_kill_ignore_patterns" => match old::str_list(value) {
                    Some(p) => self.carry(&old, &["runtime"], key, array(&p), ""),
                    None => self.dropped(&old, "not a list of strings: cli-agent-runner refused it"),
                },
                "round_timeout_per_phase" => self.per_phase_timeouts(&old, value),
                "disable_pre_round_hooks" => self.dropped(&old, DISABLE_HOOKS_GONE),
                "substrate_fingerprint_paths" => self.dropped(
                    &old,
                    "fed only the round_substrate_* events; agent-runner's round_end and the journal say what a round changed",
                ),
                "fresh_eyes_every_n" => self.decide(
                    &old,
                    "agent-runner has no fresh-eyes rounds (AGENT_RUNNER_FRESH_EYES=1 every N rounds); a phase in [phases] list can give every Nth round its own prompt instead",
                ),
                "dry_run" if value.as_bool() == Some(false) => {
                    self.dropped(&old, "false, the default: nothing to carry over");
                }
                "dry_run" => self.decide(
                    &old,
                    "only the old runner's plugin hooks and goal checks read it; agent-runner's [hooks] and [[goal.checks]] get no dry-run flag: give them one through [agent.env] if they should hold back",
                ),
                _ => self.unknown(&old),
            }
        }
    }

    fn work_dir(&mut self, old: &str, value: &Value, work_dir: Option<&Path>) {
        match (value.as_str(), work_dir) {
            (Some(raw), Some(dir)) => {
                let shown = dir.to_string_lossy();
                let note = if raw == shown {
                    String::new()
                } else {
                    "made absolute (the old file's directory, `~` and {project} resolved as the old runner did): the new file lives elsewhere".to_string()
                };
                self.carry(old, &["runtime"], "work_dir", string(&shown), note);
            }
            _ => self.dropped(old, "not a path: cli-agent-runner refused it"),
        }
    }

    fn path_key(&mut self, old: &str, key: &str, value: &Value) {
        let Some(raw) = value.as_str() else {
            self.dropped(old, "not a path: cli-agent-runner refused it");
            return;
        };
        let path = self.path(raw);
        let note = if path == raw {
            String::new()
        } else {
            format!(
                "`~` and {{project}} expanded as the old runner did ({{project}} was {})",
                self.old_project
            )
        };
        self.carry(old, &["runtime"], key, string(&path), note);
    }

    /// A positive count of seconds (or rounds) carried to `key` of `[runtime]`.
    fn seconds(&mut self, old: &str, value: &Value, key: &str) {
        match value.as_integer() {
            Some(n) if n > 0 => {
                self.carry(old, &["runtime"], key, Value::Integer(n), "");
            }
            _ => self.dropped(old, "not a positive integer: cli-agent-runner refused it"),
        }
    }

    fn grace(&mut self, old: &str, value: &Value) {
        match value.as_integer() {
            Some(0) => self.dropped(old, "0 switched the grace kill off, as leaving it out does"),
            Some(n) if n > 0 => {
                self.carry(
                    old,
                    &["runtime"],
                    "max_grace_after_result_s",
                    Value::Integer(n),
                    "",
                );
            }
            _ => self.dropped(old, "not a count of seconds: cli-agent-runner refused it"),
        }
    }

    fn retention(&mut self, old: &str, value: &Value) {
        match value.as_integer() {
            Some(0) => self.carry(
                old,
                &["runtime"],
                "round_log_retention",
                Value::Integer(KEEP_ALL_LOGS),
                "0 meant never prune; agent-runner keeps a count, and this one keeps every log in practice",
            ),
            Some(n) if n > 0 => {
                self.carry(old, &["runtime"], "round_log_retention", Value::Integer(n), "");
            }
            _ => self.dropped(old, "not a count: cli-agent-runner refused it"),
        }
    }

    /// `transient_error_action` (once `rate_limit_action`): `skip` is called `ignore` now.
    fn transient(&mut self, old: &str, value: &Value) {
        let (new, note) = match value.as_str() {
            Some("skip") => ("ignore", "\"skip\" is called \"ignore\""),
            Some(same @ ("back_off" | "stop")) => (same, ""),
            _ => {
                self.dropped(
                    old,
                    "not back_off, skip or stop: cli-agent-runner refused it",
                );
                return;
            }
        };
        self.carry(
            old,
            &["runtime"],
            "transient_error_action",
            string(new),
            note,
        );
    }

    /// The pre-0.1.16 `{phase = seconds}` table: each becomes that phase's round_timeout_s.
    fn per_phase_timeouts(&mut self, old: &str, value: &Value) {
        let Some(table) = value.as_table() else {
            self.dropped(
                old,
                "not a table of phase timeouts: cli-agent-runner refused it",
            );
            return;
        };
        for (phase, seconds) in table {
            match seconds.as_integer() {
                Some(s) if s > 0 => self.carry(
                    &format!("{old}.{phase}"),
                    &["phases", phase],
                    "round_timeout_s",
                    Value::Integer(s),
                    "",
                ),
                _ => self.dropped(&format!("{old}.{phase}"), "not a positive integer"),
            }
        }
    }

    /// Defaults of the old `[runtime]` that agent-runner's differ from.
    pub(super) fn runtime_defaults(&mut self, table: Option<&Table>) {
        if !table.is_some_and(|t| t.contains_key("round_log_retention")) {
            self.default(
                &["runtime"],
                "round_log_retention",
                Value::Integer(KEEP_ALL_LOGS),
                "the old runner never pruned round logs unless told to (agent-runner keeps 100)",
            );
        }
    }
}
