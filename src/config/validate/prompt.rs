//! `[prompt]` and each phase's prompt: the files concatenated into what the agent reads.

use super::checker::Checker;
use super::resolve::Resolver;
use crate::config::model::PromptSpec;
use crate::config::raw::RawPrompt;

/// The most files one prompt may be made of (see [`super::phases::MAX_PHASES`] for why there is
/// a bound).
pub(super) const MAX_PROMPT_FILES: usize = 100;

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
        (Some(files), _) if files.len() > MAX_PROMPT_FILES => {
            c.fail(
                &files_key,
                format!(
                    "lists {} files; a prompt may be made of at most {MAX_PROMPT_FILES}",
                    files.len()
                ),
            );
            Vec::new()
        }
        (Some(files), _) => files
            .iter()
            .filter_map(|f| {
                if f.trim().is_empty() {
                    c.fail(&files_key, "prompt file paths must be non-empty");
                    None
                } else {
                    c.free_of_control_chars(&files_key, f)
                        .then(|| paths.in_work_dir(f))
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
