//! `[schedule]`, `[monitor]`, `[plugins]` and `[goal]` of the old file: mostly features that
//! agent-runner leaves to systemd or does not have, each reported with what to do instead.

use std::collections::BTreeSet;

use toml::{Table, Value};

use super::convert::Import;
use super::old;

/// The old runner's default `[monitor] auth_fail_patterns`.
const OLD_AUTH_PATTERN: &str = r"\b(oauth|unauthorized|401|api[_ ]key|auth(entication)?[_ -]?(failed|error|expired)|session.*expired)\b";

/// A percentage of the old file (a float) as the whole one agent-runner reads, rounded up.
fn percent(value: &Value) -> Option<i64> {
    #[allow(clippy::cast_possible_truncation, reason = "clamped to 1..=100 first")]
    let whole = |f: f64| f.clamp(1.0, 100.0).ceil() as i64;
    match value {
        Value::Integer(i) => Some((*i).clamp(1, 100)),
        Value::Float(f) if f.is_finite() => Some(whole(*f)),
        _ => None,
    }
}

/// Why the host-health thresholds have no counterpart.
const NO_MEMORY_GATE: &str = "agent-runner has no memory or pressure gate of its own: the kernel and systemd handle memory; [limits] memory_high and memory_max bound the round service (MemoryHigh=, MemoryMax=) and oom_rounds halts the loop after rounds killed for memory in a row; decide whether this project needs them";

impl Import {
    /// `[schedule]`: the same keys, with the same window syntax.
    pub(super) fn schedule(&mut self, table: &Table) {
        for (key, value) in table {
            let old = format!("schedule.{key}");
            match key.as_str() {
                "timezone" => match value.as_str().filter(|tz| !tz.is_empty()) {
                    Some(tz) => self.carry(&old, &["schedule"], key, Value::from(tz), ""),
                    None => self.dropped(&old, "empty or not text: the host's zone, as before"),
                },
                "run_windows" | "pause_windows" => self.windows(&old, key, value),
                _ => self.unknown(&old),
            }
        }
    }

    fn windows(&mut self, old: &str, key: &str, value: &Value) {
        let list = old::str_list(value).filter(|list| {
            list.iter()
                .all(|w| crate::time::schedule::Spec::parse(w).is_ok())
        });
        match list {
            Some(list) => {
                let array = Value::Array(list.into_iter().map(Value::from).collect());
                self.carry(old, &["schedule"], key, array, "");
            }
            None => self.dropped(old, "not a list of windows: cli-agent-runner refused it"),
        }
    }

    pub(super) fn monitor(&mut self, table: &Table) {
        for (key, value) in table {
            let old = format!("monitor.{key}");
            let off = value.as_integer() == Some(0);
            match key.as_str() {
                "auth_fail_patterns" => self.auth_patterns(&old, value),
                "auth_fail_hint" => self.dropped(
                    &old,
                    "agent-runner's preset for the CLI says what to renew when authentication fails (status and diagnose show it)",
                ),
                "auto_stop_on" => self.auto_stop(value),
                "remote_failure_tolerance_s" => self.dropped(
                    &old,
                    "the old monitor's SSH relay; `agent-runner --host HOST` runs each command over ssh",
                ),
                "anomaly_repetitive_window" | "anomaly_repetitive_threshold" | "round_progress_interval_s"
                    if off =>
                {
                    self.dropped(&old, "0: switched off, as agent-runner has it");
                }
                "anomaly_repetitive_window" | "anomaly_repetitive_threshold" => self.decide(
                    &old,
                    "agent-runner has no detector for an agent repeating the same tool call; round_timeout_s bounds such a round",
                ),
                "round_progress_interval_s" => self.decide(
                    &old,
                    "agent-runner writes no periodic progress event; status and peek show a running round's age and log at any time",
                ),
                "supervisor_stale_threshold_s" => self.systemd(
                    &old,
                    "WatchdogSec= ([runtime] watchdog_s) and RuntimeMaxSec= (round_timeout_s) of the round service",
                    "systemd notices a hung round itself",
                ),
                "host_health" => self.host_health(value),
                _ => self.unknown(&old),
            }
        }
    }

    fn auth_patterns(&mut self, old: &str, value: &Value) {
        let default = old::str_list(value).is_some_and(|p| p == [OLD_AUTH_PATTERN]);
        if default {
            self.dropped(old, "the old default; agent-runner recognises authentication failures of each preset's CLI");
        } else {
            self.decide(
                old,
                "agent-runner cannot be given its own authentication-failure patterns; it recognises those of each preset's CLI and halts after auth_fail_halt_after such rounds",
            );
        }
    }

    /// `auto_stop_on`: one entry per alert the old monitor stopped the service on.
    fn auto_stop(&mut self, value: &Value) {
        let alerts = old::str_list(value).unwrap_or_default();
        if !alerts.iter().any(|a| a == "disk_critical") {
            self.decide(
                "monitor.auto_stop_on",
                "the old monitor did not stop on a full disk; agent-runner halts the loop at [alerts] disk_halt_percent (default 95): set it to 100 to come closest",
            );
        }
        for alert in alerts {
            let old = format!("monitor.auto_stop_on.{alert}");
            match alert.as_str() {
                "oauth_fail" => self.mapped(
                    &old,
                    "runtime.auth_fail_halt_after",
                    "agent-runner halts the loop by itself after auth_fail_halt_after (default 2) rounds in a row fail to authenticate",
                ),
                "disk_critical" => self.mapped(
                    &old,
                    "alerts.disk_halt_percent",
                    "agent-runner halts the loop by itself when the disk of log_dir or work_dir is disk_halt_percent full (default 95, the old critical_pct)",
                ),
                _ => self.decide(
                    &old,
                    "agent-runner does not stop the loop on this alert: its alerts are shown by status and the journal, and the operator stops the loop",
                ),
            }
        }
    }

    fn host_health(&mut self, value: &Value) {
        let Some(groups) = value.as_table() else {
            self.dropped(
                "monitor.host_health",
                "not a table: cli-agent-runner refused it",
            );
            return;
        };
        for (group, keys) in groups {
            let Some(keys) = keys.as_table() else {
                // The flat names of before 0.3.0, which its migrate moved into the groups.
                self.host_health_key(&format!("monitor.host_health.{group}"), group, keys);
                continue;
            };
            for (key, value) in keys {
                let old = format!("monitor.host_health.{group}.{key}");
                if group == "disk" {
                    self.host_health_key(&old, key, value);
                } else {
                    self.decide(&old, NO_MEMORY_GATE);
                }
            }
        }
    }

    /// A disk threshold becomes the disk alert's; the rest have no counterpart.
    fn host_health_key(&mut self, old: &str, key: &str, value: &Value) {
        let new = match key {
            "warning_pct" | "disk_warning_pct" => "disk_warn_percent",
            "critical_pct" | "disk_critical_pct" => "disk_halt_percent",
            k if k.starts_with("mem")
                || k.starts_with("psi")
                || k.starts_with("swap")
                || k.starts_with("in_round") =>
            {
                self.decide(old, NO_MEMORY_GATE);
                return;
            }
            _ => {
                self.decide(
                    old,
                    "agent-runner watches how full the disk is, not how fast it fills",
                );
                return;
            }
        };
        match percent(value) {
            Some(p) => self.carry(
                old,
                &["alerts"],
                new,
                Value::Integer(p),
                "a whole percentage (rounded up, so the alert fires no earlier)",
            ),
            None => self.dropped(old, "not a percentage: cli-agent-runner refused it"),
        }
    }

    pub(super) fn plugins(&mut self, table: &Table) {
        self.decide(
            "plugins",
            "agent-runner loads no Python plugins: rewrite what a plugin's pre- or post-round hook did as a command in [hooks] pre_round or post_round (an argv run in work_dir as the agent's user; a failing pre_round command skips the round)",
        );
        for (key, value) in table {
            let old = format!("plugins.{key}");
            match key.as_str() {
                "disable" if old::str_list(value).is_some_and(|d| d.is_empty()) => {
                    self.dropped(&old, "empty: nothing was switched off");
                }
                "disable" => self.decide(
                    &old,
                    "agent-runner reads each preset's output itself and cannot switch a reader off by name; transient_error_action = \"ignore\" stops the back-off on rate limits",
                ),
                "sandbox" | "spawn_override_allow" | "pin" => {
                    self.dropped(&old, "removed in cli-agent-runner 0.3.9; it did nothing since");
                }
                _ => self.unknown(&old),
            }
        }
    }

    pub(super) fn goal(&mut self, table: &Table) {
        for (key, value) in table {
            let old = format!("goal.{key}");
            match key.as_str() {
                "ledger" => self.decide(
                    &old,
                    "agent-runner keeps no lessons ledger: the file stays in [prompt] files but is no longer written; remove it there if it is of no use",
                ),
                "checks" => self.goal_checks(value),
                _ => self.unknown(&old),
            }
        }
    }

    /// `[[goal.checks]]`: carried over, but they now end the loop when all pass.
    fn goal_checks(&mut self, value: &Value) {
        let mut names = BTreeSet::new();
        let checks: Vec<Value> = value
            .as_array()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .filter_map(|(i, c)| self.goal_check(i, c, &mut names))
                    .collect()
            })
            .unwrap_or_default();
        if checks.is_empty() {
            self.dropped("goal.checks", "no usable check");
            return;
        }
        self.doc.set(&["goal"], "checks", Value::Array(checks));
        self.decide(
            "goal.checks",
            "the checks are carried over, but agent-runner ends the loop (goal_reached) once every check passes after a round, where the old runner only recorded them: remove [goal] if the loop must go on",
        );
    }

    /// One check; `names` are those taken by the checks before it.
    fn goal_check(
        &mut self,
        index: usize,
        check: &Value,
        names: &mut BTreeSet<String>,
    ) -> Option<Value> {
        let old = format!("goal.checks.{}", index + 1);
        let Some(cmd) = check
            .get("cmd")
            .and_then(old::str_list)
            .filter(|c| !c.is_empty())
        else {
            self.dropped(&old, "no command: cli-agent-runner refused it");
            return None;
        };
        let given = check
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = if valid_check_name(given) && !names.contains(given) {
            given.to_string()
        } else {
            format!("check-{}", index + 1)
        };
        names.insert(name.clone());
        let timeout = check
            .get("timeout_s")
            .and_then(Value::as_integer)
            .filter(|t| *t > 0);
        let mut new = Table::new();
        new.insert("name".into(), old::string(&name));
        new.insert("cmd".into(), old::array(&cmd));
        new.insert(
            "timeout_s".into(),
            Value::Integer(timeout.unwrap_or(OLD_CHECK_TIMEOUT_S)),
        );
        let mut note = format!(
            "check \"{name}\"; timeout_s written out (the old default was {OLD_CHECK_TIMEOUT_S}, agent-runner's is 300)"
        );
        if name != given {
            note.push_str("; renamed: the old name is not a valid check name, or a second one");
        }
        self.mapped(&old, &format!("goal.checks.{}", index + 1), note);
        if let Some(cwd) = check
            .get("cwd")
            .and_then(Value::as_str)
            .filter(|c| *c != ".")
        {
            self.decide(
                &format!("{old}.cwd"),
                format!("agent-runner runs every check in work_dir, not in {}: wrap the command (e.g. [\"sh\", \"-c\", \"cd DIR && ...\"]) if it must run there", old::shown(&old::string(cwd))),
            );
        }
        Some(Value::Table(new))
    }
}

/// The old runner's default time for one goal check.
const OLD_CHECK_TIMEOUT_S: i64 = 10;

/// A name agent-runner accepts for a goal check.
fn valid_check_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
