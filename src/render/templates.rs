//! The text rendering starts from: the static template units shipped in units/, and the
//! per-project drop-in templates of templates/, loaded into minijinja in strict-undefined mode so
//! that a name the context lacks is an error, never an empty string.

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};

use super::escape::{sd_env, sd_path, sd_word};
use super::header::{UnitFile, template_header};
use crate::error::{Error, Result};
use crate::paths::Scope;
use crate::units::{NOTIFY_TEMPLATE, Unit, WATCH_SERVICE, WATCH_TIMER};

/// The drop-in templates: (name, source).
const DROP_IN_TEMPLATES: [(&str, &str); 8] = [
    (
        "service.conf",
        include_str!("../../templates/service.conf.j2"),
    ),
    ("timer.conf", include_str!("../../templates/timer.conf.j2")),
    ("path.conf", include_str!("../../templates/path.conf.j2")),
    ("loop.conf", include_str!("../../templates/loop.conf.j2")),
    ("halt.conf", include_str!("../../templates/halt.conf.j2")),
    ("after.conf", include_str!("../../templates/after.conf.j2")),
    (
        "sandbox.conf",
        include_str!("../../templates/sandbox.conf.j2"),
    ),
    (
        "limits.conf",
        include_str!("../../templates/limits.conf.j2"),
    ),
];

/// Which drop-in template renders the drop-in of each template unit.
pub(crate) const DROP_IN_OF: [(Unit, &str); 7] = [
    (Unit::Round, "service.conf"),
    (Unit::Timer, "timer.conf"),
    (Unit::Path, "path.conf"),
    (Unit::Loop, "loop.conf"),
    (Unit::Halt, "halt.conf"),
    (Unit::After, "after.conf"),
    (Unit::AfterFailure, "after.conf"),
];

/// The static template of `unit` in `scope`, exactly as shipped in units/; `None` for the
/// transient units, which have none.
pub(crate) fn template_text(scope: Scope, unit: Unit) -> Option<&'static str> {
    Some(match (scope, unit) {
        (Scope::System, Unit::Round) => include_str!("../../units/system/agent-runner@.service"),
        (Scope::System, Unit::Timer) => include_str!("../../units/system/agent-runner@.timer"),
        (Scope::System, Unit::Path) => include_str!("../../units/system/agent-runner@.path"),
        (Scope::System, Unit::Loop) => {
            include_str!("../../units/system/agent-runner-loop@.service")
        }
        (Scope::System, Unit::Halt) => {
            include_str!("../../units/system/agent-runner-halt@.service")
        }
        // One file for both: they differ only in which end of a round starts them.
        (Scope::System, Unit::After | Unit::AfterFailure) => {
            include_str!("../../units/system/agent-runner-after@.service")
        }
        (Scope::User, Unit::Round) => include_str!("../../units/user/agent-runner@.service"),
        (Scope::User, Unit::Timer) => include_str!("../../units/user/agent-runner@.timer"),
        (Scope::User, Unit::Path) => include_str!("../../units/user/agent-runner@.path"),
        (Scope::User, Unit::Loop) => include_str!("../../units/user/agent-runner-loop@.service"),
        (Scope::User, Unit::Halt) => include_str!("../../units/user/agent-runner-halt@.service"),
        (Scope::User, Unit::After | Unit::AfterFailure) => {
            include_str!("../../units/user/agent-runner-after@.service")
        }
        (_, Unit::BackoffTimer | Unit::BackoffService) => return None,
    })
}

/// The units shipped beside the templates that no project instantiates: the watch service and
/// its timer (the system manager's only: its store of alerts is root's).
pub(crate) fn shared_units(scope: Scope) -> Vec<(&'static str, &'static str)> {
    match scope {
        Scope::System => vec![
            (
                WATCH_SERVICE,
                include_str!("../../units/system/agent-runner-watch.service"),
            ),
            (
                WATCH_TIMER,
                include_str!("../../units/system/agent-runner-watch.timer"),
            ),
            (
                NOTIFY_TEMPLATE,
                include_str!("../../units/system/agent-runner-notify@.service"),
            ),
        ],
        Scope::User => Vec::new(),
    }
}

/// The template units (and the shared units) for `scope`, with every command pointing at
/// `exec`, marked as generated.
pub(crate) fn templates(scope: Scope, exec: &Path) -> Vec<UnitFile> {
    let round = sd_word(&crate::paths::round_runner(exec).to_string_lossy());
    let exec = sd_word(&exec.to_string_lossy());
    let unit_file = |name: String, text: &str| UnitFile {
        path: PathBuf::from(name),
        contents: template_header()
            + &text
                .replace("/usr/bin/agent-runner-round ", &format!("{round} "))
                .replace("/usr/bin/agent-runner ", &format!("{exec} ")),
    };
    Unit::TEMPLATES
        .into_iter()
        .filter_map(|unit| Some(unit_file(unit.template(), template_text(scope, unit)?)))
        .chain(
            shared_units(scope)
                .into_iter()
                .map(|(name, text)| unit_file(name.to_string(), text)),
        )
        .collect()
}

/// The minijinja environment holding the drop-in templates and the escaping filters they use.
pub(crate) fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in DROP_IN_TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| Error::Failed(format!("template {name}: {e}")))?;
    }
    env.add_filter("sd_path", |value: String| sd_path(&value));
    env.add_filter("sd_env", |value: String| sd_env(&value));
    env.add_filter("sd_spec", |value: String| value.replace('%', "%%"));
    Ok(env)
}

/// Collapses the blank lines left by template conditionals (at most one in a row).
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !blank && !out.is_empty() {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    out
}
