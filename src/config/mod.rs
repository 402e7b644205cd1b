//! The project configuration: one TOML file per project, validated into a [`Project`].
//!
//! Loading goes in three passes so that every problem is reported with its file, line and column:
//! 1. the TOML is parsed with spans and every key is checked against [`schema`] (unknown keys and
//!    unknown tables are errors, with the closest valid key suggested);
//! 2. serde turns it into the raw structs below (type errors);
//! 3. [`validate`] checks values and resolves paths into a [`Project`].

pub(crate) mod check;
pub(crate) mod init;
pub(crate) mod presets;
pub(crate) mod schedule;
mod schema;
mod validate;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

pub(crate) use validate::{
    DirtyAction, PROJECT_NAME_RULE, Project, PromptDelivery, PromptSpec, StopSignal,
    TransientAction, valid_project_name,
};

use crate::error::{ConfigProblem, Error, Result};
use crate::paths::Scope;

/// The only configuration schema version this build understands.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// The raw file, as serde sees it. Field docs are the reference for each key; defaults live in
/// [`validate`].
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

/// A parsed file kept with its source text, so later problems can be positioned.
pub(crate) struct Located<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub root: &'a DeTable<'a>,
}

impl Located<'_> {
    /// A problem about the key at `path` (`["runtime", "round_timeout_s"]`), positioned at the key's
    /// value when it is present in the file, else at its table, else unpositioned.
    pub(crate) fn problem(&self, path: &[&str], message: impl Into<String>) -> ConfigProblem {
        let span = value_span(self.root, path);
        ConfigProblem {
            file: self.file.to_path_buf(),
            position: span.map(|s| line_col(self.text, s.start)),
            key: Some(path.join(".")),
            message: message.into(),
            hint: None,
        }
    }
}

/// Reads and validates the project file at `path` for the given manager scope.
pub(crate) fn load(path: &Path, scope: Scope) -> Result<Project> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let problem = match e.kind() {
            std::io::ErrorKind::NotFound => ConfigProblem::new(path, "no such configuration file")
                .hint(
                    "create it with `agent-runner init --preset NAME PROJECT`, or check the path",
                ),
            std::io::ErrorKind::InvalidData => {
                ConfigProblem::new(path, "the file is not valid UTF-8")
            }
            _ => ConfigProblem::new(path, format!("cannot read the file: {e}")),
        };
        Error::config(problem)
    })?;
    load_str(&text, path, scope)
}

/// Validates configuration `text` as if read from `path`.
pub(crate) fn load_str(text: &str, path: &Path, scope: Scope) -> Result<Project> {
    let root = DeTable::parse(text).map_err(|e| Error::config(toml_problem(path, text, &e)))?;
    let located = Located {
        file: path,
        text,
        root: root.get_ref(),
    };
    let unknown = schema::unknown_keys(&located);
    if !unknown.is_empty() {
        return Err(Error::Config(unknown));
    }
    let raw = RawConfig::deserialize(toml::de::Deserializer::from(root.clone()))
        .map_err(|e| Error::config(toml_problem(path, text, &e)))?;
    validate::validate(&raw, &located, scope).map_err(Error::Config)
}

/// Asks systemd whether the project's `schedule` parses (config loading only checks its
/// characters); the problem is positioned at the key like every other.
pub(crate) fn verify_schedule(project: &Project) -> Option<ConfigProblem> {
    let expr = project.runtime.schedule.as_deref()?;
    let message = crate::config::schedule::check(expr).err()?;
    let text = std::fs::read_to_string(&project.source).unwrap_or_default();
    let position = DeTable::parse(&text)
        .ok()
        .and_then(|root| value_span(root.get_ref(), &["runtime", "schedule"]))
        .map(|span| line_col(&text, span.start));
    Some(ConfigProblem {
        file: project.source.clone(),
        position,
        key: Some("runtime.schedule".into()),
        message,
        hint: Some(
            "see systemd.time(7); `systemd-analyze calendar EXPR` shows how it is read".into(),
        ),
    })
}

/// The project file for `name` in the scope's config directory.
pub(crate) fn path_for(name: &str, scope: Scope) -> PathBuf {
    scope.config_dir().join(format!("{name}.toml"))
}

/// Every `*.toml` in the scope's config directory, sorted by name.
pub(crate) fn discover(scope: Scope) -> Result<Vec<PathBuf>> {
    discover_in(&scope.config_dir())
}

/// Every `*.toml` file in `dir`, sorted by name; a missing directory holds no projects.
pub(crate) fn discover_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("cannot read directory", dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn toml_problem(file: &Path, text: &str, err: &toml::de::Error) -> ConfigProblem {
    let mut problem = ConfigProblem::new(file, humanize(err.message()));
    if let Some(span) = err.span() {
        problem.position = Some(line_col(text, span.start));
        // Type errors point at a value: name the key it belongs to.
        if let Ok(root) = DeTable::parse(text) {
            problem.key = key_at(root.get_ref(), span.start, &mut Vec::new());
        }
    }
    problem
}

/// serde's vocabulary in the operator's words.
fn humanize(message: &str) -> String {
    let mut m = message.trim().replace('\n', " ");
    for (from, to) in [
        ("expected i64", "expected an integer"),
        ("expected a sequence", "expected a list"),
        ("expected a string", "expected a string (in quotes)"),
        ("expected a map", "expected a table"),
    ] {
        m = m.replace(from, to);
    }
    m
}

/// The dotted path of the innermost key whose value contains byte `offset`.
fn key_at(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>) -> Option<String> {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        // A [header] table's own span covers only its header, so always look inside tables.
        if let DeValue::Table(inner) = value.get_ref()
            && let Some(found) = key_at(inner, offset, path)
        {
            return Some(found);
        }
        if value.span().contains(&offset) || key.span().contains(&offset) {
            return Some(path.join("."));
        }
        path.pop();
    }
    None
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The span of the key named by the last element of `path`, walking tables.
pub(crate) fn key_span(root: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    let (last, parents) = path.split_last()?;
    let mut table = root;
    for part in parents {
        let (_, value) = table.iter().find(|(k, _)| k.get_ref() == part)?;
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return None,
        }
    }
    table
        .iter()
        .find(|(k, _)| k.get_ref() == last)
        .map(|(k, _)| k.span())
}

/// The span of the value at `path`, falling back to the key, then to the closest parent present.
pub(crate) fn value_span(root: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    for len in (1..=path.len()).rev() {
        let prefix = &path[..len];
        let (last, parents) = prefix.split_last()?;
        let mut table = Some(root);
        for part in parents {
            table = table.and_then(|t| {
                t.iter()
                    .find(|(k, _)| k.get_ref() == part)
                    .and_then(|(_, v)| match v.get_ref() {
                        DeValue::Table(t) => Some(t),
                        _ => None,
                    })
            });
        }
        if let Some((_, value)) = table.and_then(|t| t.iter().find(|(k, _)| k.get_ref() == last)) {
            if matches!(value.get_ref(), DeValue::Table(_)) {
                return key_span(root, prefix);
            }
            return Some(value.span());
        }
    }
    None
}

#[cfg(test)]
mod tests;

/// Where a command finds its project.
#[derive(Debug, Clone)]
pub(crate) enum ProjectRef {
    /// By name, in the scope's config directory.
    Name(String),
    /// A TOML file.
    File(PathBuf),
}

/// Loads the project a command names, with the errors operators need: an invalid name states the
/// rule, an unknown one lists the known projects.
pub(crate) fn load_project(reference: &ProjectRef, scope: Scope) -> Result<Project> {
    match reference {
        ProjectRef::File(path) => load(path, scope),
        ProjectRef::Name(name) => {
            if !valid_project_name(name) {
                return Err(Error::config(ConfigProblem::new(
                    scope.config_dir(),
                    format!("invalid project name {name:?}: a project name is {PROJECT_NAME_RULE}"),
                )));
            }
            let path = path_for(name, scope);
            if !path.exists() {
                let known: Vec<String> = discover(scope)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                    .collect();
                let hint = if known.is_empty() {
                    format!(
                        "no projects in {}; create one with `agent-runner{} init --preset shell {name}`",
                        scope.config_dir().display(),
                        scope.flag()
                    )
                } else {
                    format!("known projects: {}", known.join(", "))
                };
                return Err(Error::config(
                    ConfigProblem::new(path, format!("no project named {name:?}")).hint(hint),
                ));
            }
            load(&path, scope)
        }
    }
}
