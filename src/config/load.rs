//! Reading a project file: parse with positions, reject unknown keys, deserialize, validate.
//! Also where project files are found (by name, or every file of a scope).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::DeTable;

use super::controls::{check_file_path, escaped};
use super::model::{PROJECT_NAME_RULE, Project, valid_project_name};
use super::problems::echoed;
use super::raw::RawConfig;
use super::read::read_project_file;
use super::spans::{Located, key_at, line_col, value_span};
use super::{schedule, schema, validate};
use crate::error::{ConfigProblem, Error, Result};
use crate::paths::Scope;

/// Reads and validates the project file at `path` for the given manager scope.
pub(crate) fn load(path: &Path, scope: Scope) -> Result<Project> {
    load_with_text(path, scope).map(|(project, _)| project)
}

/// [`load`], also returning the text it read: rendering hashes that very text into the unit
/// headers, so it is not read a second time (a second read could see another file).
pub(crate) fn load_with_text(path: &Path, scope: Scope) -> Result<(Project, String)> {
    let text = read_project_file(path).map_err(Error::config)?;
    let project = load_str(&text, path, scope)?;
    Ok((project, text))
}

/// Validates configuration `text` as if read from `path`.
pub(crate) fn load_str(text: &str, path: &Path, scope: Scope) -> Result<Project> {
    check_file_path(path).map_err(Error::config)?;
    let root = DeTable::parse(text).map_err(|e| Error::config(toml_problem(path, text, &e)))?;
    let located = Located {
        file: path,
        text,
        root: root.get_ref(),
    };
    let unknown = schema::unknown_keys(&located);
    if !unknown.is_empty() {
        return Err(Error::Config(unknown.into_vec(path)));
    }
    let raw = RawConfig::deserialize(toml::de::Deserializer::from(root.clone()))
        .map_err(|e| Error::config(toml_problem(path, text, &e)))?;
    validate::validate(&raw, &located, scope).map_err(Error::Config)
}

/// Asks systemd whether the project's `schedule` parses (config loading only checks its
/// characters); the problem is positioned at the key like every other.
pub(crate) fn verify_schedule(project: &Project) -> Option<ConfigProblem> {
    let expr = project.runtime.schedule.as_deref()?;
    let message = schedule::check(expr).err()?;
    let text = read_project_file(&project.source).unwrap_or_default();
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
pub(super) fn path_for(name: &str, scope: Scope) -> PathBuf {
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
        // The shared notification settings live beside the projects and are none.
        .filter(|p| {
            p.file_name()
                .is_none_or(|n| n != super::notify::SHARED_FILE)
        })
        .collect();
    files.sort();
    Ok(files)
}

pub(super) fn toml_problem(file: &Path, text: &str, err: &toml::de::Error) -> ConfigProblem {
    let mut problem = ConfigProblem::new(file, humanize(err.message()));
    if let Some(span) = err.span() {
        problem.position = Some(line_col(text, span.start));
        // Type errors point at a value: name the key it belongs to.
        if let Ok(root) = DeTable::parse(text) {
            problem.key = key_at(root.get_ref(), span.start, &mut Vec::new()).map(|k| echoed(&k));
        }
    }
    problem
}

/// serde's vocabulary in the operator's words, on one line.
fn humanize(message: &str) -> String {
    let mut m = escaped(&message.trim().replace('\n', " "));
    // TOML integers are 64-bit: a longer one reaches serde as an i128 nothing accepts.
    if m.starts_with("invalid type: integer `") && m.contains("` as i128") {
        return "the number is too large (integers go up to 9223372036854775807)".into();
    }
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

/// Where a command finds its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProjectRef {
    /// By name, in the scope's config directory.
    Name(String),
    /// A TOML file.
    File(PathBuf),
}

/// Loads the project a command names, with the errors operators need: an invalid name states the
/// rule, an unknown one lists the known projects.
pub(crate) fn load_project(reference: &ProjectRef, scope: Scope) -> Result<Project> {
    load_project_with_text(reference, scope).map(|(project, _)| project)
}

/// [`load_project`], also returning the text it read (see [`load_with_text`]).
pub(crate) fn load_project_with_text(
    reference: &ProjectRef,
    scope: Scope,
) -> Result<(Project, String)> {
    match reference {
        ProjectRef::File(path) => load_with_text(path, scope),
        ProjectRef::Name(name) => {
            require_valid_name(name)?;
            let path = path_for(name, scope);
            // Only a file seen to be missing is "no such project": a directory the caller may
            // not search is reported as what it is when the file is opened.
            if matches!(path.try_exists(), Ok(false)) {
                return Err(no_such_project(name, path, scope));
            }
            load_with_text(&path, scope)
        }
    }
}

/// Refuses a project name given on the command line that no project can have: a usage error,
/// not a broken file.
pub(crate) fn require_valid_name(name: &str) -> Result<()> {
    if valid_project_name(name) {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "invalid project name {name:?}: a project name is {PROJECT_NAME_RULE}"
    )))
}

/// The names of the scope's projects whose file names are valid project names (a file named
/// otherwise cannot be asked for by name, and a shell's completion must never see it).
pub(crate) fn project_names(scope: Scope) -> Vec<String> {
    discover(scope)
        .unwrap_or_default()
        .iter()
        .filter_map(|file| file.file_stem()?.to_str().map(str::to_string))
        .filter(|name| valid_project_name(name))
        .collect()
}

/// The error for a project name without a file: it lists the known projects, or says how to
/// create the first one.
fn no_such_project(name: &str, path: PathBuf, scope: Scope) -> Error {
    let known = project_names(scope);
    let hint = if known.is_empty() {
        format!(
            "no projects in {}; create one with `agent-runner{} init --preset shell {name}`",
            scope.config_dir().display(),
            scope.flag()
        )
    } else {
        let listed = format!("known projects: {}", known.join(", "));
        match closest_name(name, &known) {
            Some(close) => format!("did you mean {close:?}? {listed}"),
            None => listed,
        }
    };
    Error::config(ConfigProblem::new(path, format!("no project named {name:?}")).hint(hint))
}

/// Names longer than this are not compared (the edit distance costs the product of the lengths,
/// and nobody misspells a name this long).
const MAX_SPELLING_LEN: usize = 64;

/// The known name `name` is most likely a misspelling of: the nearest by edit distance, if it
/// is at most a third of the name away (at least one edit).
fn closest_name<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    if name.len() > MAX_SPELLING_LEN {
        return None;
    }
    let allowed = (name.chars().count() / 3).max(1);
    known
        .iter()
        .filter(|k| k.len() <= MAX_SPELLING_LEN)
        .map(|k| (strsim::damerau_levenshtein(name, k), k.as_str()))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_name_finds_the_nearest_project() {
        let known = ["research".to_string(), "docs".to_string()];
        assert_eq!(closest_name("reserach", &known), Some("research"));
        assert_eq!(closest_name("doc", &known), Some("docs"));
        assert_eq!(closest_name("web", &known), None);
    }

    #[test]
    fn an_integer_beyond_64_bits_is_said_to_be_too_large() {
        let text = "schema_version = 1\n[agent]\ncommand = [\"true\"]\n[runtime]\nwork_dir = \"/\"\nrestart_delay_s = 99999999999999999999\n[prompt]\nfiles = [\"/dev/null\"]\n";
        let e = load_str(text, Path::new("/x.toml"), Scope::System).unwrap_err();
        assert!(
            e.to_string().contains(
                "runtime.restart_delay_s: the number is too large (integers go up to 9223372036854775807)"
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_a_config_error() {
        let err = load_from_missing();
        assert_eq!(err.exit_code(), 78);
        assert!(
            err.to_string().contains("no such configuration file"),
            "{err}"
        );
    }

    fn load_from_missing() -> Error {
        load(Path::new("/nonexistent/x.toml"), Scope::System).unwrap_err()
    }
}
