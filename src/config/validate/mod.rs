//! Value checks, defaults and path resolution: raw structs in, a [`Project`] out.
//!
//! One file per table. [`validate`] runs them in the order below and collects every problem, so
//! that an operator sees all of them at once; the order is the order `check` prints them in.

mod agent;
mod alerts;
mod checker;
mod hooks;
mod limits;
mod notify;
mod phases;
mod progress;
mod prompt;
mod resolve;
mod resolved;
mod runtime;
pub(super) mod spend;
mod state;
mod vcs;
mod windows;

/// `import` refuses the same environment names the validation does.
pub(super) use agent::valid_env_name;
use checker::Checker;
use resolve::Resolver;
pub(super) use resolve::normalize;

use super::model::{PROJECT_NAME_RULE, Project, valid_project_name};
use super::raw::RawConfig;
use super::schema::SCHEMA_VERSION;
use super::spans::Located;
use crate::error::ConfigProblem;
use crate::paths::Scope;

/// Turns the raw file into a [`Project`], collecting every problem.
pub(super) fn validate(
    raw: &RawConfig,
    doc: &Located<'_>,
    scope: Scope,
) -> Result<Project, Vec<ConfigProblem>> {
    let mut c = Checker::new(doc);
    check_schema_version(&mut c, raw.schema_version);
    let name = project_name(&mut c, raw);
    let toml_dir = resolve::toml_dir(doc.file);
    // work_dir first: the other paths resolve against it.
    let work_dir = runtime::work_dir(&mut c, raw.runtime.work_dir.as_deref(), &name, &toml_dir);
    let paths = Resolver {
        project: &name,
        toml_dir: &toml_dir,
        work_dir: &work_dir,
    };
    let runtime_files = runtime::files(&mut c, &raw.runtime, &paths);
    let preset = agent::preset(&mut c, raw.agent.preset.as_deref());
    let defaults = agent::Defaults::of(preset, &raw.agent);
    let agent = agent::agent(&mut c, &raw.agent, defaults, &paths);
    let runtime = runtime::runtime(
        &mut c,
        &raw.runtime,
        defaults.output(),
        &paths,
        runtime_files,
        scope,
    );
    let prompt = prompt::prompt_spec(&mut c, &["prompt"], &raw.prompt, None, &paths, true);
    let phases = phases::phases(
        &mut c,
        raw.phases.as_ref(),
        &prompt,
        runtime.round_timeout_s,
        &paths,
    );
    runtime::check_checkin_fits(&mut c, &raw.runtime, &runtime, &phases);
    let vcs = vcs::vcs(&mut c, &raw.vcs, &paths);
    let budget = spend::budget(&mut c, "budget", &raw.budget);
    let pricing = spend::pricing(&mut c, &raw.pricing);
    let alerts = alerts::alerts(&mut c, &raw.alerts);
    let progress = progress::progress(&mut c, &raw.progress);
    let goal = progress::goal(&mut c, &raw.goal);
    let notify = notify::notify(&mut c, &raw.notify);
    let limits = limits::limits(&mut c, &raw.limits);
    let schedule = windows::schedule(&mut c, &raw.schedule);
    let hooks = hooks::hooks(&mut c, &raw.hooks);
    let project = Project {
        name,
        source: std::path::absolute(doc.file).unwrap_or_else(|_| doc.file.to_path_buf()),
        scope,
        agent,
        runtime,
        prompt,
        phases,
        vcs,
        budget,
        pricing,
        alerts,
        progress,
        goal,
        notify,
        limits,
        schedule,
        hooks,
    };
    resolved::check_resolved_paths(&mut c, &project);
    c.finish()?;
    Ok(project)
}

/// The `[notify]` keys of the shared notify.toml (`doc`), checked like a project's.
pub(super) fn notify_keys(
    raw: &crate::config::raw::RawNotify,
    doc: &Located<'_>,
) -> Result<crate::config::notify::NotifyKeys, Vec<ConfigProblem>> {
    let mut c = Checker::new(doc);
    let keys = notify::notify(&mut c, raw);
    c.finish()?;
    Ok(keys)
}

/// A shared account's `[budget]`: a project's checks, and no `loop_usd` (an account has no loop).
pub(super) fn account_budget(
    raw: &super::raw::RawBudget,
    doc: &Located<'_>,
) -> Result<super::spend::Budget, Vec<ConfigProblem>> {
    let mut c = Checker::new(doc);
    let budget = spend::budget(&mut c, "budget", raw);
    if raw.loop_usd.is_some() {
        c.fail_hint(
            &["budget", "loop_usd"],
            "an account has no loop: its projects' loops start and end apart",
            "set loop_usd in each project's [budget]",
        );
    }
    c.finish()?;
    Ok(budget)
}

fn check_schema_version(c: &mut Checker<'_, '_>, version: Option<i64>) {
    match version {
        Some(SCHEMA_VERSION) => {}
        None => c.fail_hint(
            &["schema_version"],
            "missing `schema_version`",
            format!("add `schema_version = {SCHEMA_VERSION}` at the top of the file"),
        ),
        Some(v) => c.fail(
            &["schema_version"],
            format!(
                "schema_version {v} is not supported; this agent-runner reads version {SCHEMA_VERSION}"
            ),
        ),
    }
}

/// The project name: `name =`, else the file stem.
fn project_name(c: &mut Checker<'_, '_>, raw: &RawConfig) -> String {
    let doc = c.doc();
    let stem = doc
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = raw.name.clone().unwrap_or(stem);
    if !valid_project_name(&name) {
        c.push(|| {
            let path: &[&str] = if raw.name.is_some() { &["name"] } else { &[] };
            let mut problem = doc.problem(
                path,
                format!("invalid project name {name:?}: a project name is {PROJECT_NAME_RULE}"),
            );
            if raw.name.is_none() {
                problem.key = None;
                problem.hint = Some("rename the file or set `name = \"...\"` in it".into());
            }
            problem
        });
    }
    name
}

#[cfg(test)]
mod tests;
