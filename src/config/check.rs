//! `agent-runner check` and the startup battery every round runs before spawning the agent.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::load::{self, ProjectRef};
use super::model::{Project, PromptDelivery};
use crate::config;
use crate::context::Context;
use crate::error::{ConfigProblem, Error, Result, exit};
use crate::paths::Scope;

/// The PATH systemd gives services (systemd.exec(5), "Environment variables in spawned processes").
pub(crate) const SERVICE_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Prompts shorter than this (after trimming) are almost certainly placeholders.
pub(crate) const MIN_PROMPT_CHARS: usize = 40;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    /// The round cannot run: `config_broken`, exit 78.
    Error,
    /// Worth knowing; does not stop rounds.
    Warning,
}

/// One result of the startup battery.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Finding {
    /// Which check (stable identifier, e.g. `work_dir_is_git_repo`).
    pub check: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

impl Finding {
    fn error(check: &'static str, message: String, hint: impl Into<Option<String>>) -> Self {
        Self {
            check,
            severity: Severity::Error,
            message,
            hint: hint.into(),
        }
    }

    fn warning(check: &'static str, message: String, hint: impl Into<Option<String>>) -> Self {
        Self {
            check,
            severity: Severity::Warning,
            message,
            hint: hint.into(),
        }
    }
}

/// Runs the startup battery on a valid project. Cheap: no process is spawned.
pub(crate) fn battery(project: &Project) -> Vec<Finding> {
    let mut findings = Vec::new();
    let rt = &project.runtime;

    if !rt.work_dir.is_dir() {
        findings.push(Finding::error(
            "work_dir_exists",
            format!(
                "work_dir {} does not exist or is not a directory",
                rt.work_dir.display()
            ),
            format!(
                "create it and run `git init` there, or fix [runtime] work_dir in {}",
                project.source.display()
            ),
        ));
    } else if !is_git_work_tree(&rt.work_dir) {
        findings.push(Finding::error(
            "work_dir_is_git_repo",
            format!(
                "work_dir {} is not inside a git repository",
                rt.work_dir.display()
            ),
            format!("run `git -C {} init`", rt.work_dir.display()),
        ));
    }

    let mut prompt_specs = vec![&project.prompt];
    prompt_specs.extend(project.phases.iter().map(|p| &p.prompt));
    let mut seen: Vec<&PathBuf> = Vec::new();
    for spec in prompt_specs {
        let mut total = String::new();
        for file in &spec.files {
            match std::fs::read_to_string(file) {
                Ok(text) => total.push_str(&text),
                Err(e) => {
                    if !seen.contains(&file) {
                        findings.push(Finding::error(
                            "prompt_file_exists",
                            format!(
                                "prompt file {} cannot be read: {}",
                                file.display(),
                                plain_io(&e)
                            ),
                            "create it, or fix the path in [prompt] files".to_string(),
                        ));
                    }
                }
            }
            seen.push(file);
        }
        let trimmed = total.trim();
        if !spec.files.is_empty()
            && spec.files.iter().all(|f| f.is_file())
            && trimmed.chars().count() < MIN_PROMPT_CHARS
        {
            findings.push(Finding::error(
                "prompt_not_trivial",
                format!(
                    "the prompt from {} is only {} characters",
                    display_list(&spec.files),
                    trimmed.chars().count()
                ),
                format!("write real instructions (at least {MIN_PROMPT_CHARS} characters)"),
            ));
        }
        if project.agent.prompt_delivery == PromptDelivery::Argv && trimmed.starts_with('-') {
            findings.push(Finding::error(
                "prompt_not_a_flag",
                "the prompt starts with `-` and would be read as an option by the agent"
                    .to_string(),
                "start the prompt with text".to_string(),
            ));
        }
    }

    let path_var = project
        .agent
        .env
        .get("PATH")
        .map_or(SERVICE_PATH, String::as_str);
    if let Some(program) = project.agent.command.first()
        && resolve_program(program, path_var, &rt.work_dir).is_none()
    {
        findings.push(Finding::error(
            "agent_cli_in_path",
            format!("the agent command `{program}` is not an executable on the service's PATH ({path_var})"),
            "install it, give its absolute path in [agent] command, or set PATH in [agent.env]".to_string(),
        ));
    }

    if (rt.log_dir_explicit || project.scope == Scope::User)
        && let Err(reason) = writable_dir(&rt.log_dir)
    {
        findings.push(Finding::error(
            "log_dir_writable",
            format!("log_dir {} is not writable: {reason}", rt.log_dir.display()),
            "fix its permissions, or point [runtime] log_dir somewhere writable".to_string(),
        ));
    }

    if let Some(user) = &rt.user
        && nix::unistd::User::from_name(user).ok().flatten().is_none()
    {
        findings.push(Finding::error(
            "user_exists",
            format!("user {user:?} does not exist on this host"),
            format!("create it (`useradd --system --create-home {user}`) or fix [runtime] user"),
        ));
    }

    for (name, path) in &project.agent.credentials {
        if !path.is_file() {
            findings.push(Finding::error(
                "credential_exists",
                format!("credential {name}: {} does not exist", path.display()),
                "create the file (mode 0600, owned by root) or fix [agent.credentials]".to_string(),
            ));
        }
    }

    for key in project.agent.env.keys().filter(|k| looks_like_a_secret(k)) {
        findings.push(Finding::warning(
            "secret_in_env",
            format!("[agent.env] {key} looks like a secret: it would be readable in the unit's environment and is not masked in round logs"),
            format!("move it to [agent.credentials] as {key} = \"/path/to/file\" (mode 0600): the agent still gets it as ${key}"),
        ));
    }
    if project.agent.prompt_delivery == PromptDelivery::Argv {
        findings.push(Finding::warning(
            "prompt_visible_in_ps",
            "prompt_delivery = \"argv\": the whole prompt is visible to every user in `ps`"
                .to_string(),
            "use stdin or file delivery if the agent supports it".to_string(),
        ));
    }
    if project.scope == Scope::System && rt.user.is_none() && rt.work_dir.is_dir() {
        let message = match crate::fsutil::owner_unless_root(&rt.work_dir) {
            Some(owner) => format!("no [runtime] user: rounds run as {owner}, the owner of work_dir"),
            None => "no [runtime] user and root owns work_dir: rounds would run as a transient DynamicUser= that cannot write there".to_string(),
        };
        findings.push(Finding::warning(
            "runs_as",
            message,
            "set [runtime] user to the account the agent should use".to_string(),
        ));
    }
    if project.scope == Scope::System {
        // The round service has PrivateTmp=yes: what lies under /tmp is not what the agent sees.
        for (key, dir) in [("work_dir", &rt.work_dir), ("log_dir", &rt.log_dir)] {
            if dir.starts_with("/tmp") || dir.starts_with("/var/tmp") {
                findings.push(Finding::warning(
                    "not_in_private_tmp",
                    format!("{key} {} is under {}, which the round service replaces with a private, empty directory", dir.display(), if dir.starts_with("/tmp") { "/tmp" } else { "/var/tmp" }),
                    format!("move {key} out of /tmp and /var/tmp (e.g. under /srv or /var/lib)"),
                ));
            }
        }
    }
    findings
}

/// Whether an environment variable name usually holds a secret.
fn looks_like_a_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w))
}

fn display_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn plain_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Whether `dir` is inside a git work tree (a `.git` directory or file in it or an ancestor).
pub(crate) fn is_git_work_tree(dir: &Path) -> bool {
    dir.ancestors().any(|d| d.join(".git").exists())
}

/// Where `program` resolves: a path (relative ones against `cwd`) or a PATH search.
pub(crate) fn resolve_program(program: &str, path_var: &str, cwd: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.is_file()
            && p.metadata()
                .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = cwd.join(program);
        return executable(&path).then_some(path);
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| executable(p))
}

/// Whether `dir` is (or can be created as) a writable directory.
pub(crate) fn writable_dir(dir: &Path) -> std::result::Result<(), String> {
    use nix::unistd::{AccessFlags, access};
    let existing = dir
        .ancestors()
        .find(|d| d.exists())
        .unwrap_or(Path::new("/"));
    if existing == dir && !dir.is_dir() {
        return Err("it exists and is not a directory".into());
    }
    access(existing, AccessFlags::W_OK | AccessFlags::X_OK).map_err(|e| {
        if existing == dir {
            e.desc().to_lowercase()
        } else {
            format!(
                "cannot create it in {}: {}",
                existing.display(),
                e.desc().to_lowercase()
            )
        }
    })
}

/// Two files naming the same project would fight over the same units (`generate` refuses them).
fn mark_duplicate_names(verdicts: &mut [Verdict]) {
    for i in 0..verdicts.len() {
        let others: Vec<String> = verdicts
            .iter()
            .enumerate()
            .filter(|(j, v)| *j != i && v.project == verdicts[i].project)
            .map(|(_, v)| v.source.display().to_string())
            .collect();
        if !others.is_empty() {
            let verdict = &mut verdicts[i];
            verdict.ok = false;
            verdict.problems.push(Problem {
                check: "config_valid".into(),
                severity: Severity::Error,
                message: format!(
                    "project name {:?} is also used by {}",
                    verdict.project,
                    others.join(", ")
                ),
                hint: Some("give each project its own `name` (or file name)".into()),
            });
        }
    }
}

#[derive(Serialize)]
struct Verdict {
    project: String,
    source: PathBuf,
    ok: bool,
    problems: Vec<Problem>,
}

#[derive(Serialize)]
struct Problem {
    check: String,
    severity: Severity,
    message: String,
    hint: Option<String>,
}

fn verdict_for(reference: &ProjectRef, scope: Scope) -> Verdict {
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
    match crate::config::load_project(reference, scope) {
        Err(Error::Config(problems)) => Verdict {
            project: name,
            source,
            ok: false,
            problems: problems.iter().map(config_problem).collect(),
        },
        Err(e) => Verdict {
            project: name,
            source,
            ok: false,
            problems: vec![Problem {
                check: "config_valid".into(),
                severity: Severity::Error,
                message: e.to_string(),
                hint: None,
            }],
        },
        Ok(project) => {
            // An invalid schedule is a configuration error like any other: no battery after it.
            let problems: Vec<Problem> = match config::verify_schedule(&project) {
                Some(problem) => vec![config_problem(&problem)],
                None => battery(&project)
                    .into_iter()
                    .map(|f| Problem {
                        check: f.check.into(),
                        severity: f.severity,
                        message: f.message,
                        hint: f.hint,
                    })
                    .collect(),
            };
            Verdict {
                ok: problems.iter().all(|p| p.severity != Severity::Error),
                project: project.name.clone(),
                source: project.source.clone(),
                problems,
            }
        }
    }
}

fn config_problem(p: &ConfigProblem) -> Problem {
    let mut message = p.to_string();
    if let Some(hint) = &p.hint {
        message = message.replace(&format!("\n  hint: {hint}"), "");
    }
    Problem {
        check: "config_valid".into(),
        severity: Severity::Error,
        message,
        hint: p.hint.clone(),
    }
}

/// `agent-runner check [NAME | --config FILE] [--json]`.
pub(crate) fn run(ctx: &Context, reference: Option<ProjectRef>, json: bool) -> Result<u8> {
    let references = if let Some(r) = reference {
        vec![r]
    } else {
        {
            let files = config::discover(ctx.scope)?;
            if files.is_empty() {
                return Err(Error::config(ConfigProblem::new(ctx.scope.config_dir(), "no project files (*.toml) here").hint(format!(
                    "create one with `agent-runner{} init --preset shell NAME`, or pass --config FILE",
                    ctx.scope.flag()
                ))));
            }
            files.into_iter().map(ProjectRef::File).collect()
        }
    };
    let mut verdicts: Vec<Verdict> = references
        .iter()
        .map(|r| verdict_for(r, ctx.scope))
        .collect();
    mark_duplicate_names(&mut verdicts);
    let all_ok = verdicts.iter().all(|v| v.ok);
    if json {
        let text = if verdicts.len() == 1 {
            serde_json::to_string_pretty(&verdicts[0])
        } else {
            serde_json::to_string_pretty(&verdicts)
        };
        println!("{}", text.map_err(|e| Error::Failed(e.to_string()))?);
    } else {
        for v in &verdicts {
            let errors = v
                .problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            if v.ok {
                println!("{}: ok ({})", v.project, v.source.display());
            } else {
                println!(
                    "{}: {errors} problem{} ({})",
                    v.project,
                    if errors == 1 { "" } else { "s" },
                    v.source.display()
                );
            }
            for p in &v.problems {
                let tag = match p.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                println!("  {tag}: {}", p.message.replace('\n', "\n    "));
                if let Some(hint) = &p.hint {
                    println!("    hint: {hint}");
                }
            }
        }
    }
    Ok(if all_ok { exit::OK } else { exit::CONFIG })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn project(work_dir: &str) -> Project {
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"{work_dir}\"\n[prompt]\nfiles = [\"/etc/hostname\"]\n"
        );
        config::load_str(&text, Path::new("/etc/agent-runner/t.toml"), Scope::System).unwrap()
    }

    #[test]
    fn warns_about_private_tmp_and_a_root_owned_work_dir() {
        let findings = battery(&project("/tmp"));
        let warning = |check: &str| {
            findings
                .iter()
                .find(|f| f.check == check && f.severity == Severity::Warning)
        };
        assert!(warning("not_in_private_tmp").is_some(), "{findings:?}");
        let runs_as = warning("runs_as").expect("runs_as warning");
        assert!(
            runs_as.message.contains("root owns work_dir"),
            "{}",
            runs_as.message
        );
    }

    #[test]
    fn warns_about_secrets_in_the_environment() {
        let mut p = project("/srv");
        p.agent.env.insert("OPENAI_API_KEY".into(), "sk-x".into());
        p.agent.env.insert("LANG".into(), "C.UTF-8".into());
        let secrets: Vec<_> = battery(&p)
            .into_iter()
            .filter(|f| f.check == "secret_in_env")
            .collect();
        assert_eq!(secrets.len(), 1, "{secrets:?}");
        assert!(secrets[0].message.contains("OPENAI_API_KEY"));
    }

    #[test]
    fn a_missing_work_dir_and_a_short_prompt_are_errors() {
        let findings = battery(&project("/nonexistent/dir"));
        let errors: Vec<&str> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.check)
            .collect();
        assert!(errors.contains(&"work_dir_exists"), "{errors:?}");
        assert!(errors.contains(&"prompt_not_trivial"), "{errors:?}");
    }
}
