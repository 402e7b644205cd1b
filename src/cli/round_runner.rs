//! `agent-runner-round`: the round alone, what the round service's `ExecStart=` runs. Same round
//! as `agent-runner round`, in a binary without the rest of the commands: a round maps the code it
//! touches in 64 KiB windows, so less code beside it is a smaller peak (bench/README.md).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt as _;
use std::process::ExitCode;

use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, exit};
use crate::paths::{ROUND_RUNNER, Scope};
use crate::round;

const USAGE: &str = "\
Usage: agent-runner-round [--user] <NAME | --config FILE>

Runs exactly one round of a project: the round service's ExecStart= runs it, and it does what
`agent-runner round` does (see agent-runner(1)). NAME is /etc/agent-runner/NAME.toml, or
~/.config/agent-runner/NAME.toml with --user; --config reads the given TOML file.

Exit status: 0 a round that worked, 75 a transient failure, 78 a broken configuration, 1 a crash,
124 a timeout; 2 a wrong command line.
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Round(Scope, ProjectRef),
    Help,
    Version,
}

/// Runs the round `args` name (the first is the program's name) and returns its exit status.
pub(crate) fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    match parse(args.into_iter().skip(1).collect()) {
        Ok(Request::Round(scope, reference)) => {
            let ctx = Context { scope, host: None };
            match round::run(&ctx, &reference) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    super::print_error(&e);
                    ExitCode::from(e.exit_code())
                }
            }
        }
        Ok(Request::Help) => print(USAGE),
        Ok(Request::Version) => print(&format!("{ROUND_RUNNER} {}\n", env!("CARGO_PKG_VERSION"))),
        Err(e) => {
            super::print_error(&e);
            let _ = writeln!(std::io::stderr(), "  try: {ROUND_RUNNER} --help");
            ExitCode::from(exit::USAGE)
        }
    }
}

fn print(text: &str) -> ExitCode {
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::from(exit::OK)
}

/// `[--user] NAME`, `[--user] --config FILE` (or `-c FILE`, `--config=FILE`), `--help`,
/// `--version`: few enough that a parser of its own costs less than clap's code in the binary.
fn parse(args: Vec<OsString>) -> Result<Request, Error> {
    let mut user = false;
    let mut reference = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        let next = match text.as_ref() {
            "-h" | "--help" => return Ok(Request::Help),
            "-V" | "--version" => return Ok(Request::Version),
            "--user" => {
                user = true;
                continue;
            }
            "-c" | "--config" => ProjectRef::File(
                args.next()
                    .ok_or_else(|| Error::Usage(format!("{text} needs a FILE")))?
                    .into(),
            ),
            // From the bytes, not the lossy text: a path need not be UTF-8.
            _ if text.starts_with("--config=") => {
                ProjectRef::File(OsStr::from_bytes(&arg.as_bytes()["--config=".len()..]).into())
            }
            _ if text.starts_with('-') => {
                return Err(Error::Usage(format!("unknown option {text}")));
            }
            _ => ProjectRef::Name(arg.into_string().map_err(|name| {
                Error::Usage(format!("{} is not a valid project name", name.display()))
            })?),
        };
        if reference.replace(next).is_some() {
            return Err(Error::Usage(
                "name one project, or give one --config FILE".into(),
            ));
        }
    }
    let reference =
        reference.ok_or_else(|| Error::Usage("name a project, or give --config FILE".into()))?;
    Ok(Request::Round(Scope::from_user_flag(user), reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Request, String> {
        parse(args.iter().map(OsString::from).collect()).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_what_the_units_and_operators_write() {
        let system = |r| Ok(Request::Round(Scope::System, r));
        let user = |r| Ok(Request::Round(Scope::User, r));
        let name = || ProjectRef::Name("demo".into());
        let file = || ProjectRef::File("/etc/agent-runner/demo.toml".into());
        assert_eq!(parsed(&["demo"]), system(name()));
        assert_eq!(parsed(&["--user", "demo"]), user(name()));
        assert_eq!(parsed(&["demo", "--user"]), user(name()));
        assert_eq!(
            parsed(&["--config", "/etc/agent-runner/demo.toml"]),
            system(file())
        );
        assert_eq!(
            parsed(&["--user", "-c", "/etc/agent-runner/demo.toml"]),
            user(file())
        );
        assert_eq!(
            parsed(&["--config=/etc/agent-runner/demo.toml"]),
            system(file())
        );
        assert_eq!(parsed(&["demo", "--help"]), Ok(Request::Help));
        assert_eq!(parsed(&["-V"]), Ok(Request::Version));
    }

    #[test]
    fn a_config_path_keeps_its_bytes() {
        use std::os::unix::ffi::OsStringExt;
        let arg = OsString::from_vec(b"--config=/etc/agent-runner/d\xffmo.toml".to_vec());
        let path = OsStr::from_bytes(b"/etc/agent-runner/d\xffmo.toml");
        assert_eq!(
            parse(vec![arg]).map_err(|e| e.to_string()),
            Ok(Request::Round(Scope::System, ProjectRef::File(path.into())))
        );
    }

    #[test]
    fn a_wrong_command_line_says_what_is_wrong() {
        assert_eq!(
            parsed(&[]),
            Err("name a project, or give --config FILE".into())
        );
        assert_eq!(parsed(&["--config"]), Err("--config needs a FILE".into()));
        assert_eq!(
            parsed(&["a", "b"]),
            Err("name one project, or give one --config FILE".into())
        );
        assert_eq!(
            parsed(&["demo", "--config", "x.toml"]),
            Err("name one project, or give one --config FILE".into())
        );
        assert_eq!(parsed(&["--now"]), Err("unknown option --now".into()));
    }
}
