//! The project configuration: one TOML file per project, validated into a [`Project`].
//!
//! Loading ([`load`]) goes in three passes so that every problem is reported with its file, line
//! and column ([`spans`]):
//! 1. the TOML is parsed with spans and every key is checked against [`schema`] (unknown keys and
//!    unknown tables are errors, with the closest valid key suggested);
//! 2. serde turns it into the [`raw`] structs (type errors);
//! 3. [`validate`] checks values per table, fills in defaults (from a [`presets`] entry when the
//!    file names one) and resolves paths into the [`model`]'s [`Project`].
//!
//! What a valid file cannot promise (the work tree exists, the agent program is installed…) is
//! the startup [`battery`]'s, which every round runs. The commands of this folder: [`check`]
//! (shows both) and [`init`] (writes a new project file).

pub(crate) mod account;
pub(crate) mod account_file;
pub(crate) mod battery;
mod by_name;
pub(crate) mod check;
mod controls;
mod finding;
#[cfg(test)]
mod fuzz;
mod home_state;
pub(crate) mod hooks;
pub(crate) mod import;
pub(crate) mod init;
pub(crate) mod limits;
mod load;
mod model;
pub(crate) mod notify;
pub(crate) mod notify_load;
pub(crate) mod presets;
mod problems;
mod progress;
mod raw;
mod read;
mod schedule;
mod schema;
mod spans;
pub(crate) mod spend;
mod validate;
pub(crate) mod windows;

pub(crate) use by_name::{load_for_reading, load_for_reading_said};
pub(crate) use controls::escaped;
pub(crate) use load::{
    ProjectRef, discover, discover_in, load, load_project, load_project_with_text, load_with_text,
    project_names, require_valid_name, verify_schedule,
};
pub(crate) use model::{
    DirtyAction, OutputFormat, Project, PromptDelivery, PromptSpec, StopSignal, TransientAction,
};
pub(crate) use progress::{GoalCheck, PROGRESS_LIMIT_S, Progress, after_agent_s};
// Other folders' tests build their projects from TOML text.
#[cfg(test)]
pub(crate) use load::load_str;
// The man-page test lists every key the file may hold from these.
#[cfg(test)]
pub(crate) use raw::{
    RawAgent, RawAlerts, RawBudget, RawConfig, RawGoal, RawGoalCheck, RawHooks, RawLimits,
    RawNotify, RawPhase, RawPrice, RawProgress, RawPrompt, RawRuntime, RawSchedule, RawVcs,
};
