//! A shared provider account's own file: `accounts/NAME.toml` beside the project files, named by
//! the `[agent] account` of the projects that share it. It may carry a `[budget]` (the keys of a
//! project's, checked by the same code) that the account's projects share; nothing else.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::DeTable;

use super::load::toml_problem;
use super::raw::RawBudget;
use super::read::read_project_file;
use super::spans::Located;
use super::spend::Budget;
use super::{schema, validate};
use crate::error::{Error, Result};
use crate::paths::Scope;

/// An account file, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccountFile {
    /// Where it was read.
    pub source: PathBuf,
    /// The budget the account's projects share (no limit set: none).
    pub budget: Budget,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    #[serde(default)]
    budget: RawBudget,
}

/// Where the file of `account` is.
pub(crate) fn path(scope: Scope, account: &str) -> PathBuf {
    scope
        .config_dir()
        .join("accounts")
        .join(format!("{account}.toml"))
}

/// The file of `account`, `None` when it does not exist.
pub(crate) fn load(scope: Scope, account: &str) -> Result<Option<AccountFile>> {
    let path = path(scope, account);
    match crate::fsutil::entry_kind(&path) {
        Ok(None) => return Ok(None),
        Ok(Some(_)) => {}
        Err(e) => return Err(Error::io("cannot read", &path, e)),
    }
    let text = read_project_file(&path).map_err(Error::config)?;
    load_str(&text, &path).map(Some)
}

/// Validates account file `text` as if read from `path`.
pub(crate) fn load_str(text: &str, path: &Path) -> Result<AccountFile> {
    let root = DeTable::parse(text).map_err(|e| Error::config(toml_problem(path, text, &e)))?;
    let located = Located {
        file: path,
        text,
        root: root.get_ref(),
    };
    let unknown = schema::unknown_account_keys(&located);
    if !unknown.is_empty() {
        return Err(Error::Config(unknown.into_vec(path)));
    }
    let raw = RawAccount::deserialize(toml::de::Deserializer::from(root.clone()))
        .map_err(|e| Error::config(toml_problem(path, text, &e)))?;
    let budget = validate::account_budget(&raw.budget, &located).map_err(Error::Config)?;
    Ok(AccountFile {
        source: path.to_path_buf(),
        budget,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> std::result::Result<AccountFile, String> {
        load_str(text, Path::new("/etc/agent-runner/accounts/team.toml")).map_err(|e| match e {
            Error::Config(problems) => problems
                .iter()
                .map(|p| format!("{} {}", p.key.clone().unwrap_or_default(), p.message))
                .collect::<Vec<_>>()
                .join("\n"),
            e => e.to_string(),
        })
    }

    #[test]
    fn an_account_budget_is_checked_like_a_project_budget() {
        let file = load("[budget]\ndaily_usd = 40\nrounds_per_hour = 12\n").unwrap();
        assert_eq!(file.budget.daily_usd, Some(40.0));
        assert_eq!(file.budget.rounds_per_hour, Some(12));
        assert!(load("").unwrap().budget == Budget::default());
        let bad = load("[budget]\ndaily_usd = -3\n").unwrap_err();
        assert!(bad.contains("budget.daily_usd"), "{bad}");
    }

    #[test]
    fn an_account_has_no_loop_and_no_other_table() {
        let e = load("[budget]\nloop_usd = 5\n").unwrap_err();
        assert!(
            e.contains("budget.loop_usd") && e.contains("no loop"),
            "{e}"
        );
        let e = load("[budget]\ndaily_usdd = 5\n").unwrap_err();
        assert!(e.contains("daily_usdd"), "{e}");
        let e = load("[agent]\ncommand = [\"x\"]\n").unwrap_err();
        assert!(e.contains("agent"), "{e}");
    }
}
