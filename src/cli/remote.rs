//! `--host` for the read commands (status, peek, events, logs, diagnose): they need the remote
//! host's files and journal, not only its bus, so the whole command line runs there with the
//! agent-runner installed on it (`ssh HOST agent-runner …`). The lifecycle commands instead speak
//! D-Bus to the remote manager ([`crate::systemd::host`]).

use std::ffi::OsString;

use crate::cli::args::CliCommand;
use crate::error::{Error, Result, exit};
use crate::output::shell_quote;
use crate::paths::Scope;
use crate::systemd::errors::unreachable_error;
use crate::systemd::host::{ssh_program, validate_host};

/// What `--host HOST` makes of `command`: the read commands run there (they need its files and
/// journal); the lifecycle commands stay here and talk to its manager (`None`); the others act on
/// this machine's files, so the flag is refused rather than ignored (`generate --host web1` must
/// not rewrite the local units).
pub(crate) fn elsewhere(
    scope: Scope,
    host: &str,
    command: &CliCommand,
    args: &[OsString],
) -> Option<Result<u8>> {
    match command {
        CliCommand::Status { .. }
        | CliCommand::Peek { .. }
        | CliCommand::Events { .. }
        | CliCommand::Logs { .. }
        | CliCommand::Diagnose { .. } => Some(forward(scope, host, args)),
        CliCommand::Start { .. }
        | CliCommand::Stop { .. }
        | CliCommand::Restart { .. }
        | CliCommand::Kill { .. }
        | CliCommand::Enable { .. }
        | CliCommand::Disable { .. } => None,
        _ => Some(Err(Error::Usage(format!(
            "--host works with status, peek, events, logs, diagnose, start, stop, restart, kill, \
             enable and disable; this command acts on this machine's files\n  \
             hint: run it on the host itself: ssh {host} agent-runner{} ...",
            scope.flag()
        )))),
    }
}

/// Runs the command line `args` (program name first) on `host`, without its `--host`, and
/// returns the remote exit status.
pub(crate) fn forward(scope: Scope, host: &str, args: &[OsString]) -> Result<u8> {
    validate_host(host)?;
    let quoted: Vec<String> = without_host(args).iter().map(|a| shell_quote(a)).collect();
    let status = std::process::Command::new(ssh_program())
        .args(["-xT", "--", host])
        .arg(format!("agent-runner {}", quoted.join(" ")))
        .status()
        .map_err(|e| unreachable_error(scope, Some(host), &format!("cannot run ssh: {e}")))?;
    match status.code() {
        // ssh's own failure (cannot connect, no such host).
        Some(255) => Err(unreachable_error(
            scope,
            Some(host),
            "ssh could not connect",
        )),
        Some(code) => Ok(u8::try_from(code).unwrap_or(exit::FAILURE)),
        None => Ok(exit::FAILURE),
    }
}

/// The arguments after the program name, with `--host X`, `--host=X`, `-H X` and `-HX` left out.
fn without_host(args: &[OsString]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip = false;
    for arg in args.iter().skip(1).map(|a| a.to_string_lossy()) {
        if skip {
            skip = false;
            continue;
        }
        if arg == "--host" || arg == "-H" {
            skip = true;
            continue;
        }
        if arg.starts_with("--host=") || (arg.starts_with("-H") && arg.len() > 2) {
            continue;
        }
        kept.push(arg.into_owned());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_arguments_are_quoted() {
        assert_eq!(shell_quote("status"), "status");
        assert_eq!(shell_quote("1h ago"), "'1h ago'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn host_flags_are_left_out() {
        let args: Vec<OsString> = [
            "agent-runner",
            "--host",
            "a",
            "status",
            "-Hb",
            "--host=c",
            "-H",
            "d",
            "x",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        assert_eq!(without_host(&args), ["status", "x"]);
    }
}
