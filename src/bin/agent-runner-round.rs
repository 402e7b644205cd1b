//! `agent-runner-round`: one round, what the round service runs (`agent-runner round` without the
//! other commands). All logic lives in the library; this file only maps its outcome to the exit status.

fn main() -> std::process::ExitCode {
    agent_runner::run_round(std::env::args_os())
}
