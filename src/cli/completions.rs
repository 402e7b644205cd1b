//! Shell completions (bash, zsh, fish), generated from the clap definition like agent-runner(1).
//!
//! The package installs them from packaging/completions/, where they are committed so that
//! `cargo deb` needs nothing run before it; a test keeps each file equal to what
//! `agent-runner completions SHELL` prints.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::args::{Cli, Shell};

/// Writes the completion script for `shell` into `out`.
pub(crate) fn generate(shell: Shell, out: &mut dyn Write) {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut Cli::command(), "agent-runner", out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripts the package installs, as committed.
    const COMMITTED: [(Shell, &str, &str); 3] = [
        (
            Shell::Bash,
            "agent-runner.bash",
            include_str!("../../packaging/completions/agent-runner.bash"),
        ),
        (
            Shell::Zsh,
            "agent-runner.zsh",
            include_str!("../../packaging/completions/agent-runner.zsh"),
        ),
        (
            Shell::Fish,
            "agent-runner.fish",
            include_str!("../../packaging/completions/agent-runner.fish"),
        ),
    ];

    #[test]
    fn committed_scripts_are_the_generated_ones() {
        for (shell, file, committed) in COMMITTED {
            let mut generated = Vec::new();
            generate(shell, &mut generated);
            assert!(
                committed.as_bytes() == generated,
                "packaging/completions/{file} is out of date with the command line; regenerate it with\n  packaging/generate-assets.sh"
            );
        }
    }
}
