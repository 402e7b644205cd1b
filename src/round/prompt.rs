//! The round's prompt: assembled from its files, then delivered as the project says — on stdin
//! (an in-memory file), in a scratch file the agent's arguments name (`{prompt_file}`), or in the
//! arguments themselves (`{prompt}`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::config::{Project, PromptDelivery, PromptSpec};
use crate::error::{ConfigProblem, Error, Result};
use crate::fsutil;

/// The prompt on its way to the agent.
pub(crate) struct Prompt {
    /// The agent's argv, prompt arguments substituted.
    pub argv: Vec<String>,
    /// The scratch copy the agent reads (file delivery), removed after the round.
    pub file: Option<PathBuf>,
    /// The prompt's size.
    pub bytes: usize,
}

impl Prompt {
    /// Removes the scratch copy, if there is one.
    pub(crate) fn remove_file(&self) {
        if let Some(path) = &self.file {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The prompt files of `spec`, read and joined with its separator.
pub(crate) fn assemble(spec: &PromptSpec, source: &Path) -> Result<String> {
    let mut parts = Vec::with_capacity(spec.files.len());
    for file in &spec.files {
        // The startup battery, run before, refuses a link anywhere below the work tree; this read
        // refuses one at the file itself, a FIFO, a device and a file over the cap.
        let dir = file.parent().unwrap_or(Path::new("/"));
        let text = fsutil::read_agent_text(file, dir, fsutil::PROMPT_MAX_BYTES).map_err(|e| {
            let reason = e
                .io_source()
                .map_or_else(|| e.to_string(), ToString::to_string);
            Error::config(
                ConfigProblem::new(
                    source,
                    format!("prompt file {} cannot be read: {reason}", file.display()),
                )
                .hint("create it, or fix the path in [prompt] files"),
            )
        })?;
        parts.push(text);
    }
    Ok(parts.join(&spec.concat_separator))
}

/// Delivers the assembled prompt `text` of round `round`: returns the prompt with the agent's argv,
/// and the agent's stdin (the prompt for stdin delivery, else /dev/null).
pub(crate) fn deliver(
    project: &Project,
    text: &str,
    state_dir: &Path,
    round: u64,
) -> Result<(Prompt, OwnedFd)> {
    let delivery = project.agent.prompt_delivery;
    let file = (delivery == PromptDelivery::File)
        .then(|| state_dir.join(format!("prompt-round-{round}.md")));
    if let Some(path) = &file {
        // A scratch copy for the agent to read: no fsync, it is removed after the round.
        write_private(path, text.as_bytes())?;
    }
    let argv = argv(project, text, file.as_deref());
    let stdin = OwnedFd::from(if delivery == PromptDelivery::Stdin {
        memory_file(text.as_bytes())?
    } else {
        File::open("/dev/null").map_err(|e| Error::io("cannot open", "/dev/null", e))?
    });
    let bytes = text.len();
    Ok((Prompt { argv, file, bytes }, stdin))
}

/// The name of a delivery, as the `round_start` event gives it.
pub(crate) fn delivery_name(d: PromptDelivery) -> &'static str {
    match d {
        PromptDelivery::Stdin => "stdin",
        PromptDelivery::Argv => "argv",
        PromptDelivery::File => "file",
    }
}

/// The prompt as an in-memory file for the agent's stdin: no disk write, no size limit, and the
/// agent can read it at its own pace (a pipe would need a writer thread for large prompts).
fn memory_file(data: &[u8]) -> Result<File> {
    use std::io::{Seek, SeekFrom};
    let fd = nix::sys::memfd::memfd_create(
        c"agent-runner-prompt",
        nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
    )
    .map_err(|e| Error::Failed(format!("cannot create the prompt buffer: {e}")))?;
    let mut file = File::from(fd);
    file.write_all(data)
        .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
        .map_err(|e| Error::Failed(format!("cannot write the prompt buffer: {e}")))?;
    Ok(file)
}

/// Writes a 0600 file (replacing it), without the fsync of [`crate::fsutil::write_atomic`].
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    let _ = std::fs::remove_file(path);
    OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(data))
        .map_err(|e| Error::io("cannot write", path, e))
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
