//! `agent-runner import FILE`: turns a project file of cli-agent-runner 0.3.x (the Python runner
//! agent-runner replaces, whose files are all called agent-runner.toml) into an agent-runner
//! project file, and reports what became of each old key.
//!
//! The conversion ([`convert`]) walks every table of the old file ([`agent`], [`runtime`],
//! [`rest`], [`features`]) and builds the new file ([`doc`]) and the [`report`]. Values whose
//! meaning changed are converted, and where the old runner's default differs from
//! agent-runner's, the old default is written out, so that nothing changes silently. The new
//! file is validated before it is written, atomically, and never over an existing file without
//! `--force`.

mod agent;
mod convert;
mod doc;
mod features;
mod old;
mod report;
mod rest;
mod runtime;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::controls::printable;
use super::load::load_str;
use super::model::{PROJECT_NAME_RULE, valid_project_name};
use super::read::read_project_file;
use crate::context::Context;
use crate::error::{ConfigProblem, Error, Result, exit};
use crate::fsutil;
use crate::output::{self, Printable};
pub(crate) use report::Report;

/// Options of `import`.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The old project file.
    pub file: PathBuf,
    /// The project name (default: the basename of the old work_dir).
    pub name: Option<String>,
    /// Where to write (default: NAME.toml in the config directory).
    pub output: Option<PathBuf>,
    /// Print the new file instead of writing it.
    pub dry_run: bool,
    /// Print the report as JSON on stdout.
    pub json: bool,
    /// Replace an existing output file.
    pub force: bool,
}

/// The `--json` report.
#[derive(Serialize)]
struct JsonReport<'a> {
    source: &'a Path,
    project: &'a str,
    output: &'a Path,
    written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    toml: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    keys: &'a Report,
}

/// The converted project, ready to be checked and written.
struct Imported {
    name: String,
    output: PathBuf,
    text: String,
    report: Report,
}

/// Runs `import`.
pub(crate) fn run(ctx: &Context, options: &Options) -> Result<u8> {
    let imported = convert_file(ctx, options)?;
    if !options.dry_run
        && !options.force
        && fsutil::entry_kind(&imported.output)
            .ok()
            .flatten()
            .is_some()
    {
        return Err(Error::Failed(format!(
            "{} already exists; not overwriting it\n  hint: pass --force to replace it, or --output FILE",
            printable(&imported.output)
        )));
    }
    let verdict = load_str(&imported.text, &imported.output, ctx.scope).map(drop);
    let written = verdict.is_ok() && !options.dry_run;
    present(options, &imported, written, verdict.as_ref().err())?;
    if verdict.is_err() && !options.json {
        let mut err = Printable::new(std::io::stderr().lock());
        writeln!(
            err,
            "the converted file would not load, so nothing was written; settle these in the old file and import again:"
        )
        .map_err(Error::Output)?;
    }
    verdict?;
    if written {
        write(&imported)?;
        let mut err = Printable::new(std::io::stderr().lock());
        writeln!(
            err,
            "wrote {}\nnext: settle the DECIDE lines, then `agent-runner{} check {}`",
            printable(&imported.output),
            ctx.scope.flag(),
            output::shell_quote(&imported.name)
        )
        .map_err(Error::Output)?;
    }
    Ok(exit::OK)
}

/// Reads, converts and names the old file's project.
fn convert_file(ctx: &Context, options: &Options) -> Result<Imported> {
    let file = std::path::absolute(&options.file).unwrap_or_else(|_| options.file.clone());
    let text = read_project_file(&file).map_err(|problem| {
        // The hint of a missing project file (create it with init) is wrong for an old one.
        if matches!(file.try_exists(), Ok(false)) {
            Error::config(
                ConfigProblem::new(&file, "no such file")
                    .hint("give the path of the old runner's project file (its agent-runner.toml)"),
            )
        } else {
            Error::config(problem)
        }
    })?;
    let root: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::config(ConfigProblem::new(
            &file,
            format!("not valid TOML: {}", e.message()),
        ))
    })?;
    let system = ctx.scope == crate::paths::Scope::System;
    let converted = convert::convert(&root, &file, &crate::paths::home_dir(), system);
    let name = options.name.clone().unwrap_or(converted.old_project);
    if !valid_project_name(&name) {
        let from = if options.name.is_some() {
            "--name"
        } else {
            "the work_dir's basename"
        };
        return Err(Error::Usage(format!(
            "invalid project name {name:?} (from {from}): a project name is {PROJECT_NAME_RULE}; choose one with --name NAME"
        )));
    }
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| ctx.scope.config_dir().join(format!("{name}.toml")));
    let mut doc = converted.doc;
    if output.file_stem().and_then(|s| s.to_str()) != Some(name.as_str()) {
        doc.set(&[], "name", old::string(&name));
    }
    let header = format!(
        "# agent-runner project {name}, imported from {} (cli-agent-runner 0.3.x) by `agent-runner import`.\n# Reference: agent-runner.toml(5).\n",
        printable(&file)
    );
    Ok(Imported {
        name,
        output,
        text: doc.render(&header),
        report: converted.report,
    })
}

/// The report: JSON on stdout, or text on stderr (with the new file on stdout for `--dry-run`).
fn present(
    options: &Options,
    imported: &Imported,
    written: bool,
    error: Option<&Error>,
) -> Result<()> {
    if options.json {
        let report = JsonReport {
            source: &options.file,
            project: &imported.name,
            output: &imported.output,
            written,
            toml: options.dry_run.then_some(imported.text.as_str()),
            error: error.map(ToString::to_string),
            keys: &imported.report,
        };
        return output::to_stdout(|out| output::json(out, &report));
    }
    if options.dry_run {
        output::to_stdout(|out| out.write_all(imported.text.as_bytes()))?;
    }
    let mut err = Printable::new(std::io::stderr().lock());
    writeln!(
        err,
        "import {} → project {} ({}):",
        printable(&options.file),
        imported.name,
        printable(&imported.output)
    )
    .and_then(|()| imported.report.write_text(&mut err))
    .map_err(Error::Output)
}

/// Writes the new file atomically, its directory created first.
fn write(imported: &Imported) -> Result<()> {
    if let Some(parent) = imported
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        fsutil::create_dir_all(parent)?;
    }
    fsutil::write_atomic(&imported.output, imported.text.as_bytes(), 0o644)
}
