//! The command line: clap arguments, dispatch to the commands, man page and completions.

pub(crate) mod args;
pub(crate) mod completions;
pub(crate) mod manpages;
pub(crate) mod remote;
pub(crate) mod round_runner;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::args::{Cli, CliCommand};
use crate::config::{ProjectRef, check, import, init};
use crate::context::Context;
use crate::control::{halt, lifecycle as control, watch};
use crate::error::{Result, exit};
use crate::events::catalog;
use crate::observe::{self, diagnose, peek, status};
use crate::output::{self, Paint};
use crate::paths;
use crate::round;
use crate::systemd::{generate, generator};
use crate::web;

/// Parses `args`, runs the command, prints any error once, and returns the exit status.
pub(crate) fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
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
    output::choose_colour(cli.color.into());
    match dispatch(cli, &args) {
        Ok(code) => ExitCode::from(code),
        Err(e) if output::reader_gone(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            print_error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// The one line (or few) of a failed command on stderr, its prefix red on a terminal; the
/// message may quote what the agent wrote, so it goes through the same escaping as reports.
pub(crate) fn print_error(e: &crate::error::Error) {
    let stderr = std::io::stderr();
    let coloured = output::colour_for(std::io::IsTerminal::is_terminal(&stderr));
    let mut err = output::Printable::new(stderr.lock()).coloured(coloured);
    let _ = err
        .paint(output::Tone::Bad, "agent-runner:")
        .and_then(|()| writeln!(err, " {e}"))
        .and_then(|()| err.flush());
}

/// Runs the parsed command; `args` is the command line as given, for `--host` to forward.
/// The projects `generate` renders: the file given, else the names given (none: every project).
fn selection(config: Option<PathBuf>, names: Vec<String>) -> Vec<ProjectRef> {
    match config {
        Some(file) => vec![ProjectRef::File(file)],
        None => names.into_iter().map(ProjectRef::Name).collect(),
    }
}

fn dispatch(cli: Cli, args: &[OsString]) -> Result<u8> {
    let ctx = Context {
        scope: cli.scope(),
        host: cli.host.clone(),
    };
    if let Some(host) = &ctx.host
        && let Some(outcome) = remote::elsewhere(ctx.scope, host, &cli.command, args)
    {
        return outcome;
    }
    match cli.command {
        CliCommand::Init {
            preset,
            project,
            dir,
            work_dir,
            force,
            force_prompts,
        } => init::run(
            &ctx,
            &init::Options {
                preset,
                project,
                dir,
                work_dir,
                force,
                force_prompts,
            },
        )
        .map(|()| exit::OK),
        CliCommand::Import(options) => import::run(&ctx, &options.into()),
        CliCommand::Check { project, json } => check_project(&ctx, project.to_ref(), json),
        CliCommand::Generate {
            names,
            config,
            output,
            dry_run,
            no_reload,
            exec,
            systemd_version,
            json,
        } => {
            let options = generate::Options {
                selection: selection(config, names),
                output,
                dry_run,
                no_reload,
                exec,
                systemd_version,
                json,
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
            let options = observe::events::EventsOptions {
                follow,
                kinds: kind,
                since,
                lines,
                json,
            };
            observe::events::events(&ctx, &project.to_ref()?, &options)
        }
        CliCommand::Logs(args) => {
            observe::logs::logs(&ctx, &args.project.to_ref()?, &(&args).into())
        }
        CliCommand::Diagnose { project, json } => diagnose::run(&ctx, &project.to_ref()?, json),
        CliCommand::Web { listen, idle_exit } => web::run(&ctx, listen.as_deref(), idle_exit),
        CliCommand::Metrics { textfile } => observe::textfile::run(&ctx, textfile.as_deref()),
        CliCommand::Completions { shell } => print_completions(shell),
        CliCommand::ProjectNames => completions::print_project_names(ctx.scope).map(|()| exit::OK),
        CliCommand::Halt { project, step } => halt::run(&ctx, &project.to_ref()?, step.into()),
        CliCommand::Watch { project } => watch::run(&ctx, project.to_ref()),
        CliCommand::Notify { project, test } => crate::notify::run(&ctx, &project.to_ref()?, test),
        CliCommand::Man { output } => manpages::write(&output).map(|()| exit::OK),
        CliCommand::Catalog => catalog::print(),
        CliCommand::Generator { dirs } => generator::run(ctx.scope == paths::Scope::User, &dirs),
    }
}

/// `completions SHELL`: the script on stdout.
fn print_completions(shell: args::Shell) -> Result<u8> {
    output::to_stdout(|out| completions::generate(shell, out)).map(|()| exit::OK)
}

/// `check`, told which systemd the units would be rendered for and which event kinds exist
/// (config/ cannot ask systemd/ nor events/).
fn check_project(ctx: &Context, reference: Option<ProjectRef>, json: bool) -> Result<u8> {
    let systemd = crate::systemd::target::summary(ctx.scope);
    let is_kind = |name: &str| crate::events::Kind::from_name(name).is_some();
    check::run(ctx, reference, json, &systemd, &is_kind)
}
