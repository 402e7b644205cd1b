//! Rendering: a validated [`Project`] becomes the unit files that make systemd run its loop.
//!
//! The unit set is the static templates of units/ (`agent-runner@.service`, `.timer`, `.path`,
//! `agent-runner-loop@.service`, `agent-runner-halt@.service`) plus one drop-in per template,
//! rendered per project from templates/ with minijinja in strict-undefined mode. How the units
//! work together is docs/architecture.md, "The loop on systemd". Every value is escaped by systemd's rules
//! before it reaches a template, and every generated file starts with a header naming its source
//! and the hash of its inputs, which is how `generate` recognises its own files and `peek` drift.

pub(crate) mod features;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use self::features::Features;
use crate::config::Project;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Scope;
use crate::units::{Unit, drop_in_path};

/// The header line that marks a file as written by `agent-runner generate`.
pub(crate) const SOURCE_MARK: &str = "# agent-runner-source: ";
/// The header line carrying the hash of the inputs.
pub(crate) const HASH_MARK: &str = "# agent-runner-inputs: sha256:";
/// The header line that marks a template unit installed by `generate` (no package present).
pub(crate) const TEMPLATE_MARK: &str = "# agent-runner-template: ";

/// One file to write, relative to the unit directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitFile {
    /// Path relative to the unit directory, e.g. `agent-runner@demo.service.d/50-agent-runner.conf`.
    pub path: PathBuf,
    /// The file's contents.
    pub contents: String,
}

/// What rendering needs besides the project.
#[derive(Debug, Clone)]
pub(crate) struct RenderOptions {
    /// The binary ExecStart= runs.
    pub exec: PathBuf,
    /// What the target systemd understands.
    pub features: Features,
    /// Set `SourcePath=` (generator mode).
    pub source_path: bool,
}

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
        (Scope::User, Unit::Round) => include_str!("../../units/user/agent-runner@.service"),
        (Scope::User, Unit::Timer) => include_str!("../../units/user/agent-runner@.timer"),
        (Scope::User, Unit::Path) => include_str!("../../units/user/agent-runner@.path"),
        (Scope::User, Unit::Loop) => include_str!("../../units/user/agent-runner-loop@.service"),
        (Scope::User, Unit::Halt) => include_str!("../../units/user/agent-runner-halt@.service"),
        (_, Unit::BackoffTimer | Unit::BackoffService) => return None,
    })
}

/// The template units for `scope`, with every command pointing at `exec`, marked as generated.
pub(crate) fn templates(scope: Scope, exec: &Path) -> Vec<UnitFile> {
    let exec = sd_word(&exec.to_string_lossy());
    Unit::TEMPLATES
        .into_iter()
        .filter_map(|unit| {
            let text = template_text(scope, unit)?;
            let body = text.replace("/usr/bin/agent-runner ", &format!("{exec} "));
            let contents = format!(
                "{TEMPLATE_MARK}{}\n# Installed by agent-runner generate because no packaged template exists.\n{body}",
                env!("CARGO_PKG_VERSION")
            );
            Some(UnitFile {
                path: PathBuf::from(unit.template()),
                contents,
            })
        })
        .collect()
}

/// sha256 of the project's TOML text: what drift detection compares.
pub(crate) fn inputs_hash(toml_text: &str) -> String {
    let digest = Sha256::digest(toml_text.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// The generated header of a file: (source TOML, inputs hash), if it has one.
pub(crate) fn parse_header(contents: &str) -> Option<(PathBuf, String)> {
    let mut source = None;
    let mut hash = None;
    for line in contents.lines().take_while(|l| l.starts_with('#')) {
        if let Some(s) = line.strip_prefix(SOURCE_MARK) {
            source = Some(PathBuf::from(s));
        } else if let Some(h) = line.strip_prefix(HASH_MARK) {
            hash = Some(h.to_string());
        }
    }
    Some((source?, hash?))
}

/// Everything the drop-in templates may use; strict mode makes any other name an error.
#[derive(Serialize)]
struct UnitContext<'a> {
    header: String,
    name: &'a str,
    scope: Scope,
    source_path: Option<String>,
    exec_start: String,
    after_round_exec: String,
    loop_exec_start: String,
    halt_exec_start: String,
    work_dir: &'a Path,
    user: Option<String>,
    dynamic_user: bool,
    start_timeout_s: u64,
    runtime_max_s: u64,
    watchdog_s: Option<u64>,
    restart_delay_s: u64,
    start_limit_interval_s: u64,
    start_limit_burst: u64,
    read_write_paths: Vec<PathBuf>,
    helper_read_write_paths: Vec<PathBuf>,
    credentials: Vec<Credential>,
    stop_paths: Vec<PathBuf>,
    schedule: Option<&'a str>,
    features: Features,
}

#[derive(Serialize)]
struct Credential {
    name: String,
    path: PathBuf,
}

/// The per-project drop-ins of `project`, whose TOML text is `toml_text`.
pub(crate) fn render_project(
    project: &Project,
    toml_text: &str,
    options: &RenderOptions,
) -> Result<Vec<UnitFile>> {
    let env = environment()?;
    let name = &project.name;
    let rt = &project.runtime;
    // Generator output is re-rendered by every daemon-reload; `generate`d files by `generate`.
    let refresh = if options.source_path {
        format!("run `systemctl{} daemon-reload`", project.scope.flag())
    } else {
        format!("run `agent-runner{} generate`", project.scope.flag())
    };
    let header = format!(
        "# Generated by agent-runner {} from {}; edit the TOML and {refresh}.\n{SOURCE_MARK}{}\n{HASH_MARK}{}\n# agent-runner-target: systemd {}",
        env!("CARGO_PKG_VERSION"),
        project.source.display(),
        project.source.display(),
        inputs_hash(toml_text),
        options.features.version,
    );
    let exec = sd_word(&options.exec.to_string_lossy());
    let user_flag = if project.scope == Scope::User {
        "--user "
    } else {
        ""
    };
    let config = sd_word(&project.source.to_string_lossy());
    let exec_start = format!("{exec} {user_flag}round --config {config}");
    // Root in the system manager ("!"), to reschedule the loop over D-Bus, but inside the unit's
    // sandbox and with no capabilities: "!" lifts only User=, "+" would lift the sandbox too.
    let privileged = if project.scope == Scope::System {
        "!"
    } else {
        ""
    };
    let after_round_exec =
        format!("{privileged}{exec} {user_flag}halt --step after-round --config {config}");
    let loop_exec_start = format!("{exec} {user_flag}halt --step loop-start --config {config}");
    let halt_exec_start = format!("{exec} {user_flag}halt --config {config}");

    let (user, dynamic_user) = match (&project.scope, &rt.user) {
        (Scope::User, _) => (None, false),
        (Scope::System, Some(u)) => (Some(u.clone()), false),
        (Scope::System, None) => match fsutil::owner_unless_root(&rt.work_dir) {
            Some(owner) => (Some(owner), false),
            None => (None, true),
        },
    };
    // The round may write its work dir, its state and its logs; the helpers only state and logs.
    let mut read_write_paths = Vec::new();
    let mut helper_read_write_paths = Vec::new();
    if project.scope == Scope::System {
        read_write_paths.push(rt.work_dir.clone());
        if rt.log_dir_explicit {
            helper_read_write_paths.push(rt.log_dir.clone());
            if !rt.log_dir.starts_with(&rt.work_dir) {
                read_write_paths.push(rt.log_dir.clone());
            }
        }
    }
    let stop_paths = stop_paths(project);

    let longest_round = project
        .phases
        .iter()
        .map(|p| p.round_timeout_s)
        .chain([rt.round_timeout_s])
        .max()
        .unwrap_or(rt.round_timeout_s);
    let (start_limit_interval_s, start_limit_burst) = start_limit(rt.restart_delay_s);
    let credentials: Vec<Credential> = project
        .agent
        .credentials
        .iter()
        .map(|(n, p)| Credential {
            name: n.clone(),
            path: p.clone(),
        })
        .collect();

    let ctx = UnitContext {
        header,
        name,
        scope: project.scope,
        source_path: options
            .source_path
            .then(|| project.source.display().to_string()),
        exec_start,
        after_round_exec,
        loop_exec_start,
        halt_exec_start,
        work_dir: &rt.work_dir,
        user,
        dynamic_user,
        start_timeout_s: rt.checkin_timeout_s + 30,
        runtime_max_s: longest_round + 60,
        watchdog_s: rt.watchdog_s,
        restart_delay_s: rt.restart_delay_s,
        start_limit_interval_s,
        start_limit_burst,
        read_write_paths,
        helper_read_write_paths,
        credentials,
        stop_paths,
        schedule: rt.schedule.as_deref(),
        features: options.features,
    };
    let render = |template: &str| -> Result<String> {
        env.get_template(template)
            .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
            .map(|s| tidy(&s))
            .map_err(|e| Error::Failed(format!("rendering {template} for {name}: {e}")))
    };
    [
        (Unit::Round, "service.conf"),
        (Unit::Timer, "timer.conf"),
        (Unit::Path, "path.conf"),
        (Unit::Loop, "loop.conf"),
        (Unit::Halt, "halt.conf"),
    ]
    .into_iter()
    .map(|(unit, template)| {
        Ok(UnitFile {
            path: drop_in_path(&unit.of(name)),
            contents: render(template)?,
        })
    })
    .collect()
}

/// The files whose existence ends the loop, in the order the halt step reports them: the
/// operator's stop file, the agent's `.agent-done`, and the halt request a round writes.
pub(crate) fn stop_paths(project: &Project) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(stop) = &project.runtime.stop_file {
        paths.push(stop.clone());
    }
    paths.push(project.agent_done_file());
    paths.push(halt_request_file(project));
    paths
}

/// Where a round writes its halt request. The units watch the state directory systemd creates
/// for the round service (`StateDirectory=`), which is this path.
pub(crate) fn halt_request_file(project: &Project) -> PathBuf {
    project.scope.state_dir(&project.name).join("halt-request")
}

/// `StartLimitIntervalSec=`/`StartLimitBurst=` for a loop whose timer starts at most one round per
/// `restart_delay_s`: at least a minute, and twice the timer's pace plus room for manual starts,
/// so that only a runaway (something starting the service in a tight loop) ever reaches it.
fn start_limit(restart_delay_s: u64) -> (u64, u64) {
    let delay = restart_delay_s.max(1);
    let interval = (delay * 10).clamp(60, 3600);
    (interval, 2 * interval.div_ceil(delay) + 10)
}

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let templates = [
        (
            "service.conf",
            include_str!("../../templates/service.conf.j2"),
        ),
        ("timer.conf", include_str!("../../templates/timer.conf.j2")),
        ("path.conf", include_str!("../../templates/path.conf.j2")),
        ("loop.conf", include_str!("../../templates/loop.conf.j2")),
        ("halt.conf", include_str!("../../templates/halt.conf.j2")),
        (
            "sandbox.conf",
            include_str!("../../templates/sandbox.conf.j2"),
        ),
    ];
    for (name, source) in templates {
        env.add_template(name, source)
            .map_err(|e| Error::Failed(format!("template {name}: {e}")))?;
    }
    env.add_filter("sd_path", |value: String| sd_path(&value));
    env.add_filter("sd_spec", |value: String| value.replace('%', "%%"));
    Ok(env)
}

/// Collapses the blank lines left by template conditionals (at most one in a row).
fn tidy(text: &str) -> String {
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

/// One word of an `Exec*=` command line: specifiers (`%`) and variables (`$`) are escaped, and
/// the word is double-quoted when it contains anything but plainly safe characters.
pub(crate) fn sd_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._:=@+,-".contains(c));
    let escaped = word.replace('%', "%%").replace('$', "$$");
    if safe {
        return escaped;
    }
    let mut quoted = String::with_capacity(escaped.len() + 2);
    quoted.push('"');
    for c in escaped.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A path for a path-valued setting: specifiers escaped, quoted when it contains whitespace or
/// quotes (settings that take lists, such as ReadWritePaths=, split on whitespace).
pub(crate) fn sd_path(path: &str) -> String {
    let escaped = path.replace('%', "%%");
    if escaped
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '\\')
    {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_says_how_to_refresh_the_file() {
        let text = "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n";
        let project =
            crate::config::load_str(text, Path::new("/etc/agent-runner/x.toml"), Scope::System)
                .unwrap();
        let mut options = RenderOptions {
            exec: PathBuf::from("/usr/bin/agent-runner"),
            features: Features::of(252),
            source_path: false,
        };
        let generated = render_project(&project, text, &options).unwrap();
        assert!(
            generated[0]
                .contents
                .contains("run `agent-runner generate`")
        );
        assert_eq!(
            parse_header(&generated[0].contents).unwrap().1,
            inputs_hash(text)
        );
        options.source_path = true;
        let generator = render_project(&project, text, &options).unwrap();
        assert!(
            generator[0]
                .contents
                .contains("run `systemctl daemon-reload`"),
            "{}",
            generator[0].contents
        );
        assert!(
            generator[0]
                .contents
                .contains("SourcePath=/etc/agent-runner/x.toml")
        );
    }

    #[test]
    fn quotes_exec_words_by_systemd_rules() {
        assert_eq!(sd_word("/usr/bin/agent-runner"), "/usr/bin/agent-runner");
        assert_eq!(sd_word("/opt/my tools/ar"), "\"/opt/my tools/ar\"");
        assert_eq!(sd_word("100%"), "\"100%%\"");
        assert_eq!(sd_word("$HOME"), "\"$$HOME\"");
        assert_eq!(sd_word("a\"b"), "\"a\\\"b\"");
        assert_eq!(sd_word(""), "\"\"");
    }

    #[test]
    fn credential_paths_are_not_quoted() {
        // systemd does not unquote the path of LoadCredential=: quotes would become part of it.
        let text = "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[agent.credentials]\nTOKEN = \"/etc/my creds/100%.key\"\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n";
        let project =
            crate::config::load_str(text, Path::new("/etc/agent-runner/x.toml"), Scope::System)
                .unwrap();
        let options = RenderOptions {
            exec: PathBuf::from("/usr/bin/agent-runner"),
            features: Features::of(252),
            source_path: false,
        };
        let service = &render_project(&project, text, &options).unwrap()[0].contents;
        assert!(
            service.contains("LoadCredential=TOKEN:/etc/my creds/100%%.key\n"),
            "{service}"
        );
    }

    #[test]
    fn escapes_paths() {
        assert_eq!(sd_path("/srv/a%b"), "/srv/a%%b");
        assert_eq!(sd_path("/srv/with space"), "\"/srv/with space\"");
    }

    #[test]
    fn start_limit_stays_far_above_the_timer_pace() {
        assert_eq!(start_limit(1), (60, 130));
        assert_eq!(start_limit(3), (60, 50));
        assert_eq!(start_limit(600), (3600, 22));
        for delay in [1, 2, 3, 7, 60, 3600, 86_400] {
            let (interval, burst) = start_limit(delay);
            // Timer starts in one interval, at most: interval / delay + 1.
            assert!(burst >= 2 * (interval / delay + 1), "delay {delay}");
            assert!(interval >= 60);
        }
    }

    #[test]
    fn header_round_trips() {
        let text = format!("# x\n{SOURCE_MARK}/etc/agent-runner/a.toml\n{HASH_MARK}abc\n[Unit]\n");
        assert_eq!(
            parse_header(&text),
            Some((PathBuf::from("/etc/agent-runner/a.toml"), "abc".into()))
        );
        assert_eq!(parse_header("[Unit]\n"), None);
    }
}
