//! The conversion of a whole old file: each top-level table goes to its converter, every key
//! ends up in the report, and what agent-runner needs that the old file left to its defaults is
//! written out.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::doc::Doc;
use super::old;
use super::report::{Kind, Report};
use crate::config::schema::SCHEMA_VERSION;

/// An old file being converted.
pub(super) struct Import {
    pub(super) doc: Doc,
    pub(super) report: Report,
    /// What `{project}` meant in the old file: the basename of its work_dir.
    pub(super) old_project: String,
    /// The home directory `~` stands for.
    pub(super) home: PathBuf,
}

/// The result: the new file's tables, the report, and the old project name.
pub(super) struct Converted {
    pub(super) doc: Doc,
    pub(super) report: Report,
    pub(super) old_project: String,
}

/// Converts the parsed old file at `file`; `home` is what `~` stands for unless the work_dir's
/// owner (the user the old runner ran as) has another; `system` says whether the new project
/// runs under the system manager, where rounds need a `[runtime] user`.
pub(super) fn convert(root: &Table, file: &Path, home: &Path, system: bool) -> Converted {
    let work_dir = old_work_dir(root, file, home);
    let old_project = work_dir.as_deref().and_then(Path::file_name).map_or_else(
        || "default".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // Under the system manager the importer is root (its home says nothing about the project),
    // under the user manager it is the user the old runner ran as.
    let owner = work_dir.as_deref().filter(|_| system).and_then(owner);
    let mut import = Import {
        doc: Doc::new(),
        report: Report::default(),
        old_project,
        home: owner
            .as_ref()
            .map_or_else(|| home.to_path_buf(), |o| o.dir.clone()),
    };
    import
        .doc
        .set(&[], "schema_version", Value::Integer(SCHEMA_VERSION));
    if system {
        import.user(root, owner);
    }
    for (key, value) in root {
        import.top_level(key, value, work_dir.as_deref());
    }
    import.agent_defaults(old::table(root, "agent"), root);
    import.runtime_defaults(old::table(root, "runtime"));
    import.vcs_defaults(old::table(root, "vcs"));
    Converted {
        doc: import.doc,
        report: import.report,
        old_project: import.old_project,
    }
}

impl Import {
    /// `[runtime] user`: the old runner ran rounds as whoever started it, which for a project is
    /// the owner of its work_dir; without `user` a system project's rounds run as a transient
    /// DynamicUser=.
    fn user(&mut self, root: &Table, owner: Option<nix::unistd::User>) {
        match owner {
            Some(owner) => self.default(
                &["runtime"],
                "user",
                old::string(&owner.name),
                "the old runner ran rounds as the user who started it: here the owner of work_dir (`~` in paths is that user's home)",
            ),
            None if old::table(root, "runtime").is_some_and(|r| r.contains_key("work_dir")) => self.decide(
                "runtime.user",
                "work_dir is missing or root's: set [runtime] user to the account the old runner ran as, or rounds run as a transient DynamicUser=",
            ),
            None => {}
        }
    }

    fn top_level(&mut self, key: &str, value: &Value, work_dir: Option<&Path>) {
        if key == "schema_version" {
            self.mapped(key, "schema_version", "agent-runner's schema version 1");
            return;
        }
        let Some(table) = value.as_table() else {
            self.report.add(
                key,
                Kind::Dropped,
                None,
                "not a table: cli-agent-runner refused this file",
            );
            return;
        };
        match key {
            "agent" => self.agent(table),
            "runtime" => self.runtime(table, work_dir),
            "prompt" => self.prompt(table),
            "vcs" => self.vcs(table),
            "phases" => self.phases(table),
            "schedule" => self.schedule(table),
            "monitor" => self.monitor(table),
            "plugins" => self.plugins(table),
            "goal" => self.goal(table),
            _ => self.report.add(
                key,
                Kind::Dropped,
                None,
                "a table cli-agent-runner did not know (it ignored unknown tables)",
            ),
        }
    }

    /// Reports `old` as carried over to `new` (dotted), with a note.
    pub(super) fn mapped(&mut self, old: &str, new: &str, note: impl Into<String>) {
        self.report.add(old, Kind::Mapped, Some(new), note);
    }

    /// Sets `key` of the new table `path` and reports it as carried over from `old`.
    pub(super) fn carry(
        &mut self,
        old: &str,
        path: &[&str],
        key: &str,
        value: Value,
        note: impl Into<String>,
    ) {
        let new = path
            .iter()
            .copied()
            .chain([key])
            .collect::<Vec<_>>()
            .join(".");
        self.doc.set(path, key, value);
        self.mapped(old, &new, note);
    }

    /// Reports a key of the old file that agent-runner has no place for.
    pub(super) fn dropped(&mut self, old: &str, why: impl Into<String>) {
        self.report.add(old, Kind::Dropped, None, why);
    }

    /// Reports a key of a feature agent-runner does not have: the operator decides.
    pub(super) fn decide(&mut self, old: &str, why: impl Into<String>) {
        self.report.add(old, Kind::Decision, None, why);
    }

    /// Reports a key whose work a systemd setting does under agent-runner.
    pub(super) fn systemd(&mut self, old: &str, setting: &str, note: impl Into<String>) {
        self.report.add(old, Kind::Systemd, Some(setting), note);
    }

    /// Writes out a value the old file left to a default that differs from agent-runner's.
    pub(super) fn default(&mut self, path: &[&str], key: &str, value: Value, why: &str) {
        let name = path
            .iter()
            .copied()
            .chain([key])
            .collect::<Vec<_>>()
            .join(".");
        let written = format!("{name} = {}", old::shown(&value));
        self.doc.set(path, key, value);
        self.report.add(&name, Kind::Default, Some(&written), why);
    }

    /// A key of an old table that cli-agent-runner 0.3.x itself did not know.
    pub(super) fn unknown(&mut self, old: &str) {
        self.dropped(
            old,
            "not a key of cli-agent-runner 0.3.x (it refused the file; `agent-runner migrate` named no replacement)",
        );
    }

    /// An old path with `{project}` replaced by the old project name and `~` by the home, as the
    /// old runner expanded them; relative paths stay relative (both runners resolve them against
    /// work_dir).
    pub(super) fn path(&self, raw: &str) -> String {
        expand(raw, &self.old_project, &self.home)
    }
}

/// `raw` with `{project}` and a leading `~` expanded.
fn expand(raw: &str, project: &str, home: &Path) -> String {
    let raw = raw.replace("{project}", project);
    if raw == "~" {
        return home.to_string_lossy().into_owned();
    }
    match raw.strip_prefix("~/") {
        Some(rest) => home.join(rest).to_string_lossy().into_owned(),
        None => raw,
    }
}

/// The old work_dir, absolute: `~` expanded, `{project}` removed (the old runner expanded it to
/// nothing there, the name being made from work_dir), a relative one joined to the directory of
/// the old file.
pub(super) fn old_work_dir(root: &Table, file: &Path, home: &Path) -> Option<PathBuf> {
    let raw = old::table(root, "runtime")?.get("work_dir")?.as_str()?;
    let expanded = PathBuf::from(expand(raw, "", home));
    let base = file.parent().filter(|p| !p.as_os_str().is_empty());
    let joined = if expanded.is_absolute() {
        expanded
    } else {
        let base = base.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        std::path::absolute(&base).unwrap_or(base).join(expanded)
    };
    Some(crate::config::validate::normalize(&joined))
}

/// The owner of `dir` when it exists and is not root.
fn owner(dir: &Path) -> Option<nix::unistd::User> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(dir).ok()?.uid();
    if uid == 0 {
        return None;
    }
    nix::unistd::User::from_uid(uid.into()).ok().flatten()
}
