//! The startup battery: what a valid project file cannot promise on its own (the work tree, the
//! prompt files, the agent program, the log directory, the user, the credentials exist and are
//! usable; the agent CLI's state directories are its user's, [`super::home_state`]). Every round runs it before spawning the agent; `check` and `diagnose` show it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub(crate) use super::finding::{Finding, Severity};
use super::model::{Project, PromptDelivery, PromptSpec};
use crate::fsutil;
use crate::paths::Scope;

/// The PATH systemd gives services (systemd.exec(5), "Environment variables in spawned processes").
pub(crate) const SERVICE_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Prompts shorter than this (after trimming) are almost certainly placeholders.
const MIN_PROMPT_CHARS: usize = 40;

/// Runs the startup battery on a valid project: errors first, then warnings. Cheap: no process
/// is spawned.
pub(crate) fn run(project: &Project) -> Vec<Finding> {
    let mut findings = errors(project);
    warn_about_secrets_in_env(project, &mut findings);
    warn_about_argv_delivery(project, &mut findings);
    warn_about_stdin_into_a_container(project, &mut findings);
    warn_about_the_round_user(project, &mut findings);
    warn_about_private_tmp(project, &mut findings);
    super::home_state::check(project, &mut findings);
    findings
}

/// The checks whose failure stops a round, and nothing else: what every round runs before its
/// spawn. The warnings (user and home lookups among them) are for `check` and `diagnose`.
pub(crate) fn errors(project: &Project) -> Vec<Finding> {
    let mut findings = Vec::new();
    check_work_dir(project, &mut findings);
    check_prompts(project, &mut findings);
    check_agent_program(project, &mut findings);
    check_log_dir(project, &mut findings);
    check_user(project, &mut findings);
    check_credentials(project, &mut findings);
    findings
}

fn check_work_dir(project: &Project, findings: &mut Vec<Finding>) {
    let work_dir = &project.runtime.work_dir;
    if !work_dir.is_dir() {
        findings.push(Finding::error(
            "work_dir_exists",
            format!(
                "work_dir {} does not exist or is not a directory",
                work_dir.display()
            ),
            format!(
                "create it and run `git init` there, or fix [runtime] work_dir in {}",
                project.source.display()
            ),
        ));
    } else if !is_git_work_tree(work_dir) {
        findings.push(Finding::error(
            "work_dir_is_git_repo",
            format!(
                "work_dir {} is not inside a git repository",
                work_dir.display()
            ),
            format!("run `git -C {} init`", work_dir.display()),
        ));
    }
}

/// Every prompt (the default one, then each phase's): its files are readable (each unreadable
/// file is reported once), it says something, and it cannot be mistaken for an option.
fn check_prompts(project: &Project, findings: &mut Vec<Finding>) {
    let mut prompt_specs = vec![&project.prompt];
    prompt_specs.extend(project.phases.iter().map(|p| &p.prompt));
    let mut seen: HashSet<&PathBuf> = HashSet::new();
    for spec in prompt_specs {
        let (text, all_read) = read_prompt(spec, &project.runtime.work_dir, &mut seen, findings);
        let trimmed = text.trim();
        if !spec.files.is_empty() && all_read && trimmed.chars().count() < MIN_PROMPT_CHARS {
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
}

/// The concatenated text of the files of `spec` that can be read, and whether all could; a file
/// that cannot is an error unless it is in `seen` already. Below `work_dir` the agent may have
/// planted a link, a FIFO or /dev/zero where a prompt is expected: each is refused without
/// blocking, as is a file over [`fsutil::PROMPT_MAX_BYTES`].
fn read_prompt<'p>(
    spec: &'p PromptSpec,
    work_dir: &Path,
    seen: &mut HashSet<&'p PathBuf>,
    findings: &mut Vec<Finding>,
) -> (String, bool) {
    let mut total = String::new();
    let mut all_read = true;
    for file in &spec.files {
        match fsutil::read_agent_text(file, work_dir, fsutil::PROMPT_MAX_BYTES) {
            Ok(text) => total.push_str(&text),
            Err(e) => {
                all_read = false;
                if !seen.contains(file) {
                    findings.push(Finding::error(
                        "prompt_file_exists",
                        format!(
                            "prompt file {} cannot be read: {}",
                            file.display(),
                            e.io_source().map_or_else(|| e.to_string(), plain_io)
                        ),
                        "create it, or fix the path in [prompt] files".to_string(),
                    ));
                }
            }
        }
        seen.insert(file);
    }
    (total, all_read)
}

fn check_agent_program(project: &Project, findings: &mut Vec<Finding>) {
    let path_var = project
        .agent
        .env
        .get("PATH")
        .map_or(SERVICE_PATH, String::as_str);
    let missing =
        |program: &str| resolve_program(program, path_var, &project.runtime.work_dir).is_none();
    // With an exec_prefix the host starts the prefix's program; the agent's may live elsewhere
    // (in a container's image).
    if let Some(program) = project.agent.exec_prefix.first()
        && missing(program)
    {
        findings.push(Finding::error(
            "agent_cli_in_path",
            format!("the exec_prefix program `{}` is not an executable on the service's PATH ({path_var})", super::escaped(program)),
            "install it, give its absolute path in [agent] exec_prefix, or set PATH in [agent.env]".to_string(),
        ));
    } else if let Some(program) = project.agent.command.first()
        && project.agent.exec_prefix.is_empty()
        && missing(program)
    {
        findings.push(Finding::error(
            "agent_cli_in_path",
            format!("the agent command `{program}` is not an executable on the service's PATH ({path_var})"),
            "install it, give its absolute path in [agent] command, or set PATH in [agent.env]".to_string(),
        ));
    }
    for (list, index, argv) in project.hooks.all() {
        if missing(&argv[0]) {
            let program = super::escaped(&argv[0]);
            let what = if program.contains('/') {
                format!(
                    "`{program}` is not an executable file (a relative path starts in work_dir)"
                )
            } else {
                format!("`{program}` is not an executable on the service's PATH ({path_var})")
            };
            findings.push(Finding::error(
                "hook_in_path",
                format!("[hooks] {list} hook {index}: {what}"),
                "install it, give its path in [hooks] (relative ones start in work_dir), or set PATH in [agent.env]".to_string(),
            ));
        }
    }
}

/// An explicit log_dir, or a user project's: systemd creates the system default itself.
fn check_log_dir(project: &Project, findings: &mut Vec<Finding>) {
    let rt = &project.runtime;
    if (rt.log_dir_explicit || project.scope == Scope::User)
        && let Err(reason) = writable_dir(&rt.log_dir)
    {
        findings.push(Finding::error(
            "log_dir_writable",
            format!("log_dir {} is not writable: {reason}", rt.log_dir.display()),
            "fix its permissions, or point [runtime] log_dir somewhere writable".to_string(),
        ));
    }
}

fn check_user(project: &Project, findings: &mut Vec<Finding>) {
    if let Some(user) = &project.runtime.user
        && nix::unistd::User::from_name(user).ok().flatten().is_none()
    {
        findings.push(Finding::error(
            "user_exists",
            format!("user {user:?} does not exist on this host"),
            format!("create it (`useradd --system --create-home {user}`) or fix [runtime] user"),
        ));
    }
}

fn check_credentials(project: &Project, findings: &mut Vec<Finding>) {
    for (name, file) in &project.agent.credentials {
        let path = credential_path(name, file);
        if !path.is_file() {
            findings.push(Finding::error(
                "credential_exists",
                format!("credential {name}: {} does not exist", path.display()),
                "create the file (mode 0600, owned by root) or fix [agent.credentials]".to_string(),
            ));
        }
    }
}

/// Where a round reads credential `name`: under systemd the copy LoadCredential= made for it in
/// `$CREDENTIALS_DIRECTORY`, since the configured file may sit where only root can look; by hand,
/// the configured file.
pub(crate) fn credential_path(name: &str, file: &Path) -> PathBuf {
    std::env::var_os("CREDENTIALS_DIRECTORY")
        .map_or_else(|| file.to_path_buf(), |dir| PathBuf::from(dir).join(name))
}

fn warn_about_secrets_in_env(project: &Project, findings: &mut Vec<Finding>) {
    for (key, _) in project.agent.secret_env() {
        findings.push(Finding::warning(
            "secret_in_env",
            format!("[agent.env] {key} looks like a secret: its value sits in the project file for whoever can read it, and round logs do not mask it"),
            format!("move it to [agent.credentials] as {key} = \"/path/to/file\" (mode 0600): the agent still gets it as ${key}"),
        ));
    }
}

/// A container runtime's `run` drops stdin without `-i`: a prompt delivered on stdin would never
/// reach the agent, which waits for it until the round's timeout.
fn warn_about_stdin_into_a_container(project: &Project, findings: &mut Vec<Finding>) {
    let prefix = &project.agent.exec_prefix;
    let runtime = prefix.first().and_then(|p| Path::new(p).file_name());
    let is_container_run = runtime
        .is_some_and(|r| ["docker", "podman", "nerdctl"].iter().any(|c| r == *c))
        && prefix.iter().any(|w| w == "run");
    let interactive = prefix.iter().any(|w| {
        w == "--interactive"
            || w.starts_with("--interactive=")
            || (w.starts_with('-') && !w.starts_with("--") && w.contains('i'))
    });
    if project.agent.prompt_delivery == PromptDelivery::Stdin && is_container_run && !interactive {
        findings.push(Finding::warning(
            "container_stdin",
            "the prompt is delivered on stdin, but [agent] exec_prefix runs a container without -i: the container gets no stdin and the agent waits for its prompt until the round times out".to_string(),
            "add \"-i\" to exec_prefix after \"run\"".to_string(),
        ));
    }
}

fn warn_about_argv_delivery(project: &Project, findings: &mut Vec<Finding>) {
    if project.agent.prompt_delivery == PromptDelivery::Argv {
        findings.push(Finding::warning(
            "prompt_visible_in_ps",
            "prompt_delivery = \"argv\": the whole prompt is visible to every user in `ps`"
                .to_string(),
            "use stdin or file delivery if the agent supports it".to_string(),
        ));
    }
}

/// A system project without `[runtime] user` runs as the owner of work_dir: say who that is.
fn warn_about_the_round_user(project: &Project, findings: &mut Vec<Finding>) {
    let rt = &project.runtime;
    if project.scope == Scope::System && rt.user.is_none() && rt.work_dir.is_dir() {
        let message = match fsutil::owner_unless_root(&rt.work_dir) {
            Some(owner) => format!("no [runtime] user: rounds run as {owner}, the owner of work_dir"),
            None => "no [runtime] user and root owns work_dir: rounds would run as a transient DynamicUser= that cannot write there".to_string(),
        };
        findings.push(Finding::warning(
            "runs_as",
            message,
            "set [runtime] user to the account the agent should use".to_string(),
        ));
    }
}

/// The round service has PrivateTmp=yes: what lies under /tmp is not what the agent sees.
fn warn_about_private_tmp(project: &Project, findings: &mut Vec<Finding>) {
    if project.scope != Scope::System {
        return;
    }
    let rt = &project.runtime;
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
/// One `lstat` per level, no process and no link followed: the agent can plant a `.git` link
/// pointing anywhere, so a `.git` that is a link does not count (git itself would follow it).
fn is_git_work_tree(dir: &Path) -> bool {
    dir.ancestors().any(|d| {
        d.join(".git")
            .symlink_metadata()
            .is_ok_and(|m| m.is_dir() || m.is_file())
    })
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn project(work_dir: &str) -> Project {
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"{work_dir}\"\n[prompt]\nfiles = [\"/etc/hostname\"]\n"
        );
        crate::config::load_str(&text, Path::new("/etc/agent-runner/t.toml"), Scope::System)
            .unwrap()
    }

    #[test]
    fn warns_about_private_tmp_and_a_root_owned_work_dir() {
        let findings = run(&project("/tmp"));
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
        let secrets: Vec<_> = run(&p)
            .into_iter()
            .filter(|f| f.check == "secret_in_env")
            .collect();
        assert_eq!(secrets.len(), 1, "{secrets:?}");
        assert!(secrets[0].message.contains("OPENAI_API_KEY"));
    }

    #[test]
    fn an_exec_prefix_and_hooks_are_checked_like_the_agent_command() {
        let checks = |p: &Project, check: &str| -> Vec<String> {
            run(p)
                .into_iter()
                .filter(|f| f.check == check)
                .map(|f| f.message)
                .collect()
        };
        let mut p = project("/srv");
        p.agent.command = vec!["/in/the/image/only".into()];
        assert_eq!(checks(&p, "agent_cli_in_path").len(), 1);
        let words = |w: &[&str]| w.iter().map(ToString::to_string).collect::<Vec<_>>();
        p.agent.exec_prefix = words(&["/bin/sh", "run"]);
        assert!(
            checks(&p, "agent_cli_in_path").is_empty(),
            "the prefix's program runs on the host"
        );
        p.agent.exec_prefix = words(&["podman", "run", "--rm", "img"]);
        assert_eq!(checks(&p, "container_stdin").len(), 1);
        p.agent.exec_prefix = words(&["podman", "run", "--rm", "-it", "img"]);
        assert!(checks(&p, "container_stdin").is_empty());
        p.hooks.pre_round = vec![words(&["/bin/true"])];
        p.hooks.post_round = vec![words(&["true"]), words(&["./no-such-hook"])];
        assert_eq!(
            checks(&p, "hook_in_path"),
            [
                "[hooks] post_round hook 1: `./no-such-hook` is not an executable file (a relative path starts in work_dir)"
            ]
        );
    }

    #[test]
    fn a_prompt_that_is_a_fifo_a_device_or_behind_a_link_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().to_path_buf();
        nix::unistd::mkfifo(
            &work.join("fifo.md"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        std::os::unix::fs::symlink("/dev/zero", work.join("zero.md")).unwrap();
        std::fs::create_dir(work.join("real")).unwrap();
        std::fs::write(work.join("real/main.md"), "x".repeat(100)).unwrap();
        std::os::unix::fs::symlink("real", work.join("prompts")).unwrap();
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"{}\"\n[prompt]\nfiles = [\"fifo.md\", \"zero.md\", \"prompts/main.md\", \"/dev/zero\"]\n",
            work.display()
        );
        let p = crate::config::load_str(&text, &work.join("t.toml"), Scope::User).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(run(&p)));
        let findings = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("the battery does not block on a FIFO");
        let refused: Vec<&str> = findings
            .iter()
            .filter(|f| f.check == "prompt_file_exists")
            .map(|f| f.message.as_str())
            .collect();
        let w = work.display();
        assert_eq!(
            refused,
            [
                format!("prompt file {w}/fifo.md cannot be read: is a FIFO, not a regular file"),
                format!("prompt file {w}/zero.md cannot be read: is a symbolic link"),
                format!(
                    "prompt file {w}/prompts/main.md cannot be read: {w}/prompts is a symbolic link"
                ),
                "prompt file /dev/zero cannot be read: is a device, not a regular file".into(),
            ]
        );
        assert!(
            !findings.iter().any(|f| f.check == "prompt_not_trivial"),
            "{findings:?}"
        );
    }

    #[test]
    fn a_prompt_file_over_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path();
        let cap = usize::try_from(fsutil::PROMPT_MAX_BYTES).unwrap();
        std::fs::write(work.join("big.md"), "x".repeat(cap + 1)).unwrap();
        std::fs::write(work.join("max.md"), "x".repeat(cap)).unwrap();
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"{}\"\n[prompt]\nfiles = [\"big.md\", \"max.md\"]\n",
            work.display()
        );
        let p = crate::config::load_str(&text, &work.join("t.toml"), Scope::User).unwrap();
        let refused: Vec<String> = run(&p)
            .into_iter()
            .filter(|f| f.check == "prompt_file_exists")
            .map(|f| f.message)
            .collect();
        assert_eq!(
            refused,
            [format!(
                "prompt file {}/big.md cannot be read: is larger than 1 MiB",
                work.display()
            )]
        );
    }

    #[test]
    fn a_git_link_planted_in_the_work_dir_is_not_a_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("elsewhere");
        std::fs::create_dir_all(real.join(".git")).unwrap();
        let work = tmp.path().join("work");
        std::fs::create_dir(&work).unwrap();
        std::os::unix::fs::symlink(real.join(".git"), work.join(".git")).unwrap();
        assert!(!is_git_work_tree(&work));
        assert!(is_git_work_tree(&real));
    }

    #[test]
    fn a_missing_work_dir_and_a_short_prompt_are_errors() {
        let findings = run(&project("/nonexistent/dir"));
        let errors: Vec<&str> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.check)
            .collect();
        assert!(errors.contains(&"work_dir_exists"), "{errors:?}");
        assert!(errors.contains(&"prompt_not_trivial"), "{errors:?}");
    }
}
