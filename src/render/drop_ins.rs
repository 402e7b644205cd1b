//! What the drop-in templates see: every value of a project's drop-ins, computed from the
//! validated project and escaped by systemd's rules before it reaches a template.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::escape::sd_word;
use super::features::Features;
use crate::config::Project;
use crate::config::account::{self, RunsAs};
use crate::config::limits::Limits;
use crate::paths::Scope;

/// What rendering needs besides the project.
#[derive(Debug, Clone)]
pub(crate) struct RenderOptions {
    /// The binary ExecStart= runs.
    pub exec: PathBuf,
    /// What the target systemd understands.
    pub features: Features,
    /// Set `SourcePath=` (generator mode).
    pub source_path: bool,
}

/// Everything the drop-in templates may use; strict mode makes any other name an error.
#[derive(Serialize)]
pub(crate) struct UnitContext<'a> {
    header: String,
    name: &'a str,
    scope: Scope,
    source_path: Option<String>,
    #[serde(flatten)]
    commands: Commands,
    work_dir: &'a Path,
    user: Option<String>,
    dynamic_user: bool,
    start_timeout_s: u64,
    runtime_max_s: u64,
    watchdog_s: Option<u64>,
    timer_delay_ms: u64,
    start_limit_interval_s: u64,
    start_limit_burst: u64,
    #[serde(flatten)]
    writable: WritablePaths,
    #[serde(flatten)]
    home_state: HomeState,
    credentials: Vec<Credential>,
    stop_paths: Vec<PathBuf>,
    schedule: Option<&'a str>,
    features: Features,
    /// The notifier the halt unit starts when it is done (`OnSuccess=`), for a project with
    /// notifications in the system manager.
    notify_unit: Option<String>,
    limits: &'a Limits,
}

/// The command lines of the units, each word escaped.
#[derive(Serialize)]
struct Commands {
    exec_start: String,
    after_round_exec: String,
    loop_exec_start: String,
    halt_exec_start: String,
}

/// What the sandbox lets write: the round its work dir, state and logs; the helpers only state
/// and logs.
#[derive(Serialize, Default)]
struct WritablePaths {
    read_write_paths: Vec<PathBuf>,
    helper_read_write_paths: Vec<PathBuf>,
}

/// The agent CLI's own state below the home of the user rounds run as (system manager only: a
/// user manager's units leave the home writable).
#[derive(Serialize, Default)]
struct HomeState {
    /// `ReadWritePaths=` words, `-` first: a directory not created yet is skipped rather than
    /// failing the round (`check` says it is missing).
    state_paths: Vec<String>,
    /// `VAR=/home/…/dir` for the CLI's config-directory variable, if it has one.
    state_env: Option<String>,
}

#[derive(Serialize)]
struct Credential {
    name: String,
    path: PathBuf,
}

impl<'a> UnitContext<'a> {
    /// The context of `project`'s drop-ins, under `header`.
    pub(crate) fn new(project: &'a Project, header: String, options: &RenderOptions) -> Self {
        let rt = &project.runtime;
        let (user, dynamic_user) = match account::runs_as(project) {
            RunsAs::Manager => (None, false),
            RunsAs::User(name) => (Some(name), false),
            RunsAs::Dynamic => (None, true),
        };
        let (start_limit_interval_s, start_limit_burst) =
            start_limit(rt.restart_delay_s, rt.timer_delay_ms());
        Self {
            header,
            name: &project.name,
            scope: project.scope,
            source_path: options
                .source_path
                .then(|| project.source.display().to_string()),
            commands: Commands::new(project, &options.exec),
            work_dir: &rt.work_dir,
            user,
            dynamic_user,
            start_timeout_s: rt.checkin_timeout_s + 30,
            runtime_max_s: longest_round_s(project)
                + crate::config::after_agent_s(&project.progress, &project.goal)
                + project.hooks.total_timeout_s()
                + 60,
            watchdog_s: rt.watchdog_s,
            timer_delay_ms: rt.timer_delay_ms(),
            start_limit_interval_s,
            start_limit_burst,
            writable: WritablePaths::of(project),
            home_state: HomeState::of(project),
            credentials: project
                .agent
                .credentials
                .iter()
                .map(|(name, path)| Credential {
                    name: name.clone(),
                    path: path.clone(),
                })
                .collect(),
            stop_paths: stop_paths(project),
            schedule: rt.schedule.as_deref(),
            features: options.features,
            notify_unit: notify_unit(project),
            limits: &project.limits,
        }
    }
}

/// The notifier unit of `project`, when it has notifications and runs in the system manager (the
/// notifier's user and store are the system's). A broken shared file renders none: `check` says
/// why, and the end of every round still starts nothing it cannot run.
fn notify_unit(project: &Project) -> Option<String> {
    let has_notify = project.scope == Scope::System
        && crate::config::notify_load::settings(project).is_ok_and(|s| s.is_some());
    has_notify.then(|| crate::units::notify_service(&project.name))
}

impl Commands {
    fn new(project: &Project, exec: &Path) -> Self {
        let round = sd_word(&crate::paths::round_runner(exec).to_string_lossy());
        let exec = sd_word(&exec.to_string_lossy());
        let user_flag = if project.scope == Scope::User {
            "--user "
        } else {
            ""
        };
        let config = sd_word(&project.source.to_string_lossy());
        Self {
            exec_start: format!("{round} {user_flag}--config {config}"),
            after_round_exec: format!(
                "{exec} {user_flag}halt --step after-round --config {config}"
            ),
            loop_exec_start: format!("{exec} {user_flag}halt --step loop-start --config {config}"),
            halt_exec_start: format!("{exec} {user_flag}halt --config {config}"),
        }
    }
}

impl WritablePaths {
    /// Only the system manager's sandbox needs them: a user's units can write what the user can.
    fn of(project: &Project) -> Self {
        let rt = &project.runtime;
        let mut paths = Self::default();
        if project.scope == Scope::System {
            paths.read_write_paths.push(rt.work_dir.clone());
            if rt.log_dir_explicit {
                paths.helper_read_write_paths.push(rt.log_dir.clone());
                if !rt.log_dir.starts_with(&rt.work_dir) {
                    paths.read_write_paths.push(rt.log_dir.clone());
                }
            }
        }
        paths
    }
}

impl HomeState {
    /// Nothing without state paths, in the user manager, or for an account without a home (a
    /// dynamic user, or one that does not exist yet: `check` says so).
    fn of(project: &Project) -> Self {
        let agent = &project.agent;
        if project.scope != Scope::System || agent.state_paths.is_empty() {
            return Self::default();
        }
        let Some(account) = account::account(project) else {
            return Self::default();
        };
        let home = &account.home;
        Self {
            state_paths: agent
                .state_paths
                .iter()
                .map(|p| format!("-{}", home.join(p).display()))
                .collect(),
            state_env: agent
                .config_dir_env
                .as_ref()
                .map(|e| format!("{}={}", e.var, home.join(&e.dir).display())),
        }
    }
}

/// The longest a round may take, over the project and every phase.
fn longest_round_s(project: &Project) -> u64 {
    let rt = &project.runtime;
    project
        .phases
        .iter()
        .map(|p| p.round_timeout_s)
        .chain([rt.round_timeout_s])
        .max()
        .unwrap_or(rt.round_timeout_s)
}

/// The files whose existence ends the loop, in the order the halt step reports them: the
/// operator's stop file, the agent's `.agent-done`, and the halt request a round writes.
pub(crate) fn stop_paths(project: &Project) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(stop) = &project.runtime.stop_file {
        paths.push(stop.clone());
    }
    paths.push(project.agent_done_file());
    paths.push(halt_request_file(project));
    paths
}

/// Where a round writes its halt request. The units watch the state directory systemd creates
/// for the round service (`StateDirectory=`), which is this path.
pub(crate) fn halt_request_file(project: &Project) -> PathBuf {
    project.scope.state_dir(&project.name).join("halt-request")
}

/// `StartLimitIntervalSec=`/`StartLimitBurst=` for a loop whose timer starts at most one round per
/// `timer_delay_ms` (a round that exits at once, a gate closed, comes back that fast): at least a
/// minute, and twice the timer's pace plus room for manual starts, so that only a runaway
/// (something starting the service in a tight loop) ever reaches it.
fn start_limit(restart_delay_s: u64, timer_delay_ms: u64) -> (u64, u64) {
    let interval = (restart_delay_s.max(1) * 10).clamp(60, 3600);
    let pace_ms = timer_delay_ms.max(1);
    (interval, 2 * (interval * 1000).div_ceil(pace_ms) + 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_limit_stays_far_above_the_timer_pace() {
        assert_eq!(start_limit(1, 500), (60, 250));
        assert_eq!(start_limit(3, 2500), (60, 58));
        assert_eq!(start_limit(600, 599_500), (3600, 24));
        // The timer fires at most half the cool-down early: any pace from half of it to all.
        for delay in [1, 2, 3, 7, 60, 3600, 86_400] {
            for timer_ms in [delay * 500, delay * 1000] {
                let (interval, burst) = start_limit(delay, timer_ms);
                // Timer starts in one interval, at most: interval / the timer's delay + 1.
                assert!(
                    burst >= 2 * (interval * 1000 / timer_ms + 1),
                    "delay {delay}, timer {timer_ms} ms"
                );
                assert!(interval >= 60);
            }
        }
    }
}
