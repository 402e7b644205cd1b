//! `[agent]`: the command, how the prompt reaches it, its environment, credentials and state
//! paths. A preset fills in whatever the file leaves out; without one, the CLI the command runs
//! is recognised by its program name and supplies how it is stopped and read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::checker::Checker;
use super::resolve::Resolver;
use super::state;
use crate::config::model::{Agent, OutputFormat, PromptDelivery, StopSignal};
use crate::config::presets::{self, Inferred, Preset};
use crate::config::problems::echoed;
use crate::config::raw::RawAgent;

/// Where the agent's defaults come from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Defaults {
    /// No preset, and a command no preset runs (or a preset name that is unknown).
    None,
    /// The preset `[agent] preset` names: every default.
    Named(&'static Preset),
    /// The preset whose program the command runs: how it is stopped, where it keeps its state,
    /// and (when the command asks for that output) how its output is read.
    Inferred(Inferred),
}

impl Defaults {
    /// The named preset, or the one the command is recognised as when the file names none.
    pub(super) fn of(named: Option<&'static Preset>, raw: &RawAgent) -> Self {
        match (named, &raw.preset, &raw.command) {
            (Some(p), _, _) => Defaults::Named(p),
            (None, None, Some(command)) => {
                presets::infer(command).map_or(Defaults::None, Defaults::Inferred)
            }
            _ => Defaults::None,
        }
    }

    fn named(self) -> Option<&'static Preset> {
        match self {
            Defaults::Named(p) => Some(p),
            _ => None,
        }
    }

    /// The preset of the CLI that runs, named or recognised.
    fn cli(self) -> Option<&'static Preset> {
        match self {
            Defaults::None => None,
            Defaults::Named(p) | Defaults::Inferred(Inferred { preset: p, .. }) => Some(p),
        }
    }

    /// The preset whose parser, terminal marker and grace exceptions read the agent's output:
    /// a recognised one only when the command asks for the output they read.
    pub(super) fn output(self) -> Option<&'static Preset> {
        match self {
            Defaults::Inferred(Inferred {
                machine_output: false,
                ..
            }) => None,
            other => other.cli(),
        }
    }
}

/// The preset named by `[agent] preset`, if it is a known one.
pub(super) fn preset(c: &mut Checker<'_, '_>, name: Option<&str>) -> Option<&'static Preset> {
    let name = name?;
    let found = presets::find(name);
    if found.is_none() {
        c.fail_hint(
            &["agent", "preset"],
            format!("unknown preset \"{}\"", echoed(name)),
            format!("known presets: {}", presets::names().join(", ")),
        );
    }
    found
}

/// `[agent]`, with the defaults of `defaults`.
pub(super) fn agent(
    c: &mut Checker<'_, '_>,
    raw: &RawAgent,
    defaults: Defaults,
    paths: &Resolver<'_>,
) -> Agent {
    let preset = defaults.named();
    let command = command(c, raw, preset);
    let prompt_delivery = c.choice(
        &["agent", "prompt_delivery"],
        raw.prompt_delivery.as_deref(),
        &[
            ("stdin", PromptDelivery::Stdin),
            ("argv", PromptDelivery::Argv),
            ("file", PromptDelivery::File),
        ],
        preset.map_or(PromptDelivery::Stdin, |p| p.prompt_delivery),
    );
    let prompt_arg_template = raw
        .prompt_arg_template
        .clone()
        .or_else(|| preset.map(|p| owned(p.prompt_arg_template)))
        .unwrap_or_default();
    check_prompt_arguments(c, prompt_delivery, &prompt_arg_template);
    let env = env(c, raw, preset);
    let credentials = credentials(c, raw, paths);
    let stop_signal = c.choice(
        &["agent", "stop_signal"],
        raw.stop_signal.as_deref(),
        &[
            ("SIGINT", StopSignal::Int),
            ("SIGTERM", StopSignal::Term),
            ("INT", StopSignal::Int),
            ("TERM", StopSignal::Term),
        ],
        defaults.cli().map_or(StopSignal::Term, |p| p.stop_signal),
    );
    // An empty marker switches off the preset's.
    let terminal_marker = match raw.terminal_marker.clone() {
        Some(m) if m.is_empty() => None,
        Some(m) => Some(m),
        None => defaults
            .output()
            .and_then(|p| p.terminal_marker)
            .map(ToString::to_string),
    };
    let output_format = defaults
        .output()
        .map_or(OutputFormat::Text, |p| p.output_format);
    let state_paths = state::state_paths(c, raw.state_paths.as_deref(), defaults.cli());
    let config_dir_env = state::config_dir_env(defaults.cli(), &env, &state_paths);
    Agent {
        command,
        prompt_arg_template,
        prompt_delivery,
        env,
        credentials,
        terminal_marker,
        preset: preset.map(|p| p.name.to_string()),
        stop_signal,
        output_format,
        inferred_preset: match defaults {
            Defaults::Inferred(i) => Some(i.preset.name.to_string()),
            _ => None,
        },
        state_paths,
        config_dir_env,
        preset_auth_hint: defaults.cli().map(|p| p.auth_hint.to_string()),
        account: super::spend::account(c, raw.account.as_deref()),
        exec_prefix: exec_prefix(c, raw.exec_prefix.as_deref()),
    }
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

/// The agent's argv: the file's, else the preset's; one of them must name a program.
fn command(c: &mut Checker<'_, '_>, raw: &RawAgent, preset: Option<&Preset>) -> Vec<String> {
    let command = raw
        .command
        .clone()
        .or_else(|| preset.map(|p| owned(p.command)));
    match command {
        None => {
            c.fail_hint(
                &["agent", "command"],
                "missing `command`",
                "set [agent] command = [\"your-agent\", \"--flag\"], or a preset",
            );
            Vec::new()
        }
        Some(cmd) if cmd.is_empty() || cmd[0].trim().is_empty() => {
            c.fail(
                &["agent", "command"],
                "must name a program: the list is empty or its first element is blank",
            );
            Vec::new()
        }
        Some(cmd) => {
            if cmd.iter().any(|a| a.contains('\0')) {
                c.fail(
                    &["agent", "command"],
                    "arguments must not contain NUL characters",
                );
            }
            cmd
        }
    }
}

/// `exec_prefix`: absent or empty is none; else a program and its arguments, like a command.
fn exec_prefix(c: &mut Checker<'_, '_>, raw: Option<&[String]>) -> Vec<String> {
    match raw {
        None | Some([]) => Vec::new(),
        Some(prefix) => super::progress::check_cmd(c, &["agent", "exec_prefix"], Some(prefix))
            .unwrap_or_default(),
    }
}

/// The placeholders in `prompt_arg_template` must match how the prompt is delivered.
fn check_prompt_arguments(c: &mut Checker<'_, '_>, delivery: PromptDelivery, template: &[String]) {
    let has = |token: &str| template.iter().any(|a| a.contains(token));
    match delivery {
        PromptDelivery::Argv if !has("{prompt}") => c.fail_hint(
            &["agent", "prompt_arg_template"],
            "prompt_delivery = \"argv\" needs `{prompt}` in prompt_arg_template",
            "e.g. prompt_arg_template = [\"-p\", \"{prompt}\"], or use prompt_delivery = \"stdin\"",
        ),
        PromptDelivery::File if !has("{prompt_file}") => c.fail_hint(
            &["agent", "prompt_arg_template"],
            "prompt_delivery = \"file\" needs `{prompt_file}` in prompt_arg_template",
            "e.g. prompt_arg_template = [\"--message-file\", \"{prompt_file}\"]",
        ),
        PromptDelivery::Stdin | PromptDelivery::File if has("{prompt}") => c.fail_hint(
            &["agent", "prompt_arg_template"],
            "`{prompt}` in prompt_arg_template only works with prompt_delivery = \"argv\"",
            "remove it (the prompt goes to stdin), or set prompt_delivery = \"argv\"",
        ),
        _ => {}
    }
}

/// `[agent.env]` over the preset's environment.
fn env(
    c: &mut Checker<'_, '_>,
    raw: &RawAgent,
    preset: Option<&Preset>,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = preset
        .map(|p| {
            p.env
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        })
        .unwrap_or_default();
    for (key, value) in &raw.env {
        if !valid_env_name(key) {
            c.fail(
                &["agent", "env", key],
                format!("`{}` is not a valid environment variable name", echoed(key)),
            );
        } else if key.starts_with("AGENT_RUNNER_") {
            c.fail(
                &["agent", "env", key],
                "names starting with AGENT_RUNNER_ are set by agent-runner itself",
            );
        } else if value.contains('\0') {
            c.fail(
                &["agent", "env", key],
                "the value must not contain NUL characters",
            );
        }
        env.insert(key.clone(), value.clone());
    }
    env
}

/// `[agent.credentials]`: credential name → the file holding the secret (beside the TOML file
/// when relative).
fn credentials(
    c: &mut Checker<'_, '_>,
    raw: &RawAgent,
    paths: &Resolver<'_>,
) -> BTreeMap<String, PathBuf> {
    let mut credentials = BTreeMap::new();
    for (cred, file) in &raw.credentials {
        if !valid_credential_name(cred) {
            c.fail(
                &["agent", "credentials", cred],
                format!(
                    "`{}` is not a valid credential name (letters, digits, `_-.@`)",
                    echoed(cred)
                ),
            );
            continue;
        }
        let key = ["agent", "credentials", cred.as_str()];
        if file.trim().is_empty() {
            c.fail(&key, "must be the path of the file holding the secret");
            continue;
        }
        if !c.free_of_control_chars(&key, file) {
            continue;
        }
        credentials.insert(cred.clone(), paths.beside_file(file));
    }
    credentials
}

pub(in crate::config) fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_credential_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}
