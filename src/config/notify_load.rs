//! The notifications of a project: its own `[notify]` merged over the shared notify.toml beside
//! it, and the checks `check` runs on both.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::DeTable;

use super::model::Project;
use super::notify::{
    DEFAULT_DEDUP_WINDOW_S, DEFAULT_ON, DEFAULT_TIMEOUT_S, Format, Notify, NotifyKeys, SHARED_FILE,
};
use super::raw::RawNotify;
use super::spans::Located;
use crate::error::{ConfigProblem, Error, Result};

/// The shared file of the scope's config directory (`dir`).
pub(crate) fn shared_path(dir: &Path) -> PathBuf {
    dir.join(SHARED_FILE)
}

/// What `project` notifies, merged with the shared file beside its own; `None` when neither
/// names a receiver. A broken shared file is an error naming it.
pub(crate) fn settings(project: &Project) -> Result<Option<Notify>> {
    let dir = project.source.parent().unwrap_or(Path::new("/"));
    let shared = load_shared(&shared_path(dir))?;
    let keys = project.notify.over(&shared);
    if keys.command.is_none() && keys.webhook.is_none() {
        if project.notify.is_empty() && shared.is_empty() {
            return Ok(None);
        }
        return Err(Error::config(
            ConfigProblem::new(
                &project.source,
                "[notify] names no receiver: set `command`, `webhook` or `webhook_credential`",
            )
            .hint(format!(
                "here or in the shared {}",
                shared_path(dir).display()
            )),
        ));
    }
    Ok(Some(Notify {
        command: keys.command,
        webhook: keys.webhook,
        format: keys.format.unwrap_or(Format::Json),
        on: keys
            .on
            .unwrap_or_else(|| DEFAULT_ON.iter().map(ToString::to_string).collect()),
        dedup_window_s: keys.dedup_window_s.unwrap_or(DEFAULT_DEDUP_WINDOW_S),
        timeout_s: keys.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S),
    }))
}

/// The shared file's `[notify]` keys; none when it does not exist.
pub(crate) fn load_shared(path: &Path) -> Result<NotifyKeys> {
    let text = match super::read::read_project_file(path) {
        Ok(text) => text,
        Err(_) if !path.exists() => return Ok(NotifyKeys::default()),
        Err(problem) => return Err(Error::config(problem)),
    };
    shared_from_str(&text, path)
}

/// The shared file's text, checked like a project's: unknown keys, types, values.
fn shared_from_str(text: &str, path: &Path) -> Result<NotifyKeys> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Shared {
        #[serde(default)]
        notify: RawNotify,
    }
    let root = DeTable::parse(text)
        .map_err(|e| Error::config(ConfigProblem::new(path, e.message().replace('\n', " "))))?;
    let located = Located {
        file: path,
        text,
        root: root.get_ref(),
    };
    let unknown = super::schema::unknown_shared_notify_keys(&located);
    if !unknown.is_empty() {
        return Err(Error::Config(unknown.into_vec(path)));
    }
    let shared = Shared::deserialize(toml::de::Deserializer::from(root.clone()))
        .map_err(|e| Error::config(ConfigProblem::new(path, e.message().replace('\n', " "))))?;
    super::validate::notify_keys(&shared.notify, &located).map_err(Error::Config)
}

/// Every problem of the notifications of `project`: a broken shared file, no receiver, and `on`
/// names that are no event kind `is_kind` knows (config/ cannot see the event kinds, so the caller
/// passes them), each positioned in the file that holds it.
pub(crate) fn check(project: &Project, is_kind: &dyn Fn(&str) -> bool) -> Vec<ConfigProblem> {
    let dir = project.source.parent().unwrap_or(Path::new("/"));
    let shared_file = shared_path(dir);
    let mut problems = match settings(project) {
        Err(Error::Config(problems)) => return problems,
        Err(e) => return vec![ConfigProblem::new(&shared_file, e.to_string())],
        Ok(_) => Vec::new(),
    };
    problems.extend(unknown_kinds(&project.source, &project.notify, is_kind));
    if let Ok(shared) = load_shared(&shared_file) {
        problems.extend(unknown_kinds(&shared_file, &shared, is_kind));
    }
    problems
}

/// The `on` names of `keys` that are no event kind `is_kind` knows, positioned in `file`.
fn unknown_kinds(
    file: &Path,
    keys: &NotifyKeys,
    is_kind: &dyn Fn(&str) -> bool,
) -> Vec<ConfigProblem> {
    let unknown: Vec<&String> = keys.on.iter().flatten().filter(|n| !is_kind(n)).collect();
    if unknown.is_empty() {
        return Vec::new();
    }
    let text = super::read::read_project_file(file).unwrap_or_default();
    let position = DeTable::parse(&text)
        .ok()
        .and_then(|root| super::spans::value_span(root.get_ref(), &["notify", "on"]))
        .map(|span| super::spans::line_col(&text, span.start));
    unknown
        .into_iter()
        .map(|name| ConfigProblem {
            file: file.to_path_buf(),
            position,
            key: Some("notify.on".into()),
            message: format!("\"{}\" is not an event kind", super::problems::echoed(name)),
            hint: Some("agent-runner.toml(5) lists the kinds; `journalctl --list-catalog` shows them with their text".into()),
        })
        .collect()
}

#[cfg(test)]
mod tests;
