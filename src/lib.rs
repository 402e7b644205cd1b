//! agent-runner: a declarative systemd unit generator and a oneshot round runner for autonomous
//! CLI coding agents.
//!
//! Data flows config → render → units on disk → systemd → round → events; docs/architecture.md
//! draws it. The binary's `main` only calls [`run`].

pub mod bus;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod config;
pub mod control;
pub mod diagnose;
pub mod error;
pub mod event;
pub mod fsutil;
pub mod generate;
pub mod generator;
pub mod halt;
pub mod init;
pub mod manpages;
pub mod observe;
pub mod paths;
pub mod peek;
pub mod presets;
pub mod redact;
pub mod render;
pub mod round;
pub mod schedule;
pub mod state;
pub mod status;
pub mod sysver;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, CliCommand, ProjectRef};
use crate::error::{ConfigProblem, Error, Result, exit};
use crate::paths::Scope;

/// What every command gets besides its own options: which manager, which host.
#[derive(Debug, Clone)]
pub struct Context {
    /// System or user manager.
    pub scope: Scope,
    /// A remote host to reach over SSH, if any.
    pub host: Option<String>,
}

/// Parses `args`, runs the command, prints any error once, and returns the exit status.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "agent-runner: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8> {
    let ctx = Context {
        scope: cli.scope(),
        host: cli.host.clone(),
    };
    match cli.command {
        CliCommand::Init {
            preset,
            project,
            dir,
            work_dir,
            force,
        } => init::run(
            &ctx,
            &init::Options {
                preset,
                project,
                dir,
                work_dir,
                force,
            },
        )
        .map(|()| exit::OK),
        CliCommand::Check { project, json } => check::run(&ctx, project.to_ref(), json),
        CliCommand::Generate {
            names,
            config,
            output,
            dry_run,
            no_reload,
            exec,
            systemd_version,
        } => {
            let selection = match config {
                Some(file) => vec![ProjectRef::File(file)],
                None => names.into_iter().map(ProjectRef::Name).collect(),
            };
            let options = generate::Options {
                selection,
                output,
                dry_run,
                no_reload,
                exec,
                systemd_version,
            };
            generate::run(&ctx, &options).map(|()| exit::OK)
        }
        CliCommand::Round { project } => round::run(&ctx, &project.to_ref()?),
        CliCommand::Checkin => round::checkin().map(|()| exit::OK),
        CliCommand::Start { project } => control::start(&ctx, &project.to_ref()?),
        CliCommand::Stop { project, now } => control::stop(&ctx, &project.to_ref()?, now),
        CliCommand::Restart { project } => control::restart(&ctx, &project.to_ref()?),
        CliCommand::Kill { project } => control::kill(&ctx, &project.to_ref()?),
        CliCommand::Enable { project, now } => control::enable(&ctx, &project.to_ref()?, now),
        CliCommand::Disable { project, now } => control::disable(&ctx, &project.to_ref()?, now),
        CliCommand::Status { project, json } => status::run(&ctx, project.to_ref(), json),
        CliCommand::Peek {
            project,
            round,
            log,
            json,
        } => peek::run(&ctx, &project.to_ref()?, round, log, json),
        CliCommand::Events {
            project,
            follow,
            kind,
            since,
            lines,
            json,
        } => {
            let options = observe::EventsOptions {
                follow,
                kinds: kind,
                since,
                lines,
                json,
            };
            observe::events(&ctx, &project.to_ref()?, &options)
        }
        CliCommand::Logs {
            project,
            round,
            follow,
            json,
        } => observe::logs(&ctx, &project.to_ref()?, round, follow, json),
        CliCommand::Diagnose { project, json } => diagnose::run(&ctx, &project.to_ref()?, json),
        CliCommand::Completions { shell } => {
            let shell = match shell {
                cli::Shell::Bash => clap_complete::Shell::Bash,
                cli::Shell::Zsh => clap_complete::Shell::Zsh,
                cli::Shell::Fish => clap_complete::Shell::Fish,
            };
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "agent-runner", &mut std::io::stdout());
            Ok(exit::OK)
        }
        CliCommand::Halt { project, step } => halt::run(&ctx, &project.to_ref()?, step),
        CliCommand::Man { output } => manpages::write(&output).map(|()| exit::OK),
        CliCommand::Catalog => catalog::print(),
        CliCommand::Generator { dirs } => generator::run(ctx.scope == paths::Scope::User, &dirs),
    }
}

/// Loads the project a command names, with the errors operators need: an invalid name states the
/// rule, an unknown one lists the known projects.
pub fn load_project(reference: &ProjectRef, scope: Scope) -> Result<config::Project> {
    match reference {
        ProjectRef::File(path) => config::load(path, scope),
        ProjectRef::Name(name) => {
            if !config::valid_project_name(name) {
                return Err(Error::config(ConfigProblem::new(
                    scope.config_dir(),
                    format!(
                        "invalid project name {name:?}: a project name is {}",
                        config::PROJECT_NAME_RULE
                    ),
                )));
            }
            let path = config::path_for(name, scope);
            if !path.exists() {
                let known: Vec<String> = config::discover(scope)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                    .collect();
                let hint = if known.is_empty() {
                    format!(
                        "no projects in {}; create one with `agent-runner{} init --preset shell {name}`",
                        scope.config_dir().display(),
                        scope.flag()
                    )
                } else {
                    format!("known projects: {}", known.join(", "))
                };
                return Err(Error::config(
                    ConfigProblem::new(path, format!("no project named {name:?}")).hint(hint),
                ));
            }
            config::load(&path, scope)
        }
    }
}
