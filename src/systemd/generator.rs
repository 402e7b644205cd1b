//! Generator mode: systemd runs `agent-runner generator DIR…` at boot and on every daemon-reload
//! (installed as /usr/lib/systemd/{system,user}-generators/agent-runner-generator) and it renders
//! every project file of the config directory into the generator output directory.
//!
//! It follows systemd.generator(7): no D-Bus and no other process to talk to (the systemd version
//! comes from `systemctl --version` or the floor), messages go to /dev/kmsg, every unit carries
//! `SourcePath=`, a broken file is reported and skipped, and the exit status is non-zero when any
//! file failed. Output goes to argv[1], the "normal" directory, which ranks below
//! /etc/systemd/system: units written there by `agent-runner generate` (or by an operator) win,
//! so the generator skips a project that `generate` already owns and says so.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config;
use crate::error::{Error, Result, exit};
use crate::paths::Scope;
use crate::render::features::Features;
use crate::render::{self, HASH_MARK, RenderOptions, UnitFile};
use crate::systemd::generate::write_files;
use crate::systemd::version;
use crate::units::{Unit, drop_in_path};

/// What the generator was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The manager the generator runs for (from `$SYSTEMD_SCOPE`, else `--user`).
    pub scope: Scope,
    /// Where the project files are.
    pub config_dir: PathBuf,
    /// The "normal" output directory (argv[1]).
    pub output: PathBuf,
    /// Where `agent-runner generate` writes: a project found there is left to it.
    pub generated_dir: PathBuf,
    /// The binary ExecStart= runs.
    pub exec: PathBuf,
    /// Whether the packaged templates exist (else they are written too).
    pub templates_installed: bool,
    /// The systemd version to render for.
    pub systemd_version: u32,
}

/// What happened to one project file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Rendered into the output directory.
    Rendered(String),
    /// Left to the units `agent-runner generate` wrote (which take precedence); `stale` when they
    /// were generated from a different version of the TOML.
    Deferred {
        /// The project name.
        name: String,
        /// The drop-in in the generate directory.
        drop_in: PathBuf,
        /// Whether its inputs hash differs from the TOML's.
        stale: bool,
    },
    /// The file could not be rendered.
    Failed(String),
}

/// One report line for the kernel log: (syslog priority, message).
pub(crate) type LogLine = (u8, String);

/// Runs the generator for the command line `agent-runner generator NORMAL [EARLY LATE]`.
pub(crate) fn run(user_flag: bool, dirs: &[PathBuf]) -> Result<u8> {
    let Some(output) = dirs.first() else {
        return Err(Error::Usage(
            "the generator needs the output directory systemd passes as its first argument".into(),
        ));
    };
    if dirs.len() != 1 && dirs.len() != 3 {
        return Err(Error::Usage(format!(
            "a generator takes 1 or 3 directories, got {}",
            dirs.len()
        )));
    }
    let scope = match std::env::var("SYSTEMD_SCOPE").as_deref() {
        Ok("user") => Scope::User,
        Ok("system") => Scope::System,
        _ => Scope::from_user_flag(user_flag),
    };
    let options = Options {
        scope,
        config_dir: scope.config_dir(),
        output: output.clone(),
        generated_dir: scope.unit_dir(),
        exec: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/usr/bin/agent-runner")),
        templates_installed: scope
            .packaged_unit_dir()
            .join(Unit::Round.template())
            .exists(),
        systemd_version: version::installed_version()
            .unwrap_or(version::FLOOR)
            .max(version::FLOOR),
    };
    let (verdicts, log) = generate(&options);
    let mut sink = Kmsg::open();
    // Routine lines would land in the kernel log on every daemon-reload: only problems are
    // logged unless systemd's own log level asks for more (as `SYSTEMD_LOG_LEVEL=debug`).
    let verbose = matches!(
        std::env::var("SYSTEMD_LOG_LEVEL").as_deref(),
        Ok("info" | "debug" | "6" | "7")
    );
    for (priority, message) in &log {
        if *priority <= 4 || verbose {
            sink.line(*priority, message);
        }
    }
    let failed = verdicts.iter().any(|v| matches!(v, Verdict::Failed(_)));
    Ok(if failed { exit::FAILURE } else { exit::OK })
}

/// Renders every project file of the scope's config directory into `options.output`; returns
/// what happened to each and the lines to log. Never stops at a broken file.
pub(crate) fn generate(options: &Options) -> (Vec<Verdict>, Vec<LogLine>) {
    let mut verdicts = Vec::new();
    let mut log = Vec::new();
    let files = match config::discover_in(&options.config_dir) {
        Ok(files) => files,
        Err(e) => {
            log.push((3, e.to_string()));
            return (vec![Verdict::Failed(e.to_string())], log);
        }
    };
    let render_options = RenderOptions {
        exec: options.exec.clone(),
        features: Features::of(options.systemd_version),
        source_path: true,
    };
    let mut names = std::collections::BTreeSet::new();
    for file in &files {
        let verdict = one(file, options, &render_options, &mut names);
        log.push(match &verdict {
            Verdict::Rendered(name) => (6, format!("{}: rendered {name}", file.display())),
            Verdict::Deferred {
                name,
                drop_in,
                stale: false,
            } => (
                6,
                format!(
                    "{}: {name} is managed by `agent-runner generate` ({}), which takes precedence",
                    file.display(),
                    drop_in.display()
                ),
            ),
            Verdict::Deferred {
                name,
                drop_in,
                stale: true,
            } => (
                4,
                format!(
                    "{}: {name} is managed by `agent-runner generate` and {} is out of date; run `agent-runner{} generate`",
                    file.display(),
                    drop_in.display(),
                    options.scope.flag()
                ),
            ),
            Verdict::Failed(message) => (3, message.clone()),
        });
        verdicts.push(verdict);
    }
    if verdicts.iter().any(|v| matches!(v, Verdict::Rendered(_)))
        && let Some(problem) = crate::systemd::generate::missing_round_runner(&options.exec)
    {
        log.push((4, problem));
    }
    (verdicts, log)
}

fn one(
    file: &Path,
    options: &Options,
    render_options: &RenderOptions,
    names: &mut std::collections::BTreeSet<String>,
) -> Verdict {
    let fail = |e: &Error| {
        // Multi-line config errors become one kernel log line each would be noise; join them.
        Verdict::Failed(e.to_string().lines().collect::<Vec<_>>().join("; "))
    };
    let (project, text) = match config::load_with_text(file, options.scope) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e),
    };
    if !names.insert(project.name.clone()) {
        return Verdict::Failed(format!(
            "{}: project name {:?} is used by another file too",
            file.display(),
            project.name
        ));
    }
    let drop_in = options
        .generated_dir
        .join(drop_in_path(&Unit::Round.of(&project.name)));
    if let Ok(existing) = std::fs::read_to_string(&drop_in)
        && render::parse_header(&existing).is_some()
    {
        let hash = render::inputs_hash(&text);
        let stale = !existing
            .lines()
            .any(|l| l.strip_prefix(HASH_MARK) == Some(hash.as_str()));
        return Verdict::Deferred {
            name: project.name,
            drop_in,
            stale,
        };
    }
    let mut files: Vec<UnitFile> = match render::render_project(&project, &text, render_options) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    if !options.templates_installed {
        files.splice(0..0, render::templates(options.scope, &options.exec));
    }
    match write_files(&options.output, &files, false) {
        Ok(_) => Verdict::Rendered(project.name),
        Err(e) => fail(&e),
    }
}

/// The kernel log, where generator messages belong (nothing else runs yet). stderr instead when
/// a person runs the generator in a terminal or asks for it as systemd's own tools are asked
/// (`SYSTEMD_LOG_TARGET=console`), and when /dev/kmsg cannot be opened (a user manager's
/// generator, a container).
struct Kmsg(Option<std::fs::File>);

impl Kmsg {
    fn open() -> Self {
        use std::io::IsTerminal;
        let console = std::env::var("SYSTEMD_LOG_TARGET").is_ok_and(|t| t == "console")
            || std::io::stderr().is_terminal();
        if console {
            return Self(None);
        }
        Self(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/kmsg")
                .ok(),
        )
    }

    fn line(&mut self, priority: u8, message: &str) {
        let ident = "agent-runner-generator";
        match &mut self.0 {
            // One write() per record: that is what makes it one kmsg line.
            Some(kmsg) => {
                let _ = kmsg.write_all(
                    format!("<{priority}>{ident}[{}]: {message}\n", std::process::id()).as_bytes(),
                );
            }
            None => eprintln!("{ident}: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::DROP_IN_NAME;

    fn project_toml(dir: &Path, name: &str, work: &Path) -> PathBuf {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = {:?}\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n",
                work.display()
            ),
        )
        .unwrap();
        path
    }

    fn options(root: &Path) -> Options {
        Options {
            scope: Scope::System,
            config_dir: root.join("conf"),
            output: root.join("out"),
            generated_dir: root.join("etc"),
            exec: root.join("bin-without-round").join("agent-runner"),
            templates_installed: true,
            systemd_version: 252,
        }
    }

    // One test, because AGENT_RUNNER_CONFIG_DIR is process-wide.
    #[test]
    fn renders_good_files_reports_bad_ones_and_defers_to_generate() {
        let root = tempfile::tempdir().unwrap();
        let conf = root.path().join("conf");
        std::fs::create_dir_all(&conf).unwrap();
        project_toml(&conf, "alpha", root.path());
        project_toml(&conf, "gamma", root.path());
        std::fs::write(conf.join("beta.toml"), "schema_version = 1\n[agent\n").unwrap();
        let opts = options(root.path());

        let (verdicts, log) = generate(&opts);
        assert_eq!(verdicts.len(), 3, "{verdicts:?}");
        assert_eq!(verdicts[0], Verdict::Rendered("alpha".into()));
        assert!(
            matches!(&verdicts[1], Verdict::Failed(m) if m.contains("beta.toml")),
            "{verdicts:?}"
        );
        assert_eq!(verdicts[2], Verdict::Rendered("gamma".into()));
        assert!(log.iter().any(|(p, m)| *p == 3 && m.contains("beta.toml")));
        let missing = |log: &[LogLine]| {
            log.iter()
                .any(|(p, m)| *p == 4 && m.contains("agent-runner-round is missing"))
        };
        assert!(missing(&log), "{log:?}");
        let service = std::fs::read_to_string(
            opts.output
                .join("agent-runner@alpha.service.d")
                .join(DROP_IN_NAME),
        )
        .unwrap();
        assert!(
            service.contains(&format!("SourcePath={}", conf.join("alpha.toml").display())),
            "{service}"
        );
        assert!(!opts.output.join("agent-runner@.service").exists());

        // `generate` wrote gamma into the higher-priority directory: the generator leaves it.
        let etc_drop_in = opts
            .generated_dir
            .join("agent-runner@gamma.service.d")
            .join(DROP_IN_NAME);
        std::fs::create_dir_all(etc_drop_in.parent().unwrap()).unwrap();
        std::fs::copy(
            opts.output
                .join("agent-runner@gamma.service.d")
                .join(DROP_IN_NAME),
            &etc_drop_in,
        )
        .unwrap();
        // With the round binary beside the generator, nothing to say about it.
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("agent-runner-round"), "").unwrap();
        let fresh = Options {
            output: root.path().join("out2"),
            templates_installed: false,
            exec: bin.join("agent-runner"),
            ..opts.clone()
        };
        let (verdicts, log) = generate(&fresh);
        assert!(!missing(&log), "{log:?}");
        assert!(
            matches!(&verdicts[2], Verdict::Deferred { stale: false, .. }),
            "{verdicts:?}"
        );
        assert!(!fresh.output.join("agent-runner@gamma.service.d").exists());
        assert!(fresh.output.join("agent-runner@.service").exists());

        // The TOML changed after `generate`: still deferred, but reported as stale.
        let text = std::fs::read_to_string(conf.join("gamma.toml")).unwrap();
        std::fs::write(conf.join("gamma.toml"), format!("{text}# edited\n")).unwrap();
        let (verdicts, log) = generate(&opts);
        assert!(matches!(
            &verdicts[2],
            Verdict::Deferred { stale: true, .. }
        ));
        assert!(
            log.iter()
                .any(|(p, m)| *p == 4 && m.contains("out of date"))
        );
    }
}
