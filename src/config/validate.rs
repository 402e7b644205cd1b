//! Value checks, defaults and path resolution: raw structs in, a [`Project`] out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Serialize;

use super::{Located, RawConfig, RawPrompt, SCHEMA_VERSION};
use crate::config::presets::{self, OutputFormat};
use crate::error::ConfigProblem;
use crate::paths::{Scope, home_dir};

/// The project-name rule of DESIGN §2, as shown in error messages.
pub(crate) const PROJECT_NAME_RULE: &str =
    "a letter or digit, then up to 63 letters, digits, `_`, `.` or `-`";

/// Whether `name` is a valid project name (and therefore a valid unit instance name as it is).
pub(crate) fn valid_project_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A validated project: everything a command needs, with defaults applied and paths absolute.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Project {
    /// The project (and unit instance) name.
    pub name: String,
    /// The TOML file it was read from.
    pub source: PathBuf,
    /// The manager the project runs under.
    pub scope: Scope,
    /// How to run the agent.
    pub agent: Agent,
    /// Where and how long rounds run.
    pub runtime: Runtime,
    /// The default prompt.
    pub prompt: PromptSpec,
    /// Phases in rotation order; empty when the project has none.
    pub phases: Vec<Phase>,
    /// What to do with a dirty work tree after a round.
    pub vcs: Vcs,
}

/// `[agent]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Agent {
    /// argv of the agent, before the prompt arguments.
    pub command: Vec<String>,
    /// Arguments appended after `command`; `{prompt}` / `{prompt_file}` are substituted.
    pub prompt_arg_template: Vec<String>,
    /// How the prompt reaches the agent.
    pub prompt_delivery: PromptDelivery,
    /// Extra environment for the agent.
    pub env: BTreeMap<String, String>,
    /// systemd credentials: name → file the credential is loaded from.
    pub credentials: BTreeMap<String, PathBuf>,
    /// Output substring that marks the end of the agent's work; `None` disables the grace timer.
    pub terminal_marker: Option<String>,
    /// The preset the project was created from, if any.
    pub preset: Option<String>,
    /// The signal that asks the agent to stop cooperatively.
    pub stop_signal: StopSignal,
    /// Which output parser classifies the agent's stream.
    pub output_format: OutputFormat,
}

/// How the assembled prompt reaches the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PromptDelivery {
    /// Written to the agent's stdin, which is then closed.
    Stdin,
    /// Substituted for `{prompt}` in the arguments (visible in `ps`).
    Argv,
    /// Written to a file whose path is substituted for `{prompt_file}`.
    File,
}

/// The agent's cooperative stop signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum StopSignal {
    /// SIGINT (claude finishes its turn on it).
    #[serde(rename = "SIGINT")]
    Int,
    /// SIGTERM.
    #[serde(rename = "SIGTERM")]
    Term,
}

/// `[runtime]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Runtime {
    /// The agent's working directory (a git repository).
    pub work_dir: PathBuf,
    /// Round logs, the events mirror and `.agent-done`.
    pub log_dir: PathBuf,
    /// Whether `log_dir` was set explicitly (else systemd's LogsDirectory= is used).
    pub log_dir_explicit: bool,
    /// The unprivileged user rounds run as (`None`: the manager's default).
    pub user: Option<String>,
    /// Seconds between the end of a round and the start of the next.
    pub restart_delay_s: u64,
    /// An optional OnCalendar= expression adding scheduled rounds.
    pub schedule: Option<String>,
    /// Hard limit of one round, in seconds.
    pub round_timeout_s: u64,
    /// Seconds the agent has to show life (first output or `agent-runner checkin`).
    pub checkin_timeout_s: u64,
    /// Consecutive check-in failures before the project is marked offline.
    pub checkin_attempts: u32,
    /// Watchdog: the agent must produce output at least this often (`None`: off).
    pub watchdog_s: Option<u64>,
    /// Stop the loop after this many rounds.
    pub max_rounds: Option<u64>,
    /// Operator pause file.
    pub stop_file: Option<PathBuf>,
    /// How many round logs to keep.
    pub round_log_retention: u32,
    /// What a transient error (rate limit, 5xx) does to the loop.
    pub transient_error_action: TransientAction,
    /// Consecutive short crashes that halt the loop.
    pub crash_loop_threshold: u32,
    /// A crash shorter than this many seconds counts as short.
    pub short_crash_s: u64,
    /// Seconds to wait after the terminal marker before killing an agent that lingers (`None`: off).
    pub max_grace_after_result_s: Option<u64>,
    /// Processes matching these never keep a round alive after the terminal marker.
    #[serde(serialize_with = "serialize_regexes")]
    pub grace_kill_ignore_patterns: Vec<Regex>,
    /// A file the agent keeps a narrative in, shown by `peek`.
    pub narrative_file: Option<PathBuf>,
}

/// `transient_error_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TransientAction {
    /// Wait until the reset time (or the class default), then resume.
    BackOff,
    /// Halt the loop.
    Stop,
    /// Carry on as if nothing happened.
    Ignore,
}

/// `[prompt]` or a phase's prompt.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PromptSpec {
    /// Files concatenated into the prompt, in order.
    pub files: Vec<PathBuf>,
    /// Put between two files.
    pub concat_separator: String,
}

/// One `[phases.NAME]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Phase {
    /// The phase name.
    pub name: String,
    /// The prompt for rounds of this phase.
    pub prompt: PromptSpec,
    /// Round timeout for this phase.
    pub round_timeout_s: u64,
}

/// `[vcs]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Vcs {
    /// What to do with a dirty tree after a round.
    pub dirty_action: DirtyAction,
    /// Paths never stashed nor committed (absolute).
    pub protect: Vec<PathBuf>,
}

/// `dirty_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DirtyAction {
    /// Leave the tree as it is.
    Ignore,
    /// `git stash push` what the agent left (the SHA is recorded).
    Stash,
    /// Commit what the agent left.
    Commit,
}

fn serialize_regexes<S: serde::Serializer>(v: &[Regex], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(Regex::as_str))
}

impl Project {
    /// The phase for round `round` (1-based), by rotation.
    pub(crate) fn phase_for_round(&self, round: u64) -> Option<&Phase> {
        if self.phases.is_empty() {
            return None;
        }
        let len = self.phases.len() as u64;
        let index = usize::try_from(round.saturating_sub(1) % len).unwrap_or(0);
        self.phases.get(index)
    }

    /// The path of the `.agent-done` sentinel.
    pub(crate) fn agent_done_file(&self) -> PathBuf {
        self.runtime.log_dir.join(".agent-done")
    }
}

const DEFAULT_ROUND_TIMEOUT_S: i64 = 1800;

struct Checker<'a, 'b> {
    doc: &'a Located<'b>,
    problems: Vec<ConfigProblem>,
}

impl Checker<'_, '_> {
    fn fail(&mut self, path: &[&str], message: impl Into<String>) {
        self.problems.push(self.doc.problem(path, message));
    }

    fn fail_hint(&mut self, path: &[&str], message: impl Into<String>, hint: impl Into<String>) {
        self.problems
            .push(self.doc.problem(path, message).hint(hint));
    }

    /// A positive number of seconds (or a positive count) with a default.
    fn positive(&mut self, path: &[&str], value: Option<i64>, default: i64) -> u64 {
        self.optional_positive(path, value)
            .unwrap_or(u64::try_from(default).unwrap_or(1))
    }

    fn optional_positive(&mut self, path: &[&str], value: Option<i64>) -> Option<u64> {
        let v = value?;
        if v <= 0 {
            let what = if path.last().is_some_and(|k| k.ends_with("_s")) {
                "duration"
            } else {
                "count"
            };
            self.fail(path, format!("must be a positive {what}, got {v}"));
            return None;
        }
        if v > 10 * 365 * 24 * 3600 {
            self.fail(path, format!("{v} is unreasonably large"));
            return None;
        }
        u64::try_from(v).ok()
    }

    fn choice<T: Copy>(
        &mut self,
        path: &[&str],
        value: Option<&str>,
        options: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(v) = value else { return default };
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == v) {
            return *t;
        }
        let names: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        self.fail(path, format!("\"{v}\" is not one of {}", names.join(", ")));
        default
    }
}

/// Expands `~` and `{project}`, then makes the path absolute against `base`.
fn resolve(raw: &str, project: &str, base: &Path) -> PathBuf {
    let expanded = raw.replace("{project}", project);
    let path = if expanded == "~" {
        home_dir()
    } else if let Some(rest) = expanded.strip_prefix("~/") {
        home_dir().join(rest)
    } else {
        PathBuf::from(expanded)
    };
    let joined = if path.is_absolute() {
        path
    } else {
        base.join(path)
    };
    normalize(&joined)
}

/// Removes `.` and resolves `..` lexically (no symlink resolution: paths may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_credential_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

fn valid_user_name(name: &str) -> bool {
    // The portable subset systemd's User= accepts (a name, or a numeric UID).
    let mut chars = name.chars();
    !name.is_empty()
        && name.len() <= 31
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Turns the raw file into a [`Project`], collecting every problem.
pub(super) fn validate(
    raw: &RawConfig,
    doc: &Located<'_>,
    scope: Scope,
) -> Result<Project, Vec<ConfigProblem>> {
    let mut c = Checker {
        doc,
        problems: Vec::new(),
    };

    match raw.schema_version {
        Some(SCHEMA_VERSION) => {}
        None => c.fail_hint(
            &["schema_version"],
            "missing `schema_version`",
            format!("add `schema_version = {SCHEMA_VERSION}` at the top of the file"),
        ),
        Some(v) => c.fail(
            &["schema_version"],
            format!("schema_version {v} is not supported; this agent-runner reads version {SCHEMA_VERSION}"),
        ),
    }

    // The name: `name =`, else the file stem.
    let stem = doc
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = raw.name.clone().unwrap_or(stem);
    if !valid_project_name(&name) {
        let path: &[&str] = if raw.name.is_some() { &["name"] } else { &[] };
        let mut problem = doc.problem(
            path,
            format!("invalid project name {name:?}: a project name is {PROJECT_NAME_RULE}"),
        );
        if raw.name.is_none() {
            problem.key = None;
            problem.hint = Some("rename the file or set `name = \"...\"` in it".into());
        }
        c.problems.push(problem);
    }

    let toml_dir = doc
        .file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let toml_dir = if toml_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        toml_dir
    };
    let toml_dir = std::path::absolute(&toml_dir).unwrap_or(toml_dir);

    // Paths: work_dir first (others resolve against it).
    let work_dir = match raw.runtime.work_dir.as_deref() {
        None => {
            c.fail_hint(
                &["runtime", "work_dir"],
                "missing `work_dir`",
                "set [runtime] work_dir to the agent's git repository",
            );
            toml_dir.clone()
        }
        Some(w) if w.trim().is_empty() || has_control_chars(w) => {
            c.fail(
                &["runtime", "work_dir"],
                "must be a path without control characters",
            );
            toml_dir.clone()
        }
        Some(w) => resolve(w, &name, &toml_dir),
    };
    let path_key =
        |c: &mut Checker<'_, '_>, key: &[&str], value: Option<&str>| -> Option<PathBuf> {
            let v = value?;
            if v.trim().is_empty() || has_control_chars(v) {
                c.fail(key, "must be a non-empty path without control characters");
                return None;
            }
            Some(resolve(v, &name, &work_dir))
        };

    let log_dir_raw = path_key(
        &mut c,
        &["runtime", "log_dir"],
        raw.runtime.log_dir.as_deref(),
    );
    let stop_file = path_key(
        &mut c,
        &["runtime", "stop_file"],
        raw.runtime.stop_file.as_deref(),
    );
    let narrative_file = path_key(
        &mut c,
        &["runtime", "narrative_file"],
        raw.runtime.narrative_file.as_deref(),
    );

    // [agent], with preset defaults.
    let preset = raw.agent.preset.as_deref().and_then(|p| {
        let found = presets::find(p);
        if found.is_none() {
            c.fail_hint(
                &["agent", "preset"],
                format!("unknown preset \"{p}\""),
                format!("known presets: {}", presets::names().join(", ")),
            );
        }
        found
    });
    let command = raw
        .agent
        .command
        .clone()
        .or_else(|| preset.map(|p| p.command.iter().map(ToString::to_string).collect()));
    let command = match command {
        None => {
            c.fail_hint(
                &["agent", "command"],
                "missing `command`",
                "set [agent] command = [\"your-agent\", \"--flag\"], or a preset",
            );
            Vec::new()
        }
        Some(cmd) if cmd.is_empty() || cmd[0].trim().is_empty() => {
            c.fail(
                &["agent", "command"],
                "must name a program: the list is empty or its first element is blank",
            );
            Vec::new()
        }
        Some(cmd) => {
            if cmd.iter().any(|a| a.contains('\0')) {
                c.fail(
                    &["agent", "command"],
                    "arguments must not contain NUL characters",
                );
            }
            cmd
        }
    };
    let delivery = c.choice(
        &["agent", "prompt_delivery"],
        raw.agent.prompt_delivery.as_deref(),
        &[
            ("stdin", PromptDelivery::Stdin),
            ("argv", PromptDelivery::Argv),
            ("file", PromptDelivery::File),
        ],
        preset.map_or(PromptDelivery::Stdin, |p| p.prompt_delivery),
    );
    let template = raw
        .agent
        .prompt_arg_template
        .clone()
        .or_else(|| {
            preset.map(|p| {
                p.prompt_arg_template
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            })
        })
        .unwrap_or_default();
    let has = |token: &str| template.iter().any(|a| a.contains(token));
    match delivery {
        PromptDelivery::Argv if !has("{prompt}") => c.fail_hint(
            &["agent", "prompt_arg_template"],
            "prompt_delivery = \"argv\" needs `{prompt}` in prompt_arg_template",
            "e.g. prompt_arg_template = [\"-p\", \"{prompt}\"], or use prompt_delivery = \"stdin\"",
        ),
        PromptDelivery::File if !has("{prompt_file}") => c.fail_hint(
            &["agent", "prompt_arg_template"],
            "prompt_delivery = \"file\" needs `{prompt_file}` in prompt_arg_template",
            "e.g. prompt_arg_template = [\"--message-file\", \"{prompt_file}\"]",
        ),
        PromptDelivery::Stdin | PromptDelivery::File if has("{prompt}") => c.fail_hint(
            &["agent", "prompt_arg_template"],
            "`{prompt}` in prompt_arg_template only works with prompt_delivery = \"argv\"",
            "remove it (the prompt goes to stdin), or set prompt_delivery = \"argv\"",
        ),
        _ => {}
    }

    let mut env: BTreeMap<String, String> = preset
        .map(|p| {
            p.env
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        })
        .unwrap_or_default();
    for (key, value) in &raw.agent.env {
        if !valid_env_name(key) {
            c.fail(
                &["agent", "env", key],
                format!("`{key}` is not a valid environment variable name"),
            );
        } else if key.starts_with("AGENT_RUNNER_") {
            c.fail(
                &["agent", "env", key],
                "names starting with AGENT_RUNNER_ are set by agent-runner itself",
            );
        } else if value.contains('\0') {
            c.fail(
                &["agent", "env", key],
                "the value must not contain NUL characters",
            );
        }
        env.insert(key.clone(), value.clone());
    }

    let mut credentials = BTreeMap::new();
    for (cred, file) in &raw.agent.credentials {
        if !valid_credential_name(cred) {
            c.fail(
                &["agent", "credentials", cred],
                format!("`{cred}` is not a valid credential name (letters, digits, `_-.@`)"),
            );
            continue;
        }
        if file.trim().is_empty() || has_control_chars(file) {
            c.fail(
                &["agent", "credentials", cred],
                "must be the path of the file holding the secret",
            );
            continue;
        }
        credentials.insert(cred.clone(), resolve(file, &name, &toml_dir));
    }

    let stop_signal = c.choice(
        &["agent", "stop_signal"],
        raw.agent.stop_signal.as_deref(),
        &[
            ("SIGINT", StopSignal::Int),
            ("SIGTERM", StopSignal::Term),
            ("INT", StopSignal::Int),
            ("TERM", StopSignal::Term),
        ],
        preset.map_or(StopSignal::Term, |p| p.stop_signal),
    );
    let terminal_marker = match raw.agent.terminal_marker.clone() {
        Some(m) if m.is_empty() => None,
        Some(m) => Some(m),
        None => preset
            .and_then(|p| p.terminal_marker)
            .map(ToString::to_string),
    };
    let output_format =
        preset.map_or_else(|| OutputFormat::for_command(&command), |p| p.output_format);

    // [runtime]
    let r = &raw.runtime;
    let user = match r.user.as_deref() {
        None => None,
        Some(u) if valid_user_name(u) => Some(u.to_string()),
        Some(u) => {
            c.fail(
                &["runtime", "user"],
                format!("{u:?} is not a valid user name"),
            );
            None
        }
    };
    let schedule = match r.schedule.as_deref() {
        None => None,
        Some(s) if s.trim().is_empty() || has_control_chars(s) => {
            c.fail(
                &["runtime", "schedule"],
                "must be a systemd calendar expression such as \"*-*-* 02:00\"",
            );
            None
        }
        Some(s) => match crate::config::schedule::coarse(s) {
            Ok(()) => Some(s.to_string()),
            Err(msg) => {
                c.fail_hint(
                    &["runtime", "schedule"],
                    msg,
                    "see systemd.time(7); `systemd-analyze calendar EXPR` shows how it is read",
                );
                None
            }
        },
    };
    let round_timeout_s = c.positive(
        &["runtime", "round_timeout_s"],
        r.round_timeout_s,
        DEFAULT_ROUND_TIMEOUT_S,
    );
    let restart_delay_s = c.positive(&["runtime", "restart_delay_s"], r.restart_delay_s, 3);
    let checkin_timeout_s = c.positive(&["runtime", "checkin_timeout_s"], r.checkin_timeout_s, 30);
    let checkin_attempts = c.positive(&["runtime", "checkin_attempts"], r.checkin_attempts, 3);
    let watchdog_s = c.optional_positive(&["runtime", "watchdog_s"], r.watchdog_s);
    let max_rounds = c.optional_positive(&["runtime", "max_rounds"], r.max_rounds);
    let round_log_retention = c.positive(
        &["runtime", "round_log_retention"],
        r.round_log_retention,
        100,
    );
    let crash_loop_threshold = c.positive(
        &["runtime", "crash_loop_threshold"],
        r.crash_loop_threshold,
        5,
    );
    let short_crash_s = c.positive(&["runtime", "short_crash_s"], r.short_crash_s, 60);
    let max_grace_after_result_s = c.optional_positive(
        &["runtime", "max_grace_after_result_s"],
        r.max_grace_after_result_s,
    );
    let transient_error_action = c.choice(
        &["runtime", "transient_error_action"],
        r.transient_error_action.as_deref(),
        &[
            ("back_off", TransientAction::BackOff),
            ("stop", TransientAction::Stop),
            ("ignore", TransientAction::Ignore),
        ],
        TransientAction::BackOff,
    );
    let mut patterns = Vec::new();
    let mut all_patterns: Vec<String> = preset
        .map(|p| {
            p.grace_kill_ignore_patterns
                .iter()
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default();
    all_patterns.extend(r.grace_kill_ignore_patterns.iter().cloned());
    for (i, p) in all_patterns.iter().enumerate() {
        match Regex::new(p) {
            Ok(re) => patterns.push(re),
            Err(e) => {
                let first = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                c.fail(
                    &["runtime", "grace_kill_ignore_patterns"],
                    format!("pattern {} ({p:?}) is not a valid regex: {first}", i + 1),
                );
            }
        }
    }

    // [prompt] and [phases]
    let prompt = prompt_spec(
        &mut c,
        &["prompt"],
        &raw.prompt,
        None,
        &name,
        &work_dir,
        true,
    );
    let mut phases = Vec::new();
    if let Some(raw_phases) = &raw.phases {
        let list = raw_phases.list.clone().unwrap_or_default();
        if list.is_empty() {
            c.fail_hint(
                &["phases", "list"],
                "[phases] needs a non-empty `list` of phase names",
                "e.g. list = [\"build\", \"review\"]",
            );
        }
        for (i, phase_name) in list.iter().enumerate() {
            if !valid_project_name(phase_name) {
                c.fail(
                    &["phases", "list"],
                    format!("phase name {phase_name:?} must be {PROJECT_NAME_RULE}"),
                );
                continue;
            }
            if list[..i].contains(phase_name) {
                c.fail(
                    &["phases", "list"],
                    format!("phase {phase_name:?} is listed twice"),
                );
                continue;
            }
            let raw_phase = raw_phases.phases.get(phase_name);
            let path = ["phases", phase_name.as_str()];
            let timeout = raw_phase.map_or(round_timeout_s, |p| {
                c.positive(
                    &[path[0], path[1], "round_timeout_s"],
                    p.round_timeout_s,
                    i64::try_from(round_timeout_s).unwrap_or(i64::MAX),
                )
            });
            let phase_prompt = match raw_phase {
                Some(p) => prompt_spec(
                    &mut c,
                    &[path[0], path[1], "prompt"],
                    &p.prompt,
                    Some(&prompt),
                    &name,
                    &work_dir,
                    false,
                ),
                None => prompt.clone(),
            };
            phases.push(Phase {
                name: phase_name.clone(),
                prompt: phase_prompt,
                round_timeout_s: timeout,
            });
        }
        for phase_name in raw_phases.phases.keys() {
            if !list.contains(phase_name) {
                c.fail_hint(
                    &["phases", phase_name],
                    format!("[phases.{phase_name}] is not in phases.list"),
                    "add it to `list` or remove the table",
                );
            }
        }
    }

    // An explicit check-in timeout must be able to fire before the shortest round ends. (The
    // default is left alone: with a round shorter than it, the round timeout simply comes first.)
    let (shortest, shortest_key) = phases
        .iter()
        .map(|p| {
            (
                p.round_timeout_s,
                format!("phases.{}.round_timeout_s", p.name),
            )
        })
        .chain([(round_timeout_s, "round_timeout_s".to_string())])
        .min_by_key(|(t, _)| *t)
        .unwrap_or((round_timeout_s, "round_timeout_s".to_string()));
    if r.checkin_timeout_s.is_some() && checkin_timeout_s >= shortest {
        c.fail(
            &["runtime", "checkin_timeout_s"],
            format!("must be shorter than {shortest_key} ({shortest})"),
        );
    }

    // [vcs]
    let dirty_action = c.choice(
        &["vcs", "dirty_action"],
        raw.vcs.dirty_action.as_deref(),
        &[
            ("ignore", DirtyAction::Ignore),
            ("stash", DirtyAction::Stash),
            ("commit", DirtyAction::Commit),
        ],
        DirtyAction::Ignore,
    );
    let mut protect = Vec::new();
    for p in &raw.vcs.protect {
        if let Some(path) = path_key(&mut c, &["vcs", "protect"], Some(p)) {
            protect.push(path);
        }
    }

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    let log_dir = log_dir_raw
        .clone()
        .unwrap_or_else(|| scope.default_log_dir(&name));
    Ok(Project {
        name,
        source: std::path::absolute(doc.file).unwrap_or_else(|_| doc.file.to_path_buf()),
        scope,
        agent: Agent {
            command,
            prompt_arg_template: template,
            prompt_delivery: delivery,
            env,
            credentials,
            terminal_marker,
            preset: preset.map(|p| p.name.to_string()),
            stop_signal,
            output_format,
        },
        runtime: Runtime {
            work_dir,
            log_dir,
            log_dir_explicit: log_dir_raw.is_some(),
            user,
            restart_delay_s,
            schedule,
            round_timeout_s,
            checkin_timeout_s,
            checkin_attempts: u32::try_from(checkin_attempts).unwrap_or(u32::MAX),
            watchdog_s,
            max_rounds,
            stop_file,
            round_log_retention: u32::try_from(round_log_retention).unwrap_or(u32::MAX),
            transient_error_action,
            crash_loop_threshold: u32::try_from(crash_loop_threshold).unwrap_or(u32::MAX),
            short_crash_s,
            max_grace_after_result_s,
            grace_kill_ignore_patterns: patterns,
            narrative_file,
        },
        prompt,
        phases,
        vcs: Vcs {
            dirty_action,
            protect,
        },
    })
}

fn prompt_spec(
    c: &mut Checker<'_, '_>,
    path: &[&str],
    raw: &RawPrompt,
    fallback: Option<&PromptSpec>,
    project: &str,
    work_dir: &Path,
    required: bool,
) -> PromptSpec {
    let files_key: Vec<&str> = path.iter().copied().chain(["files"]).collect();
    let files = match (&raw.files, fallback) {
        (Some(files), _) if files.is_empty() => {
            c.fail(&files_key, "must list at least one prompt file");
            Vec::new()
        }
        (Some(files), _) => files
            .iter()
            .filter_map(|f| {
                if f.trim().is_empty() || has_control_chars(f) {
                    c.fail(
                        &files_key,
                        "prompt file paths must be non-empty and free of control characters",
                    );
                    None
                } else {
                    Some(resolve(f, project, work_dir))
                }
            })
            .collect(),
        (None, Some(fallback)) => fallback.files.clone(),
        (None, None) => {
            if required {
                c.fail_hint(
                    &files_key,
                    "missing prompt `files`",
                    "add [prompt] files = [\"prompts/main.md\"]",
                );
            }
            Vec::new()
        }
    };
    let concat_separator = raw
        .concat_separator
        .clone()
        .or_else(|| fallback.map(|f| f.concat_separator.clone()))
        .unwrap_or_else(|| "\n\n".to_string());
    PromptSpec {
        files,
        concat_separator,
    }
}
