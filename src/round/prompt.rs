//! Assembling the round's prompt and the agent's argv (DESIGN §4 step 1).

use std::path::Path;

use crate::config::{Project, PromptDelivery, PromptSpec};
use crate::error::{ConfigProblem, Error, Result};

/// The prompt files of `spec`, read and joined with its separator.
pub(crate) fn assemble(spec: &PromptSpec, source: &Path) -> Result<String> {
    let mut parts = Vec::with_capacity(spec.files.len());
    for file in &spec.files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::config(
                ConfigProblem::new(
                    source,
                    format!("prompt file {} cannot be read: {e}", file.display()),
                )
                .hint("create it, or fix the path in [prompt] files"),
            )
        })?;
        parts.push(text);
    }
    Ok(parts.join(&spec.concat_separator))
}

/// The agent's argv: the command, then the prompt arguments with `{prompt}` (argv delivery) or
/// `{prompt_file}` (file delivery) substituted.
pub(crate) fn argv(project: &Project, prompt: &str, prompt_file: Option<&Path>) -> Vec<String> {
    let agent = &project.agent;
    let file = prompt_file
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut argv = agent.command.clone();
    for arg in &agent.prompt_arg_template {
        let arg = arg.replace("{prompt_file}", &file);
        let arg = if agent.prompt_delivery == PromptDelivery::Argv {
            arg.replace("{prompt}", prompt)
        } else {
            arg
        };
        argv.push(arg);
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_separator() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.md");
        let b = dir.path().join("b.md");
        std::fs::write(&a, "first").unwrap();
        std::fs::write(&b, "second").unwrap();
        let spec = PromptSpec {
            files: vec![a, b.clone()],
            concat_separator: "\n---\n".into(),
        };
        assert_eq!(assemble(&spec, &b).unwrap(), "first\n---\nsecond");
        let missing = PromptSpec {
            files: vec![dir.path().join("nope.md")],
            concat_separator: String::new(),
        };
        let err = assemble(&missing, &b).unwrap_err();
        assert_eq!(err.exit_code(), 78);
    }
}
