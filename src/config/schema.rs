//! The set of valid keys and tables, used to reject unknown ones with a position and a suggestion.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::error::ConfigProblem;

use super::problems::{Problems, echoed};
use super::spans::Located;

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
    "budget",
    "pricing",
    "alerts",
    "progress",
    "goal",
    "notify",
    "limits",
    "schedule",
    "hooks",
];
/// Keys allowed at the top of a shared account's file.
const ACCOUNT_TOP: &[&str] = &["budget"];
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
    "state_paths",
    "account",
    "exec_prefix",
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
    "auth_fail_halt_after",
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
/// Keys allowed in `[notify]`, of a project or of the shared notify.toml.
const NOTIFY: &[&str] = &[
    "command",
    "webhook",
    "webhook_credential",
    "format",
    "on",
    "dedup_window_s",
    "timeout_s",
];
/// Keys allowed at the top of the shared notify.toml.
const SHARED_NOTIFY_TOP: &[&str] = &["notify"];

/// Keys allowed in `[alerts]`.
const ALERTS: &[&str] = &[
    "window_rounds",
    "network_failure_percent",
    "timeout_percent",
    "repeated_stashes",
    "repeated_error_rounds",
    "disk_warn_percent",
    "disk_halt_percent",
    "stale_factor",
];

/// Keys allowed in `[budget]`.
pub(super) const BUDGET: &[&str] = &[
    "daily_usd",
    "monthly_usd",
    "daily_tokens",
    "loop_usd",
    "rounds_per_hour",
    "timezone",
    "overshoot_pct",
    "spike_factor",
    "spike_action",
];
/// Keys allowed in `[pricing.MODEL]`.
const PRICE: &[&str] = &[
    "input_per_mtok",
    "output_per_mtok",
    "cache_read_per_mtok",
    "cache_write_per_mtok",
];
/// Keys allowed in `[schedule]`.
const SCHEDULE: &[&str] = &["run_windows", "pause_windows", "timezone"];
/// Keys allowed in `[progress]`.
const PROGRESS: &[&str] = &["stall_rounds", "repeat_rounds"];
/// Keys allowed in `[limits]`.
const LIMITS: &[&str] = &[
    "memory_max",
    "memory_high",
    "cpu_quota",
    "tasks_max",
    "io_weight",
    "nice",
    "oom_rounds",
];
/// Keys allowed in `[hooks]`.
const HOOKS: &[&str] = &["pre_round", "post_round", "timeout_s"];
/// Keys allowed in `[goal]`.
const GOAL: &[&str] = &["checks"];
/// Keys allowed in each `[[goal.checks]]`.
const GOAL_CHECK: &[&str] = &["name", "cmd", "timeout_s"];

/// Keys that cli-agent-runner, the Python tool agent-runner replaces, spelt differently: the hint
/// names the key agent-runner reads instead.
const RENAMED: &[(&str, &str)] = &[
    ("round_budget_s", "round_timeout_s"),
    ("rate_limit_action", "transient_error_action"),
    ("file", "files"),
];

/// A key the schema does not know, found by the walk and positioned only if it is listed.
struct Unknown<'t> {
    path: Vec<&'t str>,
    name: &'t str,
    span: Range<usize>,
    what: What,
    allowed: &'static [&'static str],
}

/// What an unknown key holds, as the problem names it.
#[derive(Clone, Copy)]
enum What {
    Key,
    Table,
    /// A value under `[phases]` where only `list` and phase tables belong.
    NotAPhaseTable,
}

/// Every key or table in the file that the schema does not know, in the order of the file (the
/// parsed tables are sorted by name). One walk of the file; only listed problems are positioned.
pub(super) fn unknown_keys(doc: &Located<'_>) -> Problems {
    let mut found = Vec::new();
    walk(doc.root, &mut found);
    found.sort_by_key(|u| u.span.start);
    let mut problems = Problems::default();
    for unknown in &found {
        problems.add(|| unknown.problem(doc));
    }
    problems
}

/// [`unknown_keys`] for the shared notify.toml, which holds only a `[notify]` table.
pub(super) fn unknown_shared_notify_keys(doc: &Located<'_>) -> Problems {
    let mut found = Vec::new();
    check(doc.root, &[], SHARED_NOTIFY_TOP, &mut found);
    for (key, value) in doc.root {
        if let (DeValue::Table(table), "notify") = (value.get_ref(), key.get_ref().as_ref()) {
            check(table, &["notify"], NOTIFY, &mut found);
        }
    }
    found.sort_by_key(|u| u.span.start);
    let mut problems = Problems::default();
    for unknown in &found {
        problems.add(|| unknown.problem(doc));
    }
    problems
}

/// [`unknown_keys`] for a shared account's file: a `[budget]` and nothing else.
pub(super) fn unknown_account_keys(doc: &Located<'_>) -> Problems {
    let mut found = Vec::new();
    check(doc.root, &[], ACCOUNT_TOP, &mut found);
    if let Some(DeValue::Table(budget)) = doc.root.get("budget").map(toml::Spanned::get_ref) {
        check(budget, &["budget"], BUDGET, &mut found);
    }
    found.sort_by_key(|u| u.span.start);
    let mut problems = Problems::default();
    for unknown in &found {
        problems.add(|| unknown.problem(doc));
    }
    problems
}

fn walk<'t>(root: &'t DeTable<'_>, found: &mut Vec<Unknown<'t>>) {
    check(root, &[], TOP, found);
    for (key, value) in root {
        let DeValue::Table(table) = value.get_ref() else {
            continue;
        };
        match key.get_ref().as_ref() {
            "agent" => check(table, &["agent"], AGENT, found),
            "runtime" => check(table, &["runtime"], RUNTIME, found),
            "prompt" => check(table, &["prompt"], PROMPT, found),
            "vcs" => check(table, &["vcs"], VCS, found),
            "alerts" => check(table, &["alerts"], ALERTS, found),
            "progress" => check(table, &["progress"], PROGRESS, found),
            "goal" => check_goal(table, found),
            "notify" => check(table, &["notify"], NOTIFY, found),
            "limits" => check(table, &["limits"], LIMITS, found),
            "schedule" => check(table, &["schedule"], SCHEDULE, found),
            "hooks" => check(table, &["hooks"], HOOKS, found),
            "phases" => check_phases(table, found),
            "budget" => check(table, &["budget"], BUDGET, found),
            "pricing" => check_pricing(table, found),
            _ => {}
        }
    }
}

fn check_phases<'t>(phases: &'t DeTable<'_>, found: &mut Vec<Unknown<'t>>) {
    for (key, value) in phases {
        let name = key.get_ref().as_ref();
        if name == "list" {
            continue;
        }
        let DeValue::Table(phase) = value.get_ref() else {
            found.push(Unknown {
                path: vec!["phases"],
                name,
                span: key.span(),
                what: What::NotAPhaseTable,
                allowed: &[],
            });
            continue;
        };
        check(phase, &["phases", name], PHASE, found);
        if let Some((_, prompt)) = phase.iter().find(|(k, _)| k.get_ref() == "prompt")
            && let DeValue::Table(prompt) = prompt.get_ref()
        {
            check(prompt, &["phases", name, "prompt"], PROMPT, found);
        }
    }
}

fn check_pricing<'t>(pricing: &'t DeTable<'_>, found: &mut Vec<Unknown<'t>>) {
    for (key, value) in pricing {
        if let DeValue::Table(price) = value.get_ref() {
            check(price, &["pricing", key.get_ref().as_ref()], PRICE, found);
        }
    }
}

fn check_goal<'t>(goal: &'t DeTable<'_>, found: &mut Vec<Unknown<'t>>) {
    check(goal, &["goal"], GOAL, found);
    let checks = goal.iter().find(|(k, _)| k.get_ref() == "checks");
    if let Some((_, checks)) = checks
        && let DeValue::Array(checks) = checks.get_ref()
    {
        for entry in checks {
            if let DeValue::Table(entry) = entry.get_ref() {
                check(entry, &["goal", "checks"], GOAL_CHECK, found);
            }
        }
    }
}

fn check<'t>(
    table: &'t DeTable<'_>,
    path: &[&'t str],
    allowed: &'static [&'static str],
    found: &mut Vec<Unknown<'t>>,
) {
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        if !allowed.contains(&name) {
            found.push(Unknown {
                path: path.to_vec(),
                name,
                span: key.span(),
                what: if matches!(value.get_ref(), DeValue::Table(_)) {
                    What::Table
                } else {
                    What::Key
                },
                allowed,
            });
        }
    }
}

impl Unknown<'_> {
    /// Where the key is, what it is, and what was probably meant.
    fn problem(&self, doc: &Located<'_>) -> ConfigProblem {
        let Unknown {
            path,
            name,
            span,
            what,
            allowed,
        } = self;
        let full = path
            .iter()
            .copied()
            .chain([*name])
            .collect::<Vec<_>>()
            .join(".");
        let shown = echoed(name);
        let what = match what {
            What::Key => "key",
            What::Table => "table",
            What::NotAPhaseTable => return doc.problem_at(span, &full, format!(
                "`{shown}` is not a phase table; [phases] holds `list` and one [phases.NAME] table per phase"
            )),
        };
        let place = if path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in [{}]", echoed(&path.join(".")))
        };
        let mut problem = doc.problem_at(span, &full, format!("unknown {what} `{shown}` {place}"));
        problem.hint = suggestion(name, allowed);
        problem
    }
}

/// Names longer than this are not compared with the valid keys (the comparison costs the product
/// of the lengths, and no misspelling of a key is this long).
const MAX_SPELLING_LEN: usize = 64;

/// "did you mean …" for a misspelt or renamed key.
fn suggestion(name: &str, allowed: &[&str]) -> Option<String> {
    if let Some((_, new)) = RENAMED.iter().find(|(old, _)| *old == name)
        && allowed.contains(new)
    {
        return Some(format!("`{name}` is called `{new}` in agent-runner"));
    }
    let closest = allowed
        .iter()
        .filter(|_| name.len() <= MAX_SPELLING_LEN)
        .map(|candidate| (strsim::jaro_winkler(name, candidate), *candidate))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((score, key)) if score >= 0.75 => Some(format!("did you mean `{key}`?")),
        _ if allowed.is_empty() => None,
        _ => Some(format!("valid keys here: {}", allowed.join(", "))),
    }
}
