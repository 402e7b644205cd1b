//! `[phases]`: the rotation of named phases, each with its own prompt and round timeout.

use std::collections::HashSet;

use super::checker::Checker;
use super::prompt::prompt_spec;
use super::resolve::Resolver;
use crate::config::model::{PROJECT_NAME_RULE, Phase, PromptSpec, valid_project_name};
use crate::config::problems::echoed;
use crate::config::raw::{RawPhase, RawPhases};

/// The most phases a project may list. Each phase holds its prompt's file list (inherited ones
/// are copies), so the bound keeps a project's size linear in its file.
pub(super) const MAX_PHASES: usize = 100;

/// The phases in `list` order; a phase without its own table inherits `prompt` and
/// `round_timeout_s`.
pub(super) fn phases(
    c: &mut Checker<'_, '_>,
    raw: Option<&RawPhases>,
    prompt: &PromptSpec,
    round_timeout_s: u64,
    paths: &Resolver<'_>,
) -> Vec<Phase> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let list = raw.list.clone().unwrap_or_default();
    if list.len() > MAX_PHASES {
        c.fail(
            &["phases", "list"],
            format!(
                "lists {} phases; a project may have at most {MAX_PHASES}",
                list.len()
            ),
        );
        return Vec::new();
    }
    if list.is_empty() {
        c.fail_hint(
            &["phases", "list"],
            "[phases] needs a non-empty `list` of phase names",
            "e.g. list = [\"build\", \"review\"]",
        );
    }
    let mut phases = Vec::new();
    // Sets, not list scans: the list may be long, and checking stays linear in the file.
    let mut listed = HashSet::new();
    for name in &list {
        if !valid_project_name(name) {
            c.fail(
                &["phases", "list"],
                format!("phase name {name:?} must be {PROJECT_NAME_RULE}"),
            );
            continue;
        }
        if !listed.insert(name.as_str()) {
            c.fail(
                &["phases", "list"],
                format!("phase {name:?} is listed twice"),
            );
            continue;
        }
        let own = raw.phases.get(name);
        phases.push(phase(c, name, own, prompt, round_timeout_s, paths));
    }
    let in_list: HashSet<&str> = list.iter().map(String::as_str).collect();
    for name in raw.phases.keys() {
        if !in_list.contains(name.as_str()) {
            c.fail_hint(
                &["phases", name],
                format!("[phases.{}] is not in phases.list", echoed(name)),
                "add it to `list` or remove the table",
            );
        }
    }
    phases
}

/// One listed phase, from its own `[phases.NAME]` table when it has one.
fn phase(
    c: &mut Checker<'_, '_>,
    name: &str,
    own: Option<&RawPhase>,
    prompt: &PromptSpec,
    round_timeout_s: u64,
    paths: &Resolver<'_>,
) -> Phase {
    let Some(own) = own else {
        return Phase {
            name: name.to_string(),
            prompt: prompt.clone(),
            round_timeout_s,
        };
    };
    let timeout = c.positive(
        &["phases", name, "round_timeout_s"],
        own.round_timeout_s,
        i64::try_from(round_timeout_s).unwrap_or(i64::MAX),
    );
    let prompt = prompt_spec(
        c,
        &["phases", name, "prompt"],
        &own.prompt,
        Some(prompt),
        paths,
        false,
    );
    Phase {
        name: name.to_string(),
        prompt,
        round_timeout_s: timeout,
    }
}
