//! `agent-runner generate`: projects' TOML → unit files on disk → systemd reloaded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config;
use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{ConfigProblem, Error, Result};
use crate::fsutil;
use crate::render::features::Features;
use crate::render::{self, RenderOptions, SOURCE_MARK, UnitFile};
use crate::systemd::{target, version};
use crate::units::{DROP_IN_NAME, Unit};

/// Options of `generate`, validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Projects to render; every project of the config directory when empty.
    pub selection: Vec<ProjectRef>,
    /// Write the complete set into this directory instead of the unit directory.
    pub output: Option<PathBuf>,
    /// Print instead of writing.
    pub dry_run: bool,
    /// Do not reload systemd.
    pub no_reload: bool,
    /// The binary ExecStart= runs.
    pub exec: Option<PathBuf>,
    /// The systemd version to target.
    pub systemd_version: Option<u32>,
}

/// What one run wrote and removed.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Files written (changed or new), absolute.
    pub written: Vec<PathBuf>,
    /// Files left as they were because their contents did not change.
    pub unchanged: usize,
    /// Stale generated files removed, absolute.
    pub removed: Vec<PathBuf>,
}

/// Runs `generate`.
pub(crate) fn run(ctx: &Context, options: &Options) -> Result<()> {
    let scope = ctx.scope;
    let exec = exec_path(options)?;
    let version = match options.systemd_version {
        Some(v) => v,
        None if options.output.is_some() || options.dry_run || options.no_reload => {
            version::installed_version().unwrap_or(version::FLOOR)
        }
        None => target::running(scope),
    };
    if version < version::FLOOR {
        return Err(Error::Usage(format!(
            "systemd {version} is older than {}, the oldest agent-runner supports",
            version::FLOOR
        )));
    }
    let render_options = RenderOptions {
        exec,
        features: Features::of(version),
        source_path: false,
    };

    let all_projects = options.selection.is_empty();
    let references: Vec<ProjectRef> = if all_projects {
        config::discover(scope)?
            .into_iter()
            .map(ProjectRef::File)
            .collect()
    } else {
        options.selection.clone()
    };

    let Loaded {
        mut files,
        names,
        problems,
        battery_warnings,
    } = load(&references, scope, &render_options)?;

    let unit_dir = options.output.clone().unwrap_or_else(|| scope.unit_dir());
    let packaged = scope
        .packaged_unit_dir()
        .join(Unit::Round.template())
        .exists();
    if options.output.is_some() || !packaged {
        files.splice(0..0, render::templates(scope, &render_options.exec));
    }

    if options.dry_run {
        crate::output::to_stdout(|out| {
            files.iter().try_for_each(|file| {
                write!(
                    out,
                    "---{}---\n{}",
                    unit_dir.join(&file.path).display(),
                    file.contents
                )
            })
        })?;
    } else {
        let outcome = write_files(&unit_dir, &files, all_projects && options.output.is_none())?;
        report(&outcome, &names)?;
        ensure_alerts_dir(scope, options);
        let reload = !options.no_reload && options.output.is_none();
        if reload && (!outcome.written.is_empty() || !outcome.removed.is_empty()) {
            crate::systemd::bus::reload(scope).map_err(|e| match e {
                Error::Unavailable(msg) => Error::Unavailable(format!(
                    "units written, but systemd was not reloaded: {msg}\n  hint: run `systemctl{} daemon-reload` once systemd is up, or pass --no-reload",
                    scope.flag()
                )),
                other => other,
            })?;
        }
    }
    warn(&battery_warnings, scope);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(problems))
    }
}

/// The selected projects, rendered: their unit files and names, the problems of the files that
/// are not valid, and the startup battery's errors of those that are.
struct Loaded {
    files: Vec<UnitFile>,
    names: BTreeSet<String>,
    problems: Vec<ConfigProblem>,
    battery_warnings: Vec<String>,
}

fn load(
    references: &[ProjectRef],
    scope: crate::paths::Scope,
    render_options: &RenderOptions,
) -> Result<Loaded> {
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let mut files: Vec<UnitFile> = Vec::new();
    let mut names = BTreeSet::new();
    let mut battery_warnings = Vec::new();
    for reference in references {
        match config::load_project_with_text(reference, scope) {
            Ok((project, text)) => {
                if !names.insert(project.name.clone()) {
                    problems.push(ConfigProblem::new(
                        &project.source,
                        format!(
                            "project name {:?} is used by another file too",
                            project.name
                        ),
                    ));
                    continue;
                }
                if let Some(problem) = config::verify_schedule(&project) {
                    problems.push(problem);
                    continue;
                }
                files.extend(render::render_project(&project, &text, render_options)?);
                battery_warnings.extend(battery_problems(&project));
            }
            Err(Error::Config(p)) => problems.extend(p),
            Err(e) => return Err(e),
        }
    }

    Ok(Loaded {
        files,
        names,
        problems,
        battery_warnings,
    })
}

/// Each startup-battery error of a valid project, as a warning on stderr.
fn warn(battery_warnings: &[String], scope: crate::paths::Scope) {
    for warning in battery_warnings {
        eprintln!("agent-runner: warning: {warning}");
    }
    if !battery_warnings.is_empty() {
        eprintln!(
            "  hint: `agent-runner{} check` says how to fix each",
            scope.flag()
        );
    }
}

/// The startup battery's errors for a project whose file is valid, one line each: its units are
/// written all the same (the operator may be about to create the missing piece), but its rounds
/// would stop on each of these, which `generate` says rather than reporting plain success.
fn battery_problems(project: &config::Project) -> Vec<String> {
    let name = &project.name;
    config::battery::errors(project)
        .into_iter()
        .map(|finding| {
            format!(
                "{name}: {}; its rounds stop on this until it is fixed",
                finding.message
            )
        })
        .collect()
}

/// The binary the units run: `--exec`, else this one.
fn exec_path(options: &Options) -> Result<PathBuf> {
    match &options.exec {
        Some(p) => std::path::absolute(p).map_err(|e| Error::io("cannot resolve", p, e)),
        None => std::env::current_exe().map_err(|e| {
            Error::Failed(format!(
                "cannot find the running binary: {e}; pass --exec PATH"
            ))
        }),
    }
}

/// Creates root's stores of open alerts and of account parks when the package has not (a round's after-round step
/// writes it but, sandboxed, cannot create it). Only root creates it: any other owner would let
/// that user clear alerts. A user manager's store is created by whoever writes it first.
fn ensure_alerts_dir(scope: crate::paths::Scope, options: &Options) {
    if scope != crate::paths::Scope::System
        || options.output.is_some()
        || !nix::unistd::geteuid().is_root()
    {
        return;
    }
    if let Err(e) = crate::fsutil::ensure_dir(&scope.alerts_dir(), 0o755) {
        eprintln!("agent-runner: warning: {e}; alerts are kept once it exists");
    }
    if let Err(e) = crate::fsutil::ensure_dir(&scope.accounts_dir(), 0o755) {
        eprintln!("agent-runner: warning: {e}; account parks are kept once it exists");
    }
}

/// Writes `files` under `unit_dir` atomically, skipping unchanged ones; with `prune`, removes
/// drop-ins this tool generated for TOML files that no longer exist.
pub(crate) fn write_files(unit_dir: &Path, files: &[UnitFile], prune: bool) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    for file in files {
        let path = unit_dir.join(&file.path);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == file.contents) {
            outcome.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            fsutil::create_dir_all(parent)?;
        }
        fsutil::write_atomic(&path, file.contents.as_bytes(), 0o644)?;
        outcome.written.push(path);
    }
    if prune {
        outcome.removed = remove_stale(unit_dir)?;
    }
    Ok(outcome)
}

/// Removes drop-ins carrying our header whose source TOML is gone. Never touches anything else.
pub(crate) fn remove_stale(unit_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(unit_dir) else {
        return Ok(removed);
    };
    for entry in entries.filter_map(std::result::Result::ok) {
        let dir = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_drop_in_dir = dir.extension().is_some_and(|x| x == "d");
        if !(name.starts_with("agent-runner") && is_drop_in_dir && dir.is_dir()) {
            continue;
        }
        let drop_in = dir.join(DROP_IN_NAME);
        let Ok(contents) = std::fs::read_to_string(&drop_in) else {
            continue;
        };
        let Some(source) = contents.lines().find_map(|l| l.strip_prefix(SOURCE_MARK)) else {
            continue;
        };
        if Path::new(source).exists() {
            continue;
        }
        std::fs::remove_file(&drop_in).map_err(|e| Error::io("cannot remove", &drop_in, e))?;
        let _ = std::fs::remove_dir(&dir); // only succeeds when empty: operators' own drop-ins stay
        removed.push(drop_in);
    }
    removed.sort();
    Ok(removed)
}

fn report(outcome: &Outcome, names: &BTreeSet<String>) -> Result<()> {
    let projects = if names.is_empty() {
        "no projects".to_string()
    } else {
        names.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    crate::output::line(format_args!(
        "generated {projects}: {} file{} written, {} unchanged, {} stale removed",
        outcome.written.len(),
        if outcome.written.len() == 1 { "" } else { "s" },
        outcome.unchanged,
        outcome.removed.len()
    ))?;
    for path in &outcome.removed {
        crate::output::line(format_args!("  removed {}", path.display()))?;
    }
    Ok(())
}
