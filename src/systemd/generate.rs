//! `agent-runner generate`: projects' TOML → unit files on disk → systemd reloaded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config;
use crate::config::ProjectRef;
use crate::config::battery::Finding;
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
    /// Report as JSON on stdout.
    pub json: bool,
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

impl Outcome {
    /// Whether the unit directory is not as it was: systemd must reload to see it.
    fn changed(&self) -> bool {
        !self.written.is_empty() || !self.removed.is_empty()
    }
}

/// Runs `generate`.
pub(crate) fn run(ctx: &Context, options: &Options) -> Result<()> {
    let scope = ctx.scope;
    let exec = exec_path(options)?;
    if !options.dry_run && options.output.is_none() {
        warn_without_round_runner(&exec);
    }
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
        projects,
        problems,
    } = load(&references, scope, &render_options)?;

    let unit_dir = options.output.clone().unwrap_or_else(|| scope.unit_dir());
    let packaged = scope
        .packaged_unit_dir()
        .join(Unit::Round.template())
        .exists();
    // Named projects of which none loads (a typo): nothing is written, not even the templates.
    let nothing_named_loads = !all_projects && projects.is_empty();
    let templates = if (options.output.is_some() || !packaged) && !nothing_named_loads {
        render::templates(scope, &render_options.exec)
    } else {
        Vec::new()
    };
    let template_paths: Vec<PathBuf> = templates.iter().map(|f| f.path.clone()).collect();
    files.splice(0..0, templates);

    if options.dry_run {
        print_dry_run(&unit_dir, &files)?;
        warn(&projects, scope);
        return problems_or_ok(problems);
    }
    let outcome = write_files(&unit_dir, &files, all_projects && options.output.is_none())
        .inspect_err(|_| {
            // Some units may be rewritten already: the next run must reload for them.
            if options.output.is_none() {
                mark_reload_pending(&unit_dir);
            }
        })?;
    ensure_alerts_dir(scope, options);
    let reloaded = reload_if_needed(scope, &unit_dir, options, &outcome);
    let report = Report {
        unit_dir: &unit_dir,
        systemd_version: version,
        projects: &projects,
        template_paths: &template_paths,
        outcome: &outcome,
        problems: &problems,
        reloaded: matches!(reloaded, Some(Ok(()))),
    };
    if options.json {
        crate::output::to_stdout(|out| crate::output::json(out, &report.to_json()))?;
    } else {
        report.print_text()?;
        warn(&projects, scope);
    }
    if let Some(Err(e)) = reloaded {
        let what = if outcome.changed() {
            "units written"
        } else {
            "units unchanged, but an earlier generate's are not loaded yet"
        };
        return Err(match e {
            Error::Unavailable(msg) => Error::Unavailable(format!(
                "{what}, and systemd was not reloaded: {msg}\n  hint: run `systemctl{} daemon-reload` once systemd is up, or pass --no-reload",
                scope.flag()
            )),
            other => other,
        });
    }
    problems_or_ok(problems)
}

/// Left in the unit directory while it holds units systemd has not been reloaded for (a
/// `--no-reload` run, or a reload that failed), so that the next `generate` reloads even when it
/// finds every file already as it should be. systemd ignores it: it is no unit name.
const RELOAD_PENDING: &str = ".agent-runner-reload-pending";

/// Reloads systemd when this run changed the unit directory or an earlier one left it changed
/// without a reload, and keeps [`RELOAD_PENDING`] in step. `None`: no reload was asked for.
fn reload_if_needed(
    scope: crate::paths::Scope,
    unit_dir: &Path,
    options: &Options,
    outcome: &Outcome,
) -> Option<Result<()>> {
    if options.output.is_some() {
        return None;
    }
    let marker = unit_dir.join(RELOAD_PENDING);
    let pending = outcome.changed() || marker.exists();
    if !pending {
        return None;
    }
    let reloaded = (!options.no_reload).then(|| crate::systemd::bus::reload(scope));
    if matches!(reloaded, Some(Ok(()))) {
        let _ = std::fs::remove_file(&marker);
    } else {
        mark_reload_pending(unit_dir);
    }
    reloaded
}

/// Leaves [`RELOAD_PENDING`] in `unit_dir`. Failing to costs at most one reload too few, which
/// the hint of a failed reload already covers: not worth failing the run for.
fn mark_reload_pending(unit_dir: &Path) {
    let _ = fsutil::write_atomic(&unit_dir.join(RELOAD_PENDING), b"", 0o644);
}

/// `--dry-run`: every file as a `---PATH---` block.
fn print_dry_run(unit_dir: &Path, files: &[UnitFile]) -> Result<()> {
    crate::output::to_stdout(|out| {
        files.iter().try_for_each(|file| {
            write!(
                out,
                "---{}---\n{}",
                unit_dir.join(&file.path).display(),
                file.contents
            )
        })
    })
}

/// The exit of a run that rendered what it could: the problems of the files it could not.
fn problems_or_ok(problems: Vec<ConfigProblem>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(problems))
    }
}

/// One valid project, rendered.
struct Rendered {
    name: String,
    source: PathBuf,
    /// Its unit files, relative to the unit directory.
    files: Vec<PathBuf>,
    /// The startup battery's errors: its units are written all the same (the operator may be
    /// about to create the missing piece), but its rounds would stop on each of these, which
    /// `generate` says rather than reporting plain success.
    battery_errors: Vec<Finding>,
}

/// The selected projects, rendered: their unit files, what each one has, and the problems of
/// the files that are not valid.
struct Loaded {
    files: Vec<UnitFile>,
    projects: Vec<Rendered>,
    problems: Vec<ConfigProblem>,
}

fn load(
    references: &[ProjectRef],
    scope: crate::paths::Scope,
    render_options: &RenderOptions,
) -> Result<Loaded> {
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let mut files: Vec<UnitFile> = Vec::new();
    let mut names = BTreeSet::new();
    let mut projects = Vec::new();
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
                let rendered = render::render_project(&project, &text, render_options)?;
                projects.push(Rendered {
                    name: project.name.clone(),
                    source: project.source.clone(),
                    files: rendered.iter().map(|f| f.path.clone()).collect(),
                    battery_errors: config::battery::errors(&project),
                });
                files.extend(rendered);
            }
            Err(Error::Config(p)) => problems.extend(p),
            Err(e) => return Err(e),
        }
    }
    projects.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Loaded {
        files,
        projects,
        problems,
    })
}

/// Each startup-battery error of a valid project, as a warning on stderr, and the command that
/// checks that project.
fn warn(projects: &[Rendered], scope: crate::paths::Scope) {
    for project in projects.iter().filter(|p| !p.battery_errors.is_empty()) {
        for finding in &project.battery_errors {
            eprintln!(
                "agent-runner: warning: {}: {}; its rounds stop on this until it is fixed",
                project.name, finding.message
            );
        }
        eprintln!(
            "  hint: `{}` says how to fix each",
            check_command(project, scope)
        );
    }
}

/// `agent-runner check` for one project: by its name when its file is where the name leads,
/// else with `--config FILE` (a file given with `--config` elsewhere is not found by name).
fn check_command(project: &Rendered, scope: crate::paths::Scope) -> String {
    let by_name = scope.config_dir().join(format!("{}.toml", project.name));
    let which = if project.source == by_name {
        project.name.clone()
    } else {
        format!(
            "--config {}",
            crate::output::shell_quote(&project.source.display().to_string())
        )
    };
    format!("agent-runner{} check {which}", scope.flag())
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

/// The round service runs the round binary beside `exec`: a build or install without it would
/// fail every round at its exec (status 203/EXEC), so say so now.
fn warn_without_round_runner(exec: &Path) {
    if let Some(problem) = missing_round_runner(exec) {
        eprintln!("agent-runner: warning: {problem}");
    }
}

/// What is wrong when the round binary beside `exec` is missing (`generate` and the generator
/// both say it).
pub(crate) fn missing_round_runner(exec: &Path) -> Option<String> {
    let round = crate::paths::round_runner(exec);
    (!round.is_file()).then(|| {
        format!(
            "{} is missing; the round service runs it: install it beside {}",
            round.display(),
            exec.display()
        )
    })
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

/// What one run did, for the operator (text) or a program (`--json`).
struct Report<'a> {
    unit_dir: &'a Path,
    systemd_version: u32,
    projects: &'a [Rendered],
    /// The template units this run installed (none when the package ships them).
    template_paths: &'a [PathBuf],
    outcome: &'a Outcome,
    problems: &'a [ConfigProblem],
    reloaded: bool,
}

/// `generate --json`: one object.
#[derive(Serialize)]
struct JsonReport<'a> {
    unit_dir: &'a Path,
    systemd_version: u32,
    projects: Vec<JsonProject<'a>>,
    templates: JsonFiles,
    removed: &'a [PathBuf],
    problems: Vec<JsonProblem<'a>>,
    reloaded: bool,
}

/// A project in `generate --json`.
#[derive(Serialize)]
struct JsonProject<'a> {
    project: &'a str,
    source: &'a Path,
    #[serde(flatten)]
    files: JsonFiles,
    warnings: &'a [Finding],
}

/// Files, absolute, by what happened to them.
#[derive(Serialize)]
struct JsonFiles {
    written: Vec<PathBuf>,
    unchanged: Vec<PathBuf>,
}

/// A project file that does not load, in `generate --json`.
#[derive(Serialize)]
struct JsonProblem<'a> {
    source: &'a Path,
    message: String,
}

impl Report<'_> {
    /// `relative` files by whether this run wrote them.
    fn files(&self, relative: &[PathBuf]) -> JsonFiles {
        let (written, unchanged) = relative
            .iter()
            .map(|p| self.unit_dir.join(p))
            .partition(|p| self.outcome.written.contains(p));
        JsonFiles { written, unchanged }
    }

    fn to_json(&self) -> JsonReport<'_> {
        JsonReport {
            unit_dir: self.unit_dir,
            systemd_version: self.systemd_version,
            projects: self
                .projects
                .iter()
                .map(|p| JsonProject {
                    project: &p.name,
                    source: &p.source,
                    files: self.files(&p.files),
                    warnings: &p.battery_errors,
                })
                .collect(),
            templates: self.files(self.template_paths),
            removed: &self.outcome.removed,
            problems: self
                .problems
                .iter()
                .map(|p| JsonProblem {
                    source: &p.file,
                    message: p.to_string(),
                })
                .collect(),
            reloaded: self.reloaded,
        }
    }

    fn print_text(&self) -> Result<()> {
        let outcome = self.outcome;
        let projects = if self.projects.is_empty() {
            "no projects".to_string()
        } else {
            let names: Vec<&str> = self.projects.iter().map(|p| p.name.as_str()).collect();
            names.join(", ")
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
}
