//! The startup battery's look at the agent CLI's own state: each of `[agent] state_paths` is a
//! directory of the user rounds run as, below that user's home. The system units make only these
//! writable and skip a missing one, so a CLI whose directory is missing, someone else's or a link
//! cannot keep its login or sessions, and nothing else would say why.
//!
//! The agent can write in its home: nothing there is followed. Each path is reached from the home
//! held open with no symbolic link followed ([`Dir`]), and a link is reported, not read through.

use std::io;
use std::path::{Path, PathBuf};

use super::account::{self, Account, RunsAs};
use super::finding::Finding;
use super::model::Project;
use crate::error::Error;
use crate::fsutil::{Dir, Refusal};
use crate::output::shell_quote;
use crate::paths::Scope;

/// Adds a warning for each state path the CLI could not keep its state in.
pub(super) fn check(project: &Project, findings: &mut Vec<Finding>) {
    if project.agent.state_paths.is_empty() {
        return;
    }
    match account::account(project) {
        Some(account) => check_account(project, &account, findings),
        None => warn_without_home(project, findings),
    }
}

/// [`check`] for the account rounds run as.
fn check_account(project: &Project, account: &Account, findings: &mut Vec<Finding>) {
    let home = match Dir::open(&account.home) {
        Ok(home) => home,
        Err(e) => {
            findings.push(unreadable(project, &account.home, &e));
            return;
        }
    };
    for rel in &project.agent.state_paths {
        if let Some(finding) = check_one(project, account, &home, rel) {
            findings.push(finding);
        }
    }
    if let Some(finding) = home_files_left_behind(project, account, &home) {
        findings.push(finding);
    }
}

/// Rounds that run as a dynamic user (no home) keep nothing between rounds; an unknown user is
/// `user_exists`'s error already.
fn warn_without_home(project: &Project, findings: &mut Vec<Finding>) {
    let paths = listed(&project.agent.state_paths);
    let message = match account::runs_as(project) {
        RunsAs::Dynamic => format!(
            "rounds run as a transient DynamicUser= without a home: the agent's CLI keeps nothing of {paths} (login, sessions, memory) from one round to the next"
        ),
        RunsAs::User(name) if nix::unistd::User::from_name(&name).ok().flatten().is_some() => {
            format!(
                "user {name} has no home directory to keep {paths} in (login, sessions, memory)"
            )
        }
        RunsAs::User(_) | RunsAs::Manager => return,
    };
    findings.push(Finding::warning(
        "state_path_usable",
        message,
        "set [runtime] user to an account with a home, or state_paths = [] if the CLI needs none"
            .to_string(),
    ));
}

/// The finding for one state path, if it is not a directory the account owns.
fn check_one(project: &Project, account: &Account, home: &Dir, rel: &Path) -> Option<Finding> {
    let path = account.home.join(rel);
    let dir = match home.subdir(rel) {
        Ok(dir) => dir,
        Err(e) => return missing_or_refused(project, account, &path, &e),
    };
    let owner = match dir.owner() {
        Ok(owner) => owner,
        Err(e) => return Some(unreadable(project, &path, &e)),
    };
    (owner != account.uid).then(|| {
        Finding::warning(
            "state_path_owned",
            format!(
                "{} belongs to {}, not to {}: the agent's CLI cannot keep its login and sessions there",
                path.display(),
                user_name(owner),
                account.name
            ),
            format!("chown -R {}: {}", account.name, shell_quote(&path.to_string_lossy())),
        )
    })
}

/// Why a state path could not be opened as a directory: missing (only the system units keep the
/// home read-only, so only there is that a problem), a link, something else, or unreadable.
fn missing_or_refused(
    project: &Project,
    account: &Account,
    path: &Path,
    error: &Error,
) -> Option<Finding> {
    let io = error.io_source();
    if let Some(refusal) = Refusal::in_error(error) {
        let what = match refusal {
            Refusal::LinkOnTheWay(dir) => format!("{} is a symbolic link", dir.display()),
            _ => "it is a symbolic link".to_string(),
        };
        return Some(Finding::warning(
            "state_path_is_dir",
            format!(
                "state path {}: {what}, which systemd would follow when it makes the path writable",
                path.display()
            ),
            "make it a real directory of the user rounds run as (move what the link points to into it)"
                .to_string(),
        ));
    }
    match io.map(io::Error::kind) {
        Some(io::ErrorKind::NotFound) if project.scope == Scope::System => Some(Finding::warning(
            "state_path_exists",
            format!(
                "state path {} does not exist, and the units keep the rest of the home read-only: the agent's CLI cannot create it to keep its login and sessions",
                path.display()
            ),
            format!(
                "runuser -u {} -- mkdir -p -m 0700 {}",
                account.name,
                shell_quote(&path.to_string_lossy())
            ),
        )),
        Some(io::ErrorKind::NotFound) => None,
        Some(io::ErrorKind::NotADirectory) => Some(Finding::warning(
            "state_path_is_dir",
            format!("state path {} is not a directory", path.display()),
            "remove it (the CLI creates its directory), or drop it from [agent] state_paths"
                .to_string(),
        )),
        _ => Some(unreadable(project, path, error)),
    }
}

/// A state path (or the home) that this process may not look into.
fn unreadable(project: &Project, path: &Path, error: &Error) -> Finding {
    let reason = error
        .io_source()
        .map_or_else(|| error.to_string(), ToString::to_string);
    Finding::warning(
        "state_path_exists",
        format!("cannot check state path {}: {reason}", path.display()),
        format!(
            "run `agent-runner{} check` as root or as the user rounds run as",
            project.scope.flag()
        ),
    )
}

/// Files the CLI kept in the home before the units named its config directory (claude's
/// ~/.claude.json, with the account it logged in as): the rounds read them from that directory.
fn home_files_left_behind(project: &Project, account: &Account, home: &Dir) -> Option<Finding> {
    let env = project.agent.config_dir_env.as_ref()?;
    if project.scope != Scope::System {
        return None;
    }
    let config_dir = home.subdir(&env.dir).ok()?;
    let file = env.home_files.iter().find(|file| {
        let left = home.entry(file).ok().flatten();
        left.is_some_and(|e| e.not_regular.is_none()) && matches!(config_dir.entry(file), Ok(None))
    })?;
    let from = account.home.join(file);
    let to = account.home.join(&env.dir).join(file);
    Some(Finding::warning(
        "state_path_exists",
        format!(
            "{} is not what rounds read: the units set {}={} (the home is read-only), so the CLI reads {}",
            from.display(),
            env.var,
            account.home.join(&env.dir).display(),
            to.display()
        ),
        format!(
            "copy it once: runuser -u {} -- cp -p {} {}",
            account.name,
            shell_quote(&from.to_string_lossy()),
            shell_quote(&to.to_string_lossy())
        ),
    ))
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| format!("uid {uid}"), |u| u.name)
}

fn listed(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("~/{}", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, symlink};

    use super::*;

    fn project(state_paths: &str, scope: Scope) -> Project {
        let text = format!(
            "schema_version = 1\n[agent]\npreset = \"claude\"\nstate_paths = {state_paths}\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"agent\"\n[prompt]\nfiles = [\"p.md\"]\n"
        );
        crate::config::load_str(&text, Path::new("/etc/agent-runner/x.toml"), scope).unwrap()
    }

    fn findings(project: &Project, account: &Account) -> Vec<(&'static str, String, String)> {
        let mut found = Vec::new();
        check_account(project, account, &mut found);
        found
            .into_iter()
            .map(|f| (f.check, f.message, f.hint.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn each_state_path_must_be_a_directory_of_the_rounds_user() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        std::fs::create_dir(h.join(".claude")).unwrap();
        std::fs::create_dir(h.join("elsewhere")).unwrap();
        symlink("elsewhere", h.join(".codex")).unwrap();
        symlink("elsewhere", h.join(".pi")).unwrap();
        std::fs::write(h.join(".gemini"), "").unwrap();
        let me = std::fs::metadata(h).unwrap().uid();
        let account = Account {
            name: "agent".into(),
            uid: me,
            home: h.to_path_buf(),
        };
        let p = project(
            r#"[".claude", ".codex", ".gemini", ".kimi", ".pi/agent"]"#,
            Scope::System,
        );
        let found = findings(&p, &account);
        let checks: Vec<&str> = found.iter().map(|f| f.0).collect();
        assert_eq!(
            checks,
            [
                "state_path_is_dir",
                "state_path_is_dir",
                "state_path_exists",
                "state_path_is_dir"
            ],
            "{found:#?}"
        );
        let h = h.display();
        assert!(
            found[0].1.contains("it is a symbolic link"),
            "{}",
            found[0].1
        );
        assert_eq!(
            found[1].1,
            format!("state path {h}/.gemini is not a directory")
        );
        assert!(
            found[2]
                .1
                .starts_with(&format!("state path {h}/.kimi does not exist"))
        );
        assert_eq!(
            found[2].2,
            format!("runuser -u agent -- mkdir -p -m 0700 {h}/.kimi")
        );
        assert!(
            found[3].1.contains(&format!("{h}/.pi is a symbolic link")),
            "{}",
            found[3].1
        );

        // Under the user manager the home is writable: the CLI creates a missing one itself.
        let user = project(r#"[".kimi"]"#, Scope::User);
        assert!(findings(&user, &account).is_empty());

        // Someone else's directory.
        let other = Account {
            uid: me + 1,
            ..account
        };
        let found = findings(&project(r#"[".claude"]"#, Scope::System), &other);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, "state_path_owned");
        assert!(
            found[0].1.ends_with(
                "not to agent: the agent's CLI cannot keep its login and sessions there"
            )
        );
        assert_eq!(found[0].2, format!("chown -R agent: {h}/.claude"));
    }

    #[test]
    fn a_file_the_cli_kept_in_the_home_is_to_be_copied_into_its_config_dir() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        std::fs::create_dir(h.join(".claude")).unwrap();
        std::fs::write(h.join(".claude.json"), "{}").unwrap();
        let account = Account {
            name: "agent".into(),
            uid: std::fs::metadata(h).unwrap().uid(),
            home: h.to_path_buf(),
        };
        let p = project(r#"[".claude"]"#, Scope::System);
        let found = findings(&p, &account);
        assert_eq!(found.len(), 1, "{found:#?}");
        let h = h.display();
        assert_eq!(
            found[0].2,
            format!(
                "copy it once: runuser -u agent -- cp -p {h}/.claude.json {h}/.claude/.claude.json"
            )
        );
        std::fs::write(home.path().join(".claude/.claude.json"), "{}").unwrap();
        assert!(findings(&p, &account).is_empty());
        // The user manager sets no variable: the CLI uses the file where it is.
        std::fs::remove_file(home.path().join(".claude/.claude.json")).unwrap();
        assert!(findings(&project(r#"[".claude"]"#, Scope::User), &account).is_empty());
        // A link in its place is nothing to copy (and is not followed).
        std::fs::remove_file(home.path().join(".claude.json")).unwrap();
        symlink("/etc/shadow", home.path().join(".claude.json")).unwrap();
        assert!(findings(&p, &account).is_empty());
    }
}
