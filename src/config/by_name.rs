//! The project a read command names when its file does not load: the state, events and logs of
//! a project are where its name and scope put them by default, so `status`, `events`, `logs` and
//! `peek` still answer while the operator fixes a typo in the TOML, and say what is wrong with it;
//! `stop`, `kill` and `disable`, which need only the name, still take the loop down.

use std::path::Path;

use super::ProjectRef;
use super::load::{load_project, load_str, path_for};
use super::model::{Project, valid_project_name};
use crate::error::{Error, Result};
use crate::paths::Scope;

/// The project `reference` names, and why its file does not load when it does not: then the
/// project has the name and the default paths of its scope and nothing of its file. Only a name
/// whose file exists falls back; an unknown name, `--config FILE` and other failures stay errors.
pub(crate) fn load_for_reading(
    reference: &ProjectRef,
    scope: Scope,
) -> Result<(Project, Option<String>)> {
    let error = match load_project(reference, scope) {
        Ok(project) => return Ok((project, None)),
        Err(error @ Error::Config(_)) => error,
        Err(other) => return Err(other),
    };
    let ProjectRef::Name(name) = reference else {
        return Err(error);
    };
    let path = path_for(name, scope);
    if !valid_project_name(name) || !path.is_file() {
        return Err(error);
    }
    match defaults_of(&path, scope) {
        Ok(project) => Ok((project, Some(first_line(&error)))),
        Err(_) => Err(error),
    }
}

/// [`load_for_reading`] for the commands whose output is a stream (events, a log): why the file
/// does not load goes to stderr, in one line, before it.
pub(crate) fn load_for_reading_said(reference: &ProjectRef, scope: Scope) -> Result<Project> {
    let (project, config_error) = load_for_reading(reference, scope)?;
    if let Some(error) = config_error {
        eprintln!(
            "agent-runner: warning: {error}; {} is found by its name",
            project.name
        );
    }
    Ok(project)
}

/// A project with nothing but what the file's name and the scope give it.
fn defaults_of(path: &Path, scope: Scope) -> Result<Project> {
    let text = "schema_version = 1\n[agent]\ncommand = [\"true\"]\n[runtime]\nwork_dir = \"/\"\n[prompt]\nfiles = [\"/dev/null\"]\n";
    load_str(text, path, scope)
}

/// The config error in one line: its first problem's first line, and how many more there are.
fn first_line(error: &Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default().to_string();
    match error {
        Error::Config(problems) if problems.len() > 1 => {
            format!("{first} (and {} more problems)", problems.len() - 1)
        }
        _ => first,
    }
}
