//! The set of valid keys and tables, used to reject unknown ones with a position and a suggestion.

use toml::de::{DeTable, DeValue};

use super::spans::Located;
use crate::error::ConfigProblem;

/// The only configuration schema version this build understands.
pub(super) const SCHEMA_VERSION: i64 = 1;

/// Keys allowed at the top level (tables included).
const TOP: &[&str] = &[
    "schema_version",
    "name",
    "agent",
    "runtime",
    "prompt",
    "phases",
    "vcs",
];
/// Keys allowed in `[agent]`.
const AGENT: &[&str] = &[
    "command",
    "prompt_arg_template",
    "prompt_delivery",
    "env",
    "credentials",
    "terminal_marker",
    "preset",
    "stop_signal",
];
/// Keys allowed in `[runtime]`.
const RUNTIME: &[&str] = &[
    "work_dir",
    "log_dir",
    "user",
    "restart_delay_s",
    "schedule",
    "round_timeout_s",
    "checkin_timeout_s",
    "checkin_attempts",
    "watchdog_s",
    "max_rounds",
    "stop_file",
    "round_log_retention",
    "transient_error_action",
    "crash_loop_threshold",
    "short_crash_s",
    "max_grace_after_result_s",
    "grace_kill_ignore_patterns",
    "narrative_file",
];
/// Keys allowed in `[prompt]` and `[phases.NAME.prompt]`.
const PROMPT: &[&str] = &["files", "concat_separator"];
/// Keys allowed in `[phases.NAME]`.
const PHASE: &[&str] = &["prompt", "round_timeout_s"];
/// Keys allowed in `[vcs]`.
const VCS: &[&str] = &["dirty_action", "protect"];

/// Keys that cli-agent-runner, the Python tool agent-runner replaces, spelt differently: the hint
/// names the key agent-runner reads instead.
const RENAMED: &[(&str, &str)] = &[
    ("round_budget_s", "round_timeout_s"),
    ("rate_limit_action", "transient_error_action"),
    ("file", "files"),
];

/// Every key or table in the file that the schema does not know.
pub(super) fn unknown_keys(doc: &Located<'_>) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    check(doc, doc.root, &[], TOP, &mut problems);
    for (key, value) in doc.root {
        let DeValue::Table(table) = value.get_ref() else {
            continue;
        };
        match key.get_ref().as_ref() {
            "agent" => {
                check(doc, table, &["agent"], AGENT, &mut problems);
            }
            "runtime" => check(doc, table, &["runtime"], RUNTIME, &mut problems),
            "prompt" => check(doc, table, &["prompt"], PROMPT, &mut problems),
            "vcs" => check(doc, table, &["vcs"], VCS, &mut problems),
            "phases" => check_phases(doc, table, &mut problems),
            _ => {}
        }
    }
    problems
}

fn check_phases(doc: &Located<'_>, phases: &DeTable<'_>, problems: &mut Vec<ConfigProblem>) {
    for (key, value) in phases {
        let name = key.get_ref().as_ref();
        if name == "list" {
            continue;
        }
        let DeValue::Table(phase) = value.get_ref() else {
            problems.push(doc.problem_at(&key.span(), format!("phases.{name}"), format!(
                "`{name}` is not a phase table; [phases] holds `list` and one [phases.NAME] table per phase"
            )));
            continue;
        };
        let path = ["phases", name];
        check(doc, phase, &path, PHASE, problems);
        if let Some((_, prompt)) = phase.iter().find(|(k, _)| k.get_ref() == "prompt")
            && let DeValue::Table(prompt) = prompt.get_ref()
        {
            check(doc, prompt, &["phases", name, "prompt"], PROMPT, problems);
        }
    }
}

fn check(
    doc: &Located<'_>,
    table: &DeTable<'_>,
    path: &[&str],
    allowed: &[&str],
    problems: &mut Vec<ConfigProblem>,
) {
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        if allowed.contains(&name) {
            continue;
        }
        let full = path
            .iter()
            .copied()
            .chain([name])
            .collect::<Vec<_>>()
            .join(".");
        let is_table = matches!(value.get_ref(), DeValue::Table(_));
        let what = if is_table { "table" } else { "key" };
        let place = if path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in [{}]", path.join("."))
        };
        let mut problem = doc.problem_at(
            &key.span(),
            full,
            format!("unknown {what} `{name}` {place}"),
        );
        problem.hint = suggestion(name, allowed);
        problems.push(problem);
    }
}

/// "did you mean …" for a misspelt or renamed key.
fn suggestion(name: &str, allowed: &[&str]) -> Option<String> {
    if let Some((_, new)) = RENAMED.iter().find(|(old, _)| *old == name)
        && allowed.contains(new)
    {
        return Some(format!("`{name}` is called `{new}` in agent-runner"));
    }
    let best = allowed
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), *candidate))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    if best.0 >= 0.75 {
        Some(format!("did you mean `{}`?", best.1))
    } else {
        Some(format!("valid keys here: {}", allowed.join(", ")))
    }
}
