//! The last check: no resolved path holds a control character. Each raw value was checked where
//! it was read; resolving adds text from outside the file (`~` is `$HOME`, a user project's
//! default log and state directories come from `$XDG_STATE_HOME`), and that text reaches the
//! units as well. (The file's own path, which relative paths take their directory from, was
//! checked before the file was read.)

use std::collections::HashSet;
use std::path::Path;

use super::checker::Checker;
use crate::config::controls::{first_control_char, printable};
use crate::config::model::Project;
use crate::error::ConfigProblem;

const HINT: &str = "the character comes from `~` ($HOME) or, for a user project's defaults, $XDG_STATE_HOME: fix that variable or give the path in full";

/// Every path of `project`, each reported once at the key it came from (a phase inherits the
/// default prompt's files), then the state directory (it has no key).
pub(super) fn check_resolved_paths(c: &mut Checker<'_, '_>, project: &Project) {
    let mut seen = HashSet::new();
    for (key, path) in keyed_paths(project) {
        if !seen.insert(path) {
            continue;
        }
        let text = path.to_string_lossy();
        if let Some(found) = first_control_char(&text) {
            let message = format!(
                "resolves to {}, which contains a control character ({found})",
                printable(path)
            );
            c.fail_hint(&key, message, HINT);
        }
    }
    let state_dir = project.scope.state_dir(&project.name);
    if let Some(found) = first_control_char(&state_dir.to_string_lossy()) {
        let file = c.doc().file;
        c.push(|| {
            ConfigProblem::new(
                file,
                format!(
                    "the project's state directory {} contains a control character ({found})",
                    printable(&state_dir)
                ),
            )
            .hint(HINT)
        });
    }
}

fn keyed_paths(project: &Project) -> Vec<(Vec<&str>, &Path)> {
    let rt = &project.runtime;
    let mut paths: Vec<(Vec<&str>, &Path)> = vec![
        (vec!["runtime", "work_dir"], &rt.work_dir),
        (vec!["runtime", "log_dir"], &rt.log_dir),
    ];
    let optional = [
        (["runtime", "stop_file"], rt.stop_file.as_deref()),
        (["runtime", "narrative_file"], rt.narrative_file.as_deref()),
    ];
    paths.extend(
        optional
            .into_iter()
            .filter_map(|(key, path)| Some((key.to_vec(), path?))),
    );
    for (name, path) in &project.agent.credentials {
        paths.push((vec!["agent", "credentials", name], path));
    }
    for file in &project.prompt.files {
        paths.push((vec!["prompt", "files"], file));
    }
    for phase in &project.phases {
        for file in &phase.prompt.files {
            paths.push((vec!["phases", &phase.name, "prompt", "files"], file));
        }
    }
    for path in &project.vcs.protect {
        paths.push((vec!["vcs", "protect"], path));
    }
    paths
}
