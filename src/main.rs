//! `agent-runner`: keeps an autonomous CLI coding agent working round after round under systemd.
//! All logic lives in the library; this file only maps its outcome to the process exit status.

fn main() -> std::process::ExitCode {
    agent_runner::run(std::env::args_os())
}
