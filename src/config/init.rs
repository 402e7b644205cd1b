//! `agent-runner init --preset NAME PROJECT`: a new project file and its prompt scaffold.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::load::load_str;
use super::model::{PROJECT_NAME_RULE, PromptDelivery, StopSignal, valid_project_name};
use super::presets::{self, Preset};
use super::schema::SCHEMA_VERSION;
use crate::context::Context;
use crate::error::{ConfigProblem, Error, Result};
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
    /// Overwrite existing files.
    pub force: bool,
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

/// Runs `init`.
pub(crate) fn run(ctx: &Context, options: &Options) -> Result<()> {
    let name = &options.project;
    if !valid_project_name(name) {
        return Err(Error::config(ConfigProblem::new(
            options
                .dir
                .clone()
                .unwrap_or_else(|| ctx.scope.config_dir()),
            format!("invalid project name {name:?}: a project name is {PROJECT_NAME_RULE}"),
        )));
    }
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
    let prompt_path = dir.join("prompts").join(name).join("main.md");
    if !options.force {
        for existing in [&toml_path, &prompt_path] {
            if existing.exists() {
                return Err(Error::Failed(format!(
                    "{} already exists; not overwriting it\n  hint: pass --force to replace it",
                    existing.display()
                )));
            }
        }
    }
    let text = project_toml(preset, name, &work_dir, &prompt_path);
    // Never write a file that would not load.
    load_str(&text, &toml_path, ctx.scope)?;
    if let Some(parent) = prompt_path.parent() {
        fsutil::create_dir_all(parent)?;
    }
    fsutil::write_atomic(
        &prompt_path,
        PROMPT_SCAFFOLD.replace("{project}", name).as_bytes(),
        0o644,
    )?;
    fsutil::write_atomic(&toml_path, text.as_bytes(), 0o644)?;
    crate::output::line(format_args!("wrote {}", toml_path.display()))?;
    crate::output::line(format_args!("wrote {}", prompt_path.display()))?;
    let config_arg = if options.dir.is_some() {
        format!("--config {}", toml_path.display())
    } else {
        name.clone()
    };
    crate::output::line(format_args!(
        "next: edit the prompt, then `agent-runner{} check {config_arg}`",
        ctx.scope.flag()
    ))
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
    let _ = writeln!(t, "command = {}", toml_list(preset.command));
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
            assert_eq!(project.agent.command[0], preset.command[0]);
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
