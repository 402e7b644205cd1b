//! Who a project's rounds run as, and that account's home: the units' `User=`, and where the
//! agent's CLI keeps its state (`[agent] state_paths` lie below that home).

use std::path::{Path, PathBuf};

use nix::unistd::{Uid, User};

use super::model::Project;
use crate::fsutil;
use crate::paths::Scope;

/// The account rounds run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunsAs {
    /// The user manager's own user.
    Manager,
    /// A named account: `[runtime] user`, else (system manager) the owner of work_dir.
    User(String),
    /// A transient `DynamicUser=` account (the system manager, root owning work_dir): it has no
    /// home of its own.
    Dynamic,
}

/// The configured user, else (system manager) the owner of the work dir unless that is root, else
/// a dynamic user.
pub(crate) fn runs_as(project: &Project) -> RunsAs {
    match (&project.scope, &project.runtime.user) {
        (Scope::User, _) => RunsAs::Manager,
        (Scope::System, Some(u)) => RunsAs::User(u.clone()),
        (Scope::System, None) => fsutil::owner_unless_root(&project.runtime.work_dir)
            .map_or(RunsAs::Dynamic, RunsAs::User),
    }
}

/// An account with its entry in the user database.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// Its name.
    pub name: String,
    /// Its user id.
    pub uid: u32,
    /// Its home directory: absolute, not `/`, free of control characters.
    pub home: PathBuf,
}

/// The account rounds run as, when it exists and has a home to keep state in (a dynamic user,
/// an unknown one, or one whose home is `/` or unprintable has none).
pub(crate) fn account(project: &Project) -> Option<Account> {
    let user = match runs_as(project) {
        RunsAs::Manager => User::from_uid(Uid::current()).ok().flatten()?,
        RunsAs::User(name) => User::from_name(&name).ok().flatten()?,
        RunsAs::Dynamic => return None,
    };
    usable_home(&user.dir).then(|| Account {
        name: user.name,
        uid: user.uid.as_raw(),
        home: user.dir,
    })
}

/// A home a unit may name: absolute, not `/` itself, and without control characters (a newline
/// would end the line of the unit file it is written into).
fn usable_home(home: &Path) -> bool {
    let text = home.to_string_lossy();
    home.is_absolute() && home != Path::new("/") && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_real_absolute_home_is_used() {
        assert!(usable_home(Path::new("/home/agent")));
        assert!(usable_home(Path::new("/var/lib/with space")));
        assert!(!usable_home(Path::new("/")));
        assert!(!usable_home(Path::new("home/agent")));
        assert!(!usable_home(Path::new("/home/a\ngent")));
        assert!(!usable_home(Path::new("")));
    }
}
