//! `[agent]` of the old file.

use toml::{Table, Value};

use super::convert::Import;
use super::old::{self, array, string};
use crate::config::validate::valid_env_name;

/// The old runner's terminal marker when `[agent] terminal_marker` was not set.
const OLD_TERMINAL_MARKER: &str = "\"type\":\"result\"";

impl Import {
    pub(super) fn agent(&mut self, table: &Table) {
        for (key, value) in table {
            let old = format!("agent.{key}");
            match key.as_str() {
                "command" => self.command(&old, value),
                "prompt_arg_template" => self.list(&old, value, "prompt_arg_template"),
                "prompt_delivery" => self.prompt_delivery(&old, value),
                "env" => self.env(value),
                "terminal_marker" => self.carry(
                    &old,
                    &["agent"],
                    "terminal_marker",
                    value.clone(),
                    "\"\" still switches the grace-kill scan off",
                ),
                "name" => self.dropped(
                    &old,
                    "a label only; the project is named by --name or its work_dir",
                ),
                "sigterm_grace_s" => self.systemd(
                    &old,
                    "TimeoutStopSec= of the round service (30 s in the packaged unit)",
                    "after the stop signal, systemd waits the round's stop timeout and then kills every process of the round",
                ),
                "exec_prefix" => self.exec_prefix(&old, value),
                _ => self.unknown(&old),
            }
        }
    }

    /// `command`: a bare string without spaces is a one-word command (the old `migrate` said so);
    /// one with spaces is split at them, which the operator must check.
    fn command(&mut self, old: &str, value: &Value) {
        if let Value::String(s) = value
            && s.contains(char::is_whitespace)
        {
            let words: Vec<String> = s.split_whitespace().map(ToString::to_string).collect();
            self.carry(old, &["agent"], "command", array(&words), "split at spaces");
            self.decide(
                old,
                "the old command was one string with spaces, split at the spaces here: check that no argument needed quoting",
            );
            return;
        }
        self.list(old, value, "command");
    }

    /// A list key of `[agent]` carried as it is (a bare string becomes a one-element list).
    fn list(&mut self, old: &str, value: &Value, key: &str) {
        match old::str_list(value) {
            Some(items) => {
                let note = if value.is_str() {
                    "a bare string, made a one-element list"
                } else {
                    ""
                };
                self.carry(old, &["agent"], key, array(&items), note);
            }
            None => self.dropped(old, "not a list of strings: cli-agent-runner refused it"),
        }
    }

    /// `exec_prefix`: the same argv before the agent's. The old runner also gave a container run
    /// a `--cidfile` to kill the container by; agent-runner signals the prefix's process only.
    fn exec_prefix(&mut self, old: &str, value: &Value) {
        match old::str_list(value) {
            Some(words) if words.is_empty() => self.dropped(old, "empty: no prefix"),
            Some(words) if words[0].trim().is_empty() => {
                self.dropped(old, "its first word is blank: cli-agent-runner refused it");
            }
            Some(words) if value.is_str() => {
                let words: Vec<String> = words[0].split_whitespace().map(ToString::to_string).collect();
                self.carry(old, &["agent"], "exec_prefix", array(&words), "split at spaces");
                self.decide(
                    old,
                    "the old exec_prefix was one string, split at the spaces here: check that no argument needed quoting",
                );
            }
            Some(words) => self.carry(
                old,
                &["agent"],
                "exec_prefix",
                array(&words),
                "the stop signal now goes to the prefix's process, which must pass it on (podman run and docker run do by default); the old runner's --cidfile kill of the container is not done",
            ),
            None => self.dropped(old, "not a list of strings: cli-agent-runner refused it"),
        }
    }

    fn prompt_delivery(&mut self, old: &str, value: &Value) {
        match value.as_str() {
            Some(how @ ("argv" | "stdin")) => {
                self.carry(old, &["agent"], "prompt_delivery", string(how), "");
            }
            _ => self.dropped(old, "not argv or stdin: cli-agent-runner refused it"),
        }
    }

    /// `[agent.env]`: values as text, as the old runner cast them; names agent-runner refuses are
    /// dropped.
    fn env(&mut self, value: &Value) {
        let Some(env) = value.as_table() else {
            self.dropped("agent.env", "not a table: cli-agent-runner refused it");
            return;
        };
        for (name, value) in env {
            let old = format!("agent.env.{name}");
            if name.starts_with("AGENT_RUNNER_") {
                self.dropped(
                    &old,
                    "agent-runner sets the AGENT_RUNNER_* variables itself",
                );
                continue;
            }
            if !valid_env_name(name) {
                self.dropped(&old, "not a valid environment variable name");
                continue;
            }
            match old::as_text(value) {
                Some(text) => {
                    let note = if value.is_str() {
                        ""
                    } else {
                        "written as the text the old runner made of it"
                    };
                    self.carry(&old, &["agent", "env"], name, string(&text), note);
                }
                None => self.dropped(
                    &old,
                    "not a string, number or boolean: cli-agent-runner refused it",
                ),
            }
        }
    }

    /// What the old runner did without being told, written out where agent-runner would do
    /// otherwise: argv delivery, claude's SIGINT, the terminal marker a grace kill waits for.
    pub(super) fn agent_defaults(&mut self, table: Option<&Table>, root: &Table) {
        let empty = Table::new();
        let table = table.unwrap_or(&empty);
        if !table.contains_key("prompt_delivery") {
            self.default(
                &["agent"],
                "prompt_delivery",
                string("argv"),
                "the old default (agent-runner's is stdin, or the preset's)",
            );
        }
        let claude = self
            .doc
            .get(&["agent"], "command")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(Value::as_str)
            .is_some_and(|program| program.rsplit('/').next() == Some("claude"));
        let signal = if claude { "SIGINT" } else { "SIGTERM" };
        let why = if claude {
            "the old runner stopped claude with SIGINT, which lets it finish its turn"
        } else {
            "the old runner's stop signal for this agent"
        };
        self.default(&["agent"], "stop_signal", string(signal), why);
        let grace = old::table(root, "runtime")
            .and_then(|r| r.get("max_grace_after_result_s"))
            .and_then(Value::as_integer)
            .is_some_and(|s| s > 0);
        if grace && !table.contains_key("terminal_marker") {
            self.default(
                &["agent"],
                "terminal_marker",
                string(OLD_TERMINAL_MARKER),
                "the old default marker, which starts the grace kill (agent-runner's default is the preset's, or none)",
            );
        }
    }
}
