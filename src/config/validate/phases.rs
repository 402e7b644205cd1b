//! `[phases]`: the rotation of named phases, each with its own prompt and round timeout.

use super::checker::Checker;
use super::prompt::prompt_spec;
use super::resolve::Resolver;
use crate::config::model::{PROJECT_NAME_RULE, Phase, PromptSpec, valid_project_name};
use crate::config::raw::{RawPhase, RawPhases};

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
    if list.is_empty() {
        c.fail_hint(
            &["phases", "list"],
            "[phases] needs a non-empty `list` of phase names",
            "e.g. list = [\"build\", \"review\"]",
        );
    }
    let mut phases = Vec::new();
    for (i, name) in list.iter().enumerate() {
        if !valid_project_name(name) {
            c.fail(
                &["phases", "list"],
                format!("phase name {name:?} must be {PROJECT_NAME_RULE}"),
            );
            continue;
        }
        if list[..i].contains(name) {
            c.fail(
                &["phases", "list"],
                format!("phase {name:?} is listed twice"),
            );
            continue;
        }
        let own = raw.phases.get(name);
        phases.push(phase(c, name, own, prompt, round_timeout_s, paths));
    }
    for name in raw.phases.keys() {
        if !list.contains(name) {
            c.fail_hint(
                &["phases", name],
                format!("[phases.{name}] is not in phases.list"),
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
