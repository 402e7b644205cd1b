//! `agent-runner check`: loads each project, runs the startup battery on the valid ones, and
//! prints what it found (as text, or as JSON with `--json`). Exit 78 when any project has an
//! error.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::battery::{self, Finding, Severity};
use super::controls::printable;
use super::load::{self, ProjectRef};
use super::model::Project;
use crate::context::Context;
use crate::error::{ConfigProblem, Error, Result, exit};
use crate::output::{Paint, Tone};
use crate::paths::Scope;

/// What `check` found about one project file. The field names are the `--json` output.
#[derive(Serialize)]
struct CheckedProject {
    project: String,
    source: PathBuf,
    ok: bool,
    problems: Vec<Finding>,
}

/// `agent-runner check [NAME | --config FILE] [--json]`. `systemd` names the systemd version the
/// units would be rendered for and what that version changes; each valid project notes it.
pub(crate) fn run(
    ctx: &Context,
    reference: Option<ProjectRef>,
    json: bool,
    systemd: &str,
    is_kind: &dyn Fn(&str) -> bool,
) -> Result<u8> {
    if let Some(ProjectRef::Name(name)) = &reference {
        load::require_valid_name(name)?;
    }
    let named = reference.is_some();
    let references = match reference {
        Some(r) => vec![r],
        None => every_project_file(ctx.scope)?,
    };
    let mut checked: Vec<CheckedProject> = references
        .iter()
        .map(|r| check_project(r, ctx.scope, systemd, is_kind))
        .collect();
    mark_duplicate_names(&mut checked);
    let all_ok = checked.iter().all(|c| c.ok);
    if json {
        print_json(&checked, named)?;
    } else {
        print_text(&checked)?;
    }
    Ok(if all_ok { exit::OK } else { exit::CONFIG })
}

/// Every project file of the scope; none at all is a configuration error.
fn every_project_file(scope: Scope) -> Result<Vec<ProjectRef>> {
    let files = load::discover(scope)?;
    if files.is_empty() {
        return Err(Error::config(
            ConfigProblem::new(scope.config_dir(), "no project files (*.toml) here").hint(format!(
                "create one with `agent-runner{} init --preset shell NAME`, or pass --config FILE",
                scope.flag()
            )),
        ));
    }
    Ok(files.into_iter().map(ProjectRef::File).collect())
}

fn check_project(
    reference: &ProjectRef,
    scope: Scope,
    systemd: &str,
    is_kind: &dyn Fn(&str) -> bool,
) -> CheckedProject {
    let (name, source) = match reference {
        ProjectRef::Name(n) => (n.clone(), load::path_for(n, scope)),
        ProjectRef::File(f) => (
            f.file_stem()
                .and_then(OsStr::to_str)
                .unwrap_or("?")
                .to_string(),
            f.clone(),
        ),
    };
    let failed = |problems| CheckedProject {
        project: name.clone(),
        source: source.clone(),
        ok: false,
        problems,
    };
    match load::load_project(reference, scope) {
        Err(Error::Config(problems)) => failed(problems.iter().map(config_problem).collect()),
        Err(e) => failed(vec![Finding::error("config_valid", e.to_string(), None)]),
        Ok(project) => {
            // An invalid schedule is a configuration error like any other: no battery after it.
            let mut problems = match load::verify_schedule(&project) {
                Some(problem) => vec![config_problem(&problem)],
                None => battery::run(&project),
            };
            let notify = super::notify_load::check(&project, is_kind);
            problems.extend(notify.iter().map(config_problem));
            problems.extend(inferred_preset(&project));
            problems.extend(account_file_problems(&project, scope));
            problems.push(Finding::note(
                "systemd_version",
                systemd.to_string(),
                "`generate` renders for this version: run it again after systemd is upgraded"
                    .to_string(),
            ));
            CheckedProject {
                ok: problems.iter().all(|p| p.severity != Severity::Error),
                project: project.name.clone(),
                source: project.source.clone(),
                problems,
            }
        }
    }
}

/// Which preset a project without one was recognised as, and what that decided.
fn inferred_preset(project: &Project) -> Option<Finding> {
    let agent = &project.agent;
    let preset = agent.inferred_preset.as_deref()?;
    let marker = agent.terminal_marker.as_deref().map_or_else(
        || "no terminal marker".to_string(),
        |m| format!("terminal marker {m}"),
    );
    let parser = serde_json::to_value(agent.output_format)
        .ok()
        .and_then(|v| v.as_str().map(ToString::to_string))
        .unwrap_or_default();
    let signal = serde_json::to_value(agent.stop_signal)
        .ok()
        .and_then(|v| v.as_str().map(ToString::to_string))
        .unwrap_or_default();
    let state = agent
        .state_paths
        .iter()
        .map(|p| format!("~/{}", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Finding::note(
        "preset_inferred",
        format!(
            "no [agent] preset: `{}` runs the {preset} CLI, so rounds use its stop signal {signal}, {marker}, the {parser} output parser and its state paths [{state}]",
            printable(Path::new(&agent.command[0])),
        ),
        "to opt out, set [agent] preset = \"shell\" (a generic agent), or set stop_signal, terminal_marker and state_paths yourself".to_string(),
    ))
}

/// The problems of the shared account's file the project names, each with that file's path.
fn account_file_problems(project: &Project, scope: Scope) -> Vec<Finding> {
    let Some(account) = &project.agent.account else {
        return Vec::new();
    };
    match super::account_file::load(scope, account) {
        Ok(_) => Vec::new(),
        Err(Error::Config(problems)) => problems.iter().map(config_problem).collect(),
        Err(e) => vec![Finding::error("config_valid", e.to_string(), None)],
    }
}

/// A problem of the file itself, with its hint as a field of its own.
fn config_problem(p: &ConfigProblem) -> Finding {
    let mut message = p.to_string();
    if let Some(hint) = &p.hint {
        message = message.replace(&format!("\n  hint: {hint}"), "");
    }
    Finding::error("config_valid", message, p.hint.clone())
}

/// Two files naming the same project would fight over the same units (`generate` refuses them).
fn mark_duplicate_names(checked: &mut [CheckedProject]) {
    for i in 0..checked.len() {
        let others: Vec<String> = checked
            .iter()
            .enumerate()
            .filter(|(j, c)| *j != i && c.project == checked[i].project)
            .map(|(_, c)| c.source.display().to_string())
            .collect();
        if !others.is_empty() {
            let this = &mut checked[i];
            this.ok = false;
            this.problems.push(Finding::error(
                "config_valid",
                format!(
                    "project name {:?} is also used by {}",
                    this.project,
                    others.join(", ")
                ),
                "give each project its own `name` (or file name)".to_string(),
            ));
        }
    }
}

/// One object for the project named, an array for every project (even when there is one, so
/// that a script reading the array need not look at its shape first).
fn print_json(checked: &[CheckedProject], named: bool) -> Result<()> {
    let text = if let ([one], true) = (checked, named) {
        serde_json::to_string_pretty(one)
    } else {
        serde_json::to_string_pretty(checked)
    };
    let text = text.map_err(|e| Error::Failed(e.to_string()))?;
    crate::output::line(format_args!("{text}"))
}

fn print_text(checked: &[CheckedProject]) -> Result<()> {
    crate::output::to_stdout(|out| write_text(out, checked))
}

fn write_text(out: &mut dyn Paint, checked: &[CheckedProject]) -> std::io::Result<()> {
    for c in checked {
        let errors = c
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
        // A file name may hold a newline: one project, one headline.
        let project = printable(Path::new(&c.project));
        let source = printable(&c.source);
        write!(out, "{project}: ")?;
        if c.ok {
            out.paint(Tone::Good, "ok")?;
        } else {
            let plural = if errors == 1 { "" } else { "s" };
            out.paint(Tone::Bad, &format!("{errors} problem{plural}"))?;
        }
        writeln!(out, " ({source})")?;
        for p in &c.problems {
            let (tag, tone) = match p.severity {
                Severity::Error => ("error", Tone::Bad),
                Severity::Warning => ("warning", Tone::Notice),
                Severity::Note => ("note", Tone::Plain),
            };
            write!(out, "  ")?;
            out.paint(tone, tag)?;
            writeln!(out, ": {}", p.message.replace('\n', "\n    "))?;
            if let Some(hint) = &p.hint {
                writeln!(out, "    hint: {hint}")?;
            }
        }
    }
    Ok(())
}
