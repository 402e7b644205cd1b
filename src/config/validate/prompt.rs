//! `[prompt]` and each phase's prompt: the files concatenated into what the agent reads.

use super::checker::Checker;
use super::resolve::{Resolver, has_control_chars};
use crate::config::model::PromptSpec;
use crate::config::raw::RawPrompt;

/// The prompt at `path` (`["prompt"]` or `["phases", NAME, "prompt"]`). Keys it leaves out come
/// from `fallback` (a phase's prompt falls back to `[prompt]`); `required` prompts must list files.
pub(super) fn prompt_spec(
    c: &mut Checker<'_, '_>,
    path: &[&str],
    raw: &RawPrompt,
    fallback: Option<&PromptSpec>,
    paths: &Resolver<'_>,
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
                    Some(paths.in_work_dir(f))
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
