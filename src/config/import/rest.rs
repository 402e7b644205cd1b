//! `[prompt]`, `[vcs]` and `[phases]` of the old file.

use toml::{Table, Value};

use super::convert::Import;
use super::old::{self, array, string};

/// What the old runner's round-context block was, for the decisions about it.
const CONTEXT_BLOCK: &str = "agent-runner does not put the round-context JSON block (round number, previous exit, stashed work) into the prompt; the agent gets AGENT_RUNNER_ROUND, AGENT_RUNNER_PHASE and AGENT_RUNNER_LOG_DIR in its environment instead: reword a prompt that relies on the block";

impl Import {
    pub(super) fn prompt(&mut self, table: &Table) {
        for (key, value) in table {
            let old = format!("prompt.{key}");
            match key.as_str() {
                "file" if table.contains_key("files") => {
                    self.dropped(&old, "`file` beside `files`: cli-agent-runner refused both");
                }
                "files" | "file" => self.prompt_files(&old, value, &["prompt"]),
                "concat_separator" => match value.as_str() {
                    Some(s) => self.carry(&old, &["prompt"], key, string(s), ""),
                    None => self.dropped(&old, "not a string: cli-agent-runner refused it"),
                },
                "inject_context" if value.as_bool() == Some(false) => {
                    self.dropped(&old, "false: agent-runner injects no context either");
                }
                "context_injection_mode" if value.as_str() == Some("none") => {
                    self.dropped(&old, "\"none\": agent-runner injects no context either");
                }
                "inject_context" | "context_injection_mode" => self.decide(&old, CONTEXT_BLOCK),
                "strip_yaml_frontmatter" if value.as_bool() == Some(false) => {
                    self.dropped(&old, "false: agent-runner sends the files as they are too");
                }
                "strip_yaml_frontmatter" => self.decide(
                    &old,
                    "agent-runner sends the prompt files as they are: remove a YAML front matter from the first file, or the agent reads it",
                ),
                _ => self.unknown(&old),
            }
        }
    }

    /// `file` or `files` of `[prompt]` or of a phase's prompt, as `files` of the table `path`.
    fn prompt_files(&mut self, old: &str, value: &Value, path: &[&str]) {
        let Some(files) = old::str_list(value).filter(|f| !f.is_empty()) else {
            self.dropped(old, "not a list of paths: cli-agent-runner refused it");
            return;
        };
        let files: Vec<String> = files.iter().map(|f| self.path(f)).collect();
        let note = if old.rsplit('.').next() == Some("file") {
            "the one file, as a list"
        } else {
            ""
        };
        self.carry(old, path, "files", array(&files), note);
    }

    pub(super) fn vcs(&mut self, table: &Table) {
        for (key, value) in table {
            let old = format!("vcs.{key}");
            match key.as_str() {
                "orphan_action" if table.contains_key("dirty_action") => {
                    self.dropped(&old, "replaced by dirty_action, which the file sets too");
                }
                "dirty_action" | "orphan_action" => self.dirty_action(&old, value),
                "stash_idempotency_s" => self.dropped(
                    &old,
                    "agent-runner stashes once, after the agent exited; there is no second stash to guard against",
                ),
                _ => self.unknown(&old),
            }
        }
    }

    fn dirty_action(&mut self, old: &str, value: &Value) {
        let (new, note) = match value.as_str() {
            Some("auto_commit") => ("commit", "\"auto_commit\" is called \"commit\""),
            Some(same @ ("stash" | "ignore")) => (same, ""),
            _ => {
                self.dropped(
                    old,
                    "not stash, ignore or auto_commit: cli-agent-runner refused it",
                );
                return;
            }
        };
        self.carry(old, &["vcs"], "dirty_action", string(new), note);
    }

    /// The old default stash, written out: agent-runner's default leaves the tree alone.
    pub(super) fn vcs_defaults(&mut self, table: Option<&Table>) {
        let set = table
            .is_some_and(|t| t.contains_key("dirty_action") || t.contains_key("orphan_action"));
        if !set {
            self.default(
                &["vcs"],
                "dirty_action",
                string("stash"),
                "the old default (agent-runner's is \"ignore\"); it stashes every uncommitted change, yours too",
            );
        }
    }

    pub(super) fn phases(&mut self, table: &Table) {
        for (key, value) in table {
            let old = format!("phases.{key}");
            match (key.as_str(), value) {
                ("list", _) => match old::str_list(value) {
                    Some(list) => self.carry(&old, &["phases"], "list", array(&list), ""),
                    None => self.dropped(&old, "not a list of names: cli-agent-runner refused it"),
                },
                ("phase_policy", _) if value.as_str() == Some("wait") => self.dropped(
                    &old,
                    "\"wait\", the default: it only mattered with schedule windows",
                ),
                ("phase_policy", _) => self.decide(
                    &old,
                    "skipping a phase whose window is closed needs per-phase windows; agent-runner's [schedule] windows pause every phase alike",
                ),
                (name, Value::Table(phase)) => self.phase(name, phase),
                _ => self.dropped(&old, "not a phase table: cli-agent-runner refused it"),
            }
        }
    }

    fn phase(&mut self, name: &str, table: &Table) {
        for (key, value) in table {
            let old = format!("phases.{name}.{key}");
            match key.as_str() {
                "round_budget_s" | "round_timeout_s" => self.phase_timeout(&old, name, value),
                "runtime" => match value.as_table() {
                    Some(runtime) => self.phase_runtime(name, runtime),
                    None => self.dropped(&old, "not a table: cli-agent-runner refused it"),
                },
                "prompt" => self.phase_prompt(name, value),
                "agent" => self.decide(
                    &old,
                    "agent-runner runs one agent command for every phase; make it one project per agent, or one command for all phases",
                ),
                "schedule" => self.decide(
                    &old,
                    "agent-runner has no per-phase windows: [schedule] applies to every phase; until you decide, the phase runs whenever the project's windows allow",
                ),
                "disable_pre_round_hooks" => self.dropped(&old, super::runtime::DISABLE_HOOKS_GONE),
                _ => self.unknown(&old),
            }
        }
    }

    fn phase_timeout(&mut self, old: &str, phase: &str, value: &Value) {
        match value.as_integer() {
            Some(s) if s > 0 => {
                self.carry(
                    old,
                    &["phases", phase],
                    "round_timeout_s",
                    Value::Integer(s),
                    "",
                );
            }
            _ => self.dropped(old, "not a positive integer: cli-agent-runner refused it"),
        }
    }

    fn phase_runtime(&mut self, phase: &str, table: &Table) {
        for (key, value) in table {
            let old = format!("phases.{phase}.runtime.{key}");
            match key.as_str() {
                "round_budget_s" | "round_timeout_s" => self.phase_timeout(&old, phase, value),
                "disable_pre_round_hooks" => self.dropped(&old, super::runtime::DISABLE_HOOKS_GONE),
                _ => self.unknown(&old),
            }
        }
    }

    fn phase_prompt(&mut self, phase: &str, value: &Value) {
        let Some(prompt) = value.as_table() else {
            self.dropped(
                &format!("phases.{phase}.prompt"),
                "not a table: cli-agent-runner refused it",
            );
            return;
        };
        for (key, value) in prompt {
            let old = format!("phases.{phase}.prompt.{key}");
            match key.as_str() {
                "files" => self.prompt_files(&old, value, &["phases", phase, "prompt"]),
                _ => self.unknown(&old),
            }
        }
    }
}
