//! Agent presets: known-good defaults for common agent CLIs, used by `init` and by `[agent] preset`.
//!
//! Presets are data: they name values of the project model, and validation reads them to fill in
//! what a project file leaves out. They never look at a project themselves, except to recognise
//! the CLI a project without a preset runs ([`infer`]).
//!
//! What each preset says was read from the CLI's own source and checked by running it (2026-11:
//! claude-code 2.1.332, codex 0.171, gemini-cli 0.61, qwen-code 0.24, pi-coding-agent 0.73 under
//! the rendered units; aider 0.86 and kimi-cli 1.49 from their source).

use super::model::{OutputFormat, PromptDelivery, StopSignal};

/// One preset.
#[derive(Debug)]
pub(super) struct Preset {
    /// Its name (`--preset NAME`).
    pub name: &'static str,
    /// The agent's argv.
    pub command: &'static [&'static str],
    /// Arguments carrying the prompt.
    pub prompt_arg_template: &'static [&'static str],
    /// How the prompt is delivered.
    pub prompt_delivery: PromptDelivery,
    /// Environment for the agent.
    pub env: &'static [(&'static str, &'static str)],
    /// The end-of-work marker in the output.
    pub terminal_marker: Option<&'static str>,
    /// The cooperative stop signal.
    pub stop_signal: StopSignal,
    /// Processes that never keep a finished round alive.
    pub grace_kill_ignore_patterns: &'static [&'static str],
    /// The output parser.
    pub output_format: OutputFormat,
    /// The argument that makes the CLI print what `output_format` parses (and the terminal
    /// marker), when that is not its default output.
    pub output_flag: Option<&'static str>,
    /// Directories below its user's home where the CLI keeps logins, OAuth tokens, sessions and
    /// memory: the rendered units make these writable, the rest of the home stays read-only.
    pub state_paths: &'static [&'static str],
    /// The variable that keeps all of the CLI's state inside one of `state_paths`.
    pub config_dir_env: Option<ConfigDirEnv>,
    /// What `init` writes as the agent's credential hint (a comment).
    pub credential_hint: &'static str,
    /// What to renew or which login to run when the agent cannot authenticate.
    pub auth_hint: &'static str,
}

/// A variable naming the CLI's config directory. Unset, the CLI keeps some files directly in the
/// home, which is read-only under the units; set (by the units, to `dir` below the home), it
/// keeps them inside `dir` too.
#[derive(Debug)]
pub(crate) struct ConfigDirEnv {
    /// The variable.
    pub var: &'static str,
    /// The directory it names, relative to the home: one of the preset's `state_paths`.
    pub dir: &'static str,
    /// The files the CLI keeps in the home when the variable is unset, and in `dir` when set.
    pub home_files: &'static [&'static str],
}

/// Every preset, in the order `init --help` lists them.
pub(super) const ALL: &[Preset] = &[
    Preset {
        name: "claude",
        command: &[
            "claude",
            "--dangerously-skip-permissions",
            "--verbose",
            "--output-format",
            "stream-json",
        ],
        prompt_arg_template: &["-p"],
        prompt_delivery: PromptDelivery::Stdin,
        env: &[("DISABLE_AUTOUPDATER", "1")],
        terminal_marker: Some("\"type\":\"result\""),
        stop_signal: StopSignal::Int,
        grace_kill_ignore_patterns: &["\\.claude/shell-snapshots/snapshot-bash-"],
        output_format: OutputFormat::ClaudeStreamJson,
        output_flag: Some("stream-json"),
        state_paths: &[".claude"],
        // ~/.claude.json is written through a lock directory and a temporary file beside it, so
        // it needs a writable home; with CLAUDE_CONFIG_DIR it lives in ~/.claude instead.
        config_dir_env: Some(ConfigDirEnv {
            var: "CLAUDE_CONFIG_DIR",
            dir: ".claude",
            home_files: &[".claude.json"],
        }),
        credential_hint: "ANTHROPIC_API_KEY = \"/etc/agent-runner/credentials/anthropic.key\"",
        auth_hint: "renew ANTHROPIC_API_KEY in [agent.credentials], or log in again as the user rounds run as: `claude` then `/login` (a subscription), or `claude setup-token` for CLAUDE_CODE_OAUTH_TOKEN",
    },
    Preset {
        name: "codex",
        command: &[
            "codex",
            "exec",
            "--dangerously-bypass-approvals-and-sandbox",
            "--json",
        ],
        prompt_arg_template: &["-"],
        prompt_delivery: PromptDelivery::Stdin,
        env: &[],
        terminal_marker: None,
        stop_signal: StopSignal::Term,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::CodexJson,
        output_flag: Some("--json"),
        state_paths: &[".codex"],
        config_dir_env: None,
        credential_hint: "OPENAI_API_KEY = \"/etc/agent-runner/credentials/openai.key\"",
        auth_hint: "renew OPENAI_API_KEY in [agent.credentials], or log in again as the user rounds run as: `codex login`",
    },
    Preset {
        name: "gemini",
        command: &["gemini", "--yolo", "-o", "stream-json"],
        // Headless gemini reads the prompt from stdin, which keeps it out of `ps`.
        prompt_arg_template: &[],
        prompt_delivery: PromptDelivery::Stdin,
        // In a folder it was never told to trust, gemini quietly turns --yolo back into asking
        // for approval, which nobody answers.
        env: &[("GEMINI_CLI_TRUST_WORKSPACE", "true")],
        terminal_marker: Some("\"type\":\"result\""),
        stop_signal: StopSignal::Term,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::GeminiStreamJson,
        output_flag: Some("stream-json"),
        state_paths: &[".gemini"],
        config_dir_env: None,
        credential_hint: "GEMINI_API_KEY = \"/etc/agent-runner/credentials/gemini.key\"",
        auth_hint: "renew GEMINI_API_KEY in [agent.credentials] (a 400 API_KEY_INVALID means the key itself is wrong), or log in again as the user rounds run as by running `gemini` once",
    },
    Preset {
        name: "aider",
        command: &[
            "aider",
            "--yes-always",
            "--no-stream",
            "--analytics-disable",
            "--no-check-update",
        ],
        prompt_arg_template: &["--message-file", "{prompt_file}"],
        prompt_delivery: PromptDelivery::File,
        env: &[],
        terminal_marker: None,
        stop_signal: StopSignal::Term,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::Text,
        output_flag: None,
        state_paths: &[".aider"],
        config_dir_env: None,
        credential_hint: "OPENAI_API_KEY = \"/etc/agent-runner/credentials/openai.key\"",
        auth_hint: "renew the model provider's API key in [agent.credentials] (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...)",
    },
    Preset {
        name: "kimi",
        // Print mode approves every tool call by itself; its stream-json is one message a line,
        // with provider errors as plain text between them and no closing record.
        command: &["kimi", "--print", "--output-format", "stream-json"],
        prompt_arg_template: &[],
        prompt_delivery: PromptDelivery::Stdin,
        env: &[],
        terminal_marker: None,
        // SIGINT cancels the turn and exits; SIGTERM kills it outright.
        stop_signal: StopSignal::Int,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::Text,
        output_flag: None,
        state_paths: &[".kimi"],
        config_dir_env: None,
        credential_hint: "KIMI_API_KEY = \"/etc/agent-runner/credentials/kimi.key\"",
        auth_hint: "renew KIMI_API_KEY in [agent.credentials], or the login kimi keeps in ~/.kimi of the user rounds run as",
    },
    Preset {
        name: "pi",
        // JSON mode is print mode with one event a line; the prompt comes from stdin.
        command: &["pi", "--mode", "json"],
        prompt_arg_template: &[],
        prompt_delivery: PromptDelivery::Stdin,
        env: &[("PI_SKIP_VERSION_CHECK", "1")],
        // Each attempt ends with agent_end (a retried one too): the marker only ever arms the
        // grace for processes left once pi itself has exited.
        terminal_marker: Some("\"type\":\"agent_end\""),
        // Print mode ends cleanly on SIGTERM; it has no SIGINT handler.
        stop_signal: StopSignal::Term,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::Text,
        output_flag: Some("json"),
        state_paths: &[".pi"],
        config_dir_env: None,
        credential_hint: "ANTHROPIC_API_KEY = \"/etc/agent-runner/credentials/anthropic.key\"",
        auth_hint: "renew the provider's API key in [agent.credentials] (ANTHROPIC_API_KEY, OPENAI_API_KEY, ...), or the login pi keeps in ~/.pi of the user rounds run as",
    },
    Preset {
        name: "qwen",
        // A gemini-cli fork whose stream-json took claude's shape: system/init, assistant and a
        // closing {"type":"result","is_error":…,"usage":{…}}; the prompt comes from stdin.
        command: &["qwen", "--yolo", "--output-format", "stream-json"],
        prompt_arg_template: &[],
        prompt_delivery: PromptDelivery::Stdin,
        env: &[],
        terminal_marker: Some("\"type\":\"result\""),
        stop_signal: StopSignal::Term,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::ClaudeStreamJson,
        output_flag: Some("stream-json"),
        state_paths: &[".qwen"],
        config_dir_env: None,
        credential_hint: "OPENAI_API_KEY = \"/etc/agent-runner/credentials/openai.key\"",
        auth_hint: "renew OPENAI_API_KEY in [agent.credentials], or log in again as the user rounds run as by running `qwen` once (`/auth`)",
    },
    Preset {
        name: "shell",
        command: &["./agent.sh"],
        prompt_arg_template: &[],
        prompt_delivery: PromptDelivery::Stdin,
        env: &[],
        terminal_marker: None,
        stop_signal: StopSignal::Term,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::Text,
        output_flag: None,
        state_paths: &[],
        config_dir_env: None,
        credential_hint: "API_TOKEN = \"/etc/agent-runner/credentials/token\"",
        auth_hint: "renew the credential the agent uses ([agent.credentials] or its own login)",
    },
];

/// The preset called `name`.
pub(super) fn find(name: &str) -> Option<&'static Preset> {
    ALL.iter().find(|p| p.name == name)
}

/// Every preset name.
pub(crate) fn names() -> Vec<&'static str> {
    ALL.iter().map(|p| p.name).collect()
}

/// The preset whose CLI a command without a preset runs: its program's file name is the preset's
/// program (`/usr/local/bin/claude` is claude). `machine_output` says whether the command asks for
/// the output the preset's parser and terminal marker read.
pub(super) fn infer(command: &[String]) -> Option<Inferred> {
    let program = command.first()?;
    let name = program.rsplit('/').next().unwrap_or(program);
    let preset = ALL
        .iter()
        .find(|p| !p.command[0].contains('/') && p.command[0] == name)?;
    let machine_output = preset.output_flag.is_none_or(|flag| {
        command[1..]
            .iter()
            .any(|a| a == flag || a.strip_suffix(flag).is_some_and(|f| f.ends_with('=')))
    });
    Some(Inferred {
        preset,
        machine_output,
    })
}

/// A preset recognised from a command.
#[derive(Debug, Clone, Copy)]
pub(super) struct Inferred {
    /// The preset.
    pub preset: &'static Preset,
    /// The command asks for the output the preset's parser reads.
    pub machine_output: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inferred(command: &[&str]) -> Option<(&'static str, bool)> {
        let command: Vec<String> = command.iter().map(ToString::to_string).collect();
        infer(&command).map(|i| (i.preset.name, i.machine_output))
    }

    #[test]
    fn a_command_is_recognised_by_its_program_name() {
        assert_eq!(
            inferred(&["/opt/bin/claude", "-p", "--output-format", "stream-json"]),
            Some(("claude", true))
        );
        assert_eq!(
            inferred(&["claude", "--output-format=stream-json"]),
            Some(("claude", true))
        );
        assert_eq!(inferred(&["claude", "-p"]), Some(("claude", false)));
        assert_eq!(
            inferred(&["codex", "exec", "--json"]),
            Some(("codex", true))
        );
        assert_eq!(inferred(&["pi", "--mode", "json"]), Some(("pi", true)));
        assert_eq!(inferred(&["qwen", "-p", "x"]), Some(("qwen", false)));
        assert_eq!(inferred(&["aider"]), Some(("aider", true)));
        assert_eq!(inferred(&["kimi", "--print"]), Some(("kimi", true)));
        assert_eq!(inferred(&["claude-wrapper", "stream-json"]), None);
        assert_eq!(inferred(&["./agent.sh"]), None);
        assert_eq!(inferred(&["agent.sh"]), None);
        assert_eq!(inferred(&[]), None);
    }

    #[test]
    fn every_state_path_is_a_plain_relative_directory() {
        for preset in ALL {
            for path in preset.state_paths {
                assert!(
                    !path.is_empty()
                        && !path.starts_with('/')
                        && path
                            .split('/')
                            .all(|c| !c.is_empty() && c != "." && c != ".."),
                    "{}: {path}",
                    preset.name
                );
            }
            if let Some(env) = &preset.config_dir_env {
                assert!(preset.state_paths.contains(&env.dir), "{}", preset.name);
            }
        }
    }
}
