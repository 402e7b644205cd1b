//! Agent presets: known-good defaults for common agent CLIs, used by `init` and by `[agent] preset`.
//!
//! Presets are data: they name values of the project model, and validation reads them to fill in
//! what a project file leaves out. They never look at a project themselves.

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
    /// What `init` writes as the agent's credential hint (a comment).
    pub credential_hint: &'static str,
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
        credential_hint: "ANTHROPIC_API_KEY = \"/etc/agent-runner/credentials/anthropic.key\"",
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
        credential_hint: "OPENAI_API_KEY = \"/etc/agent-runner/credentials/openai.key\"",
    },
    Preset {
        name: "gemini",
        command: &["gemini", "--yolo", "-o", "stream-json"],
        prompt_arg_template: &["-p", "{prompt}"],
        prompt_delivery: PromptDelivery::Argv,
        env: &[],
        terminal_marker: Some("\"type\":\"result\""),
        stop_signal: StopSignal::Term,
        grace_kill_ignore_patterns: &[],
        output_format: OutputFormat::GeminiStreamJson,
        credential_hint: "GEMINI_API_KEY = \"/etc/agent-runner/credentials/gemini.key\"",
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
        credential_hint: "OPENAI_API_KEY = \"/etc/agent-runner/credentials/openai.key\"",
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
        credential_hint: "API_TOKEN = \"/etc/agent-runner/credentials/token\"",
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
