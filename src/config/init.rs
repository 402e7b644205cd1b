//! `agent-runner init --preset NAME PROJECT`: a new project file and its prompt scaffold.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::load::load_str;
use super::model::{PromptDelivery, StopSignal};
use super::presets::{self, Preset};
use super::schema::SCHEMA_VERSION;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::fsutil;

/// Options of `init`, validated.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Preset name.
    pub preset: String,
    /// Project name.
    pub project: String,
    /// Output directory (default: the config directory).
    pub dir: Option<PathBuf>,
    /// The agent's working directory (default: the current directory).
    pub work_dir: Option<PathBuf>,
    /// Overwrite the existing project file (and the prompt and example agent only while they are
    /// still what `init` wrote).
    pub force: bool,
    /// Overwrite the prompt and the example agent even when they were edited.
    pub force_prompts: bool,
}

const PROMPT_SCAFFOLD: &str = "\
# Standing instructions for {project}

You are working unattended, one round at a time, in this repository. Each round:

1. Read NOTES.md (create it if it is missing) to see what was done and what is next.
2. Pick the single most valuable next step and do it completely: code, tests, docs.
3. Run the tests. Do not leave the tree broken.
4. Commit your work with a clear message, and update NOTES.md with what you did and what comes next.

When the goal is reached and nothing useful is left to do, write one line saying why into
$AGENT_RUNNER_LOG_DIR/.agent-done; the loop then stops.
";

/// The preset whose command is a script of the operator's: `init` writes a working example of it.
const EXAMPLE_AGENT_PRESET: &str = "shell";

/// The example agent of the shell preset: it runs as written, so the new project passes `check`
/// and can be started before the operator writes the real agent, and it stops the loop after one
/// round rather than spinning.
const EXAMPLE_AGENT: &str = r#"#!/bin/sh
# The example agent `agent-runner init --preset shell` wrote: replace it with the command that runs
# your agent. Each round runs it in work_dir with the prompt on stdin; an agent says it is finished
# by writing why into $AGENT_RUNNER_LOG_DIR/.agent-done, which ends the loop.
set -eu
prompt=$(cat)
lines=$(printf '%s\n' "$prompt" | wc -l)
echo "example agent: round ${AGENT_RUNNER_ROUND:-?} of ${AGENT_RUNNER_PROJECT:-?} in $(pwd)"
echo "example agent: the prompt has $lines lines; a real agent would act on them"
if [ -n "${AGENT_RUNNER_LOG_DIR:-}" ]; then
    echo "the example agent has nothing to do: replace $0 with a real agent" \
        >"$AGENT_RUNNER_LOG_DIR/.agent-done"
fi
"#;

/// Runs `init`.
pub(crate) fn run(ctx: &Context, options: &Options) -> Result<()> {
    let name = &options.project;
    super::load::require_valid_name(name)?;
    let preset = presets::find(&options.preset).ok_or_else(|| {
        Error::Usage(format!(
            "unknown preset {:?}; choose one of: {}",
            options.preset,
            presets::names().join(", ")
        ))
    })?;
    let dir = options
        .dir
        .clone()
        .unwrap_or_else(|| ctx.scope.config_dir());
    let dir = std::path::absolute(&dir).map_err(|e| Error::io("cannot resolve", &dir, e))?;
    let work_dir = match &options.work_dir {
        Some(w) => std::path::absolute(w).map_err(|e| Error::io("cannot resolve", w, e))?,
        None => std::env::current_dir()
            .map_err(|e| Error::Failed(format!("cannot read the current directory: {e}")))?,
    };
    let toml_path = dir.join(format!("{name}.toml"));
    let prompt_dir = dir.join("prompts").join(name);
    let prompt_path = prompt_dir.join("main.md");
    let agent_path = example_agent(preset, &prompt_path);
    let mut scaffolds = vec![Scaffold {
        path: prompt_path.clone(),
        text: PROMPT_SCAFFOLD.replace("{project}", name),
        mode: 0o644,
    }];
    if let Some(agent) = &agent_path {
        scaffolds.push(Scaffold {
            path: agent.clone(),
            text: EXAMPLE_AGENT.to_string(),
            mode: 0o755,
        });
    }
    refuse_to_overwrite(options, &toml_path, &scaffolds)?;
    let text = project_toml(preset, name, &work_dir, &prompt_path);
    // Never write a file that would not load.
    load_str(&text, &toml_path, ctx.scope)?;
    fsutil::create_dir_all(&prompt_dir)?;
    for scaffold in &scaffolds {
        scaffold.write(options.force_prompts)?;
    }
    fsutil::write_atomic(&toml_path, text.as_bytes(), 0o644)?;
    crate::output::line(format_args!("wrote {}", toml_path.display()))?;
    say_what_comes_next(ctx, options, &toml_path, &work_dir)
}

/// A file `init` writes beside the project file for the operator to edit: the prompt, the
/// example agent.
struct Scaffold {
    path: PathBuf,
    text: String,
    mode: u32,
}

impl Scaffold {
    /// Whether the file is there and no longer what `init` writes: the operator's work, which
    /// only `--force-prompts` replaces. Anything but a regular file counts as edited.
    fn edited(&self) -> Result<bool> {
        use std::os::unix::fs::OpenOptionsExt as _;
        match fsutil::entry_kind(&self.path) {
            Ok(None) => return Ok(false),
            Ok(Some(kind)) if kind.is_file() => {}
            Ok(Some(_)) => return Ok(true),
            Err(e) => return Err(Error::io("cannot look at", &self.path, e)),
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags((nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK).bits())
            .open(&self.path)
            .map_err(|e| Error::io("cannot read", &self.path, e))?;
        let cap = self.text.len() as u64;
        Ok(fsutil::read_capped(&file, cap).map_or(true, |bytes| bytes != self.text.as_bytes()))
    }

    /// Writes the scaffold unless the operator edited the file there (then says so).
    fn write(&self, force_prompts: bool) -> Result<()> {
        if !force_prompts && self.edited()? {
            return crate::output::line(format_args!(
                "kept {}: it was edited (pass --force-prompts to replace it)",
                self.path.display()
            ));
        }
        fsutil::write_atomic(&self.path, self.text.as_bytes(), self.mode)?;
        crate::output::line(format_args!("wrote {}", self.path.display()))
    }
}

/// Without `--force` no existing file is touched.
fn refuse_to_overwrite(options: &Options, toml_path: &Path, scaffolds: &[Scaffold]) -> Result<()> {
    if options.force || options.force_prompts {
        return Ok(());
    }
    let existing = std::iter::once(toml_path).chain(scaffolds.iter().map(|s| s.path.as_path()));
    for path in existing {
        if path.exists() {
            return Err(Error::Failed(format!(
                "{} already exists; not overwriting it\n  hint: pass --force to replace it (an edited prompt stays unless --force-prompts)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Where the rounds will run, and the next command.
fn say_what_comes_next(
    ctx: &Context,
    options: &Options,
    toml_path: &Path,
    work_dir: &Path,
) -> Result<()> {
    let chosen = if options.work_dir.is_some() {
        "--work-dir"
    } else {
        "the current directory; --work-dir chooses another"
    };
    crate::output::line(format_args!(
        "work_dir: {} ({chosen}); rounds run there and it must be a git repository",
        work_dir.display()
    ))?;
    let config_arg = if options.dir.is_some() {
        format!("--config {}", toml_path.display())
    } else {
        options.project.clone()
    };
    crate::output::line(format_args!(
        "next: edit the prompt, then `agent-runner{} check {config_arg}`",
        ctx.scope.flag()
    ))
}

/// Where `init` writes the example agent of `preset`, beside the prompt; `None` when the preset
/// runs an agent CLI.
fn example_agent(preset: &Preset, prompt: &Path) -> Option<PathBuf> {
    (preset.name == EXAMPLE_AGENT_PRESET).then(|| prompt.with_file_name("agent.sh"))
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_list(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// The project file `init` writes for `preset`.
pub(super) fn project_toml(preset: &Preset, name: &str, work_dir: &Path, prompt: &Path) -> String {
    let mut t = String::new();
    let delivery = match preset.prompt_delivery {
        PromptDelivery::Stdin => "stdin",
        PromptDelivery::Argv => "argv",
        PromptDelivery::File => "file",
    };
    let signal = match preset.stop_signal {
        StopSignal::Int => "SIGINT",
        StopSignal::Term => "SIGTERM",
    };
    let _ = writeln!(
        t,
        "# agent-runner project {name} (preset {}). Reference: agent-runner.toml(5).",
        preset.name
    );
    let _ = writeln!(t, "schema_version = {SCHEMA_VERSION}\n");
    let _ = writeln!(t, "[agent]\npreset = {}", toml_string(preset.name));
    let command = match example_agent(preset, prompt) {
        Some(agent) => toml_list(&[&agent.to_string_lossy()]),
        None => toml_list(preset.command),
    };
    let _ = writeln!(t, "command = {command}");
    let _ = writeln!(
        t,
        "prompt_arg_template = {}",
        toml_list(preset.prompt_arg_template)
    );
    let _ = writeln!(
        t,
        "prompt_delivery = {}        # stdin | argv | file",
        toml_string(delivery)
    );
    let _ = writeln!(t, "stop_signal = {}", toml_string(signal));
    if let Some(marker) = preset.terminal_marker {
        let _ = writeln!(t, "terminal_marker = {}", toml_string(marker));
    }
    let _ = writeln!(
        t,
        "# Where the CLI keeps its login, sessions and memory, below the home of the user rounds run\n# as: the units make exactly these writable, the rest of the home stays read-only."
    );
    let _ = writeln!(t, "state_paths = {}", toml_list(preset.state_paths));
    let _ = writeln!(t, "\n[agent.env]");
    for (k, v) in preset.env {
        let _ = writeln!(t, "{k} = {}", toml_string(v));
    }
    let _ = writeln!(
        t,
        "\n# Secrets stay out of this file: systemd loads each as a credential and the agent gets it as\n# $NAME in its environment (never in the unit or its argv); logs and events mask it:"
    );
    let _ = writeln!(t, "[agent.credentials]\n# {}", preset.credential_hint);
    let _ = writeln!(t, "\n[runtime]");
    let _ = writeln!(t, "work_dir = {}", toml_string(&work_dir.to_string_lossy()));
    let _ = writeln!(
        t,
        "# user = \"agent\"                 # the unprivileged account rounds run as"
    );
    let _ = writeln!(t, "restart_delay_s = 3");
    let _ = writeln!(t, "round_timeout_s = 1800");
    let _ = writeln!(t, "checkin_timeout_s = 30");
    let _ = writeln!(t, "# max_rounds = 100");
    let _ = writeln!(t, "# stop_file = \"/run/agent-runner-{name}.stop\"");
    if preset.terminal_marker.is_some() {
        let _ = writeln!(t, "max_grace_after_result_s = 30");
    }
    let _ = writeln!(
        t,
        "\n[prompt]\nfiles = [{}]",
        toml_string(&prompt.to_string_lossy())
    );
    let _ = writeln!(
        t,
        "\n[vcs]\ndirty_action = \"ignore\"        # ignore | stash | commit"
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Scope;

    #[test]
    fn every_preset_writes_a_valid_config() {
        for preset in presets::ALL {
            let text = project_toml(
                preset,
                "demo",
                Path::new("/srv/demo"),
                Path::new("/etc/agent-runner/prompts/demo/main.md"),
            );
            let project = load_str(
                &text,
                Path::new("/etc/agent-runner/demo.toml"),
                Scope::System,
            )
            .unwrap_or_else(|e| panic!("preset {}: {e}\n{text}", preset.name));
            assert_eq!(project.agent.preset.as_deref(), Some(preset.name));
            // The shell preset runs the example agent init writes beside the prompt.
            let program = if preset.name == EXAMPLE_AGENT_PRESET {
                "/etc/agent-runner/prompts/demo/agent.sh"
            } else {
                preset.command[0]
            };
            assert_eq!(project.agent.command[0], program);
        }
    }

    /// The example projects the package installs (packaging/examples/) are committed so that
    /// `cargo deb` needs nothing run before it: one per preset, as `init` writes it with the paths
    /// an operator would use, and the prompt scaffold.
    #[test]
    fn committed_examples_are_what_init_writes() {
        let regenerate = "regenerate them with\n  packaging/generate-assets.sh";
        let mut expected = vec![(
            "prompt-main.md".to_string(),
            PROMPT_SCAFFOLD.replace("{project}", "claude-example"),
        )];
        expected.push((
            "shell-example-agent.sh".to_string(),
            EXAMPLE_AGENT.to_string(),
        ));
        for preset in presets::ALL {
            let name = format!("{}-example", preset.name);
            let work_dir = Path::new("/srv/agents").join(&name);
            let prompt = Path::new("/etc/agent-runner/prompts")
                .join(&name)
                .join("main.md");
            let text = project_toml(preset, &name, &work_dir, &prompt);
            expected.push((format!("{name}.toml"), text));
        }
        expected.sort();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/examples");
        let mut committed: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        committed.sort();
        let names: Vec<&String> = expected.iter().map(|(file, _)| file).collect();
        assert!(
            committed.iter().eq(names.iter().copied()),
            "packaging/examples/ holds {committed:?}, not one example per preset {names:?} (a new preset \
             goes into packaging/generate-assets.sh); {regenerate}"
        );
        for (file, text) in &expected {
            let path = dir.join(file);
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                committed == *text,
                "packaging/examples/{file} is out of date with what `agent-runner init` writes; {regenerate}"
            );
        }
    }
}
