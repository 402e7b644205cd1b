//! The project file as serde reads it: every key optional, no defaults, no checks beyond types.
//! [`super::schema`] holds the same key names for the unknown-key pass.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The raw file, as serde sees it. Defaults live in [`super::validate`]; agent-runner.toml(5)
/// documents each key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub schema_version: Option<i64>,
    pub name: Option<String>,
    #[serde(default)]
    pub agent: RawAgent,
    #[serde(default)]
    pub runtime: RawRuntime,
    #[serde(default)]
    pub prompt: RawPrompt,
    pub phases: Option<RawPhases>,
    #[serde(default)]
    pub vcs: RawVcs,
    #[serde(default)]
    pub budget: RawBudget,
    #[serde(default)]
    pub pricing: BTreeMap<String, RawPrice>,
    #[serde(default)]
    pub alerts: RawAlerts,
    #[serde(default)]
    pub progress: RawProgress,
    #[serde(default)]
    pub goal: RawGoal,
    #[serde(default)]
    pub notify: RawNotify,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub schedule: RawSchedule,
    #[serde(default)]
    pub hooks: RawHooks,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub command: Option<Vec<String>>,
    pub prompt_arg_template: Option<Vec<String>>,
    pub prompt_delivery: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    pub terminal_marker: Option<String>,
    pub preset: Option<String>,
    pub stop_signal: Option<String>,
    pub state_paths: Option<Vec<String>>,
    pub account: Option<String>,
    pub exec_prefix: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRuntime {
    pub work_dir: Option<String>,
    pub log_dir: Option<String>,
    pub user: Option<String>,
    pub restart_delay_s: Option<i64>,
    pub schedule: Option<String>,
    pub round_timeout_s: Option<i64>,
    pub checkin_timeout_s: Option<i64>,
    pub checkin_attempts: Option<i64>,
    pub watchdog_s: Option<i64>,
    pub max_rounds: Option<i64>,
    pub stop_file: Option<String>,
    pub round_log_retention: Option<i64>,
    pub transient_error_action: Option<String>,
    pub crash_loop_threshold: Option<i64>,
    pub short_crash_s: Option<i64>,
    pub auth_fail_halt_after: Option<i64>,
    pub max_grace_after_result_s: Option<i64>,
    #[serde(default)]
    pub grace_kill_ignore_patterns: Vec<String>,
    pub narrative_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrompt {
    pub files: Option<Vec<String>>,
    pub concat_separator: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawPhases {
    pub list: Option<Vec<String>>,
    #[serde(flatten)]
    pub phases: BTreeMap<String, RawPhase>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhase {
    #[serde(default)]
    pub prompt: RawPrompt,
    pub round_timeout_s: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVcs {
    pub dirty_action: Option<String>,
    #[serde(default)]
    pub protect: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSchedule {
    #[serde(default)]
    pub run_windows: Vec<String>,
    #[serde(default)]
    pub pause_windows: Vec<String>,
    pub timezone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBudget {
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
    pub daily_tokens: Option<i64>,
    pub loop_usd: Option<f64>,
    pub rounds_per_hour: Option<i64>,
    pub timezone: Option<String>,
    pub overshoot_pct: Option<f64>,
    pub spike_factor: Option<f64>,
    pub spike_action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrice {
    #[serde(rename = "input_per_mtok")]
    pub input: Option<f64>,
    #[serde(rename = "output_per_mtok")]
    pub output: Option<f64>,
    #[serde(rename = "cache_read_per_mtok")]
    pub cache_read: Option<f64>,
    #[serde(rename = "cache_write_per_mtok")]
    pub cache_write: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerts {
    pub window_rounds: Option<i64>,
    pub network_failure_percent: Option<i64>,
    pub timeout_percent: Option<i64>,
    pub repeated_stashes: Option<i64>,
    pub repeated_error_rounds: Option<i64>,
    pub disk_warn_percent: Option<i64>,
    pub disk_halt_percent: Option<i64>,
    pub stale_factor: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProgress {
    pub stall_rounds: Option<i64>,
    pub repeat_rounds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGoal {
    #[serde(default)]
    pub checks: Vec<RawGoalCheck>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGoalCheck {
    pub name: Option<String>,
    pub cmd: Option<Vec<String>>,
    pub timeout_s: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHooks {
    #[serde(default)]
    pub pre_round: Vec<Vec<String>>,
    #[serde(default)]
    pub post_round: Vec<Vec<String>>,
    pub timeout_s: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotify {
    pub command: Option<Vec<String>>,
    pub webhook: Option<String>,
    pub webhook_credential: Option<String>,
    pub format: Option<String>,
    pub on: Option<Vec<String>>,
    pub dedup_window_s: Option<i64>,
    pub timeout_s: Option<i64>,
}

/// A limit written as a number or as a word (`"512M"`, `"infinity"`, `"150%"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "a number or a quoted word such as \"512M\" or \"infinity\""
)]
pub(crate) enum RawAmount {
    Number(i64),
    Word(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub memory_max: Option<RawAmount>,
    pub memory_high: Option<RawAmount>,
    pub cpu_quota: Option<String>,
    pub tasks_max: Option<RawAmount>,
    pub io_weight: Option<i64>,
    pub nice: Option<i64>,
    pub oom_rounds: Option<i64>,
}
