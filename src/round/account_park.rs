//! The park of a shared provider account, kept beyond the moment it began: root's after-round
//! step writes it to [`Scope::accounts_dir`] (one JSON file per account) when a round of the
//! account is rejected with an account-wide limit or the account's own budget runs out, and the
//! gate before every round of the account's projects reads it, so that a loop that was not
//! running then, or a round started by hand, does not spawn its agent before the park ends.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use sd_notify::NotifyState;
use serde::{Deserialize, Serialize};

use super::notify::notify;
use super::spend::{self, Exhausted};
use super::state::{Action, State, Verdict};
use crate::config::Project;
use crate::error::{Error, Result, exit};
use crate::events::Emitter;
use crate::events::payload::AccountThrottled;
use crate::events::payload::Event;
use crate::fsutil::Dir;
use crate::paths::Scope;

/// The largest store read: a name and a resume time per project of one account.
pub(crate) const STORE_MAX_BYTES: u64 = 64 * 1024;
/// The class of an account-wide rejection.
pub(crate) const ACCOUNT_LIMIT: &str = "rate_limit_account";

/// The account's budget that ran out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SpentBudget {
    /// Which budget (daily_usd, monthly_usd, daily_tokens, rounds_per_hour).
    pub budget: String,
    /// What the account's projects spent in its window.
    pub spent: f64,
    /// Its limit.
    pub limit: f64,
}

/// One account's park.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AccountPark {
    /// The account.
    pub account: String,
    /// The project whose round the provider rejected (a rate-limit park).
    #[serde(default)]
    pub seen_by: Option<String>,
    /// The budget that ran out (a budget park); `None`: the provider's account-wide limit.
    #[serde(default)]
    pub budget: Option<SpentBudget>,
    /// When the park began (epoch seconds).
    pub since: u64,
    /// When the provider's limit or the budget's window resets (epoch seconds).
    pub reset_at: u64,
    /// When each project resumes: the reset plus its place in the stagger.
    #[serde(default)]
    pub resume_at: BTreeMap<String, u64>,
}

impl AccountPark {
    /// When `project` may run again (a project the park does not name: at the reset).
    pub(crate) fn until(&self, project: &str) -> u64 {
        self.resume_at
            .get(project)
            .copied()
            .unwrap_or(self.reset_at)
    }

    /// Why the loops are parked, in a few words.
    pub(crate) fn reason(&self) -> String {
        match &self.budget {
            Some(b) => format!("account {} {} budget", self.account, b.budget),
            None => format!("account {} {ACCOUNT_LIMIT}", self.account),
        }
    }

    /// The last resume time of the park.
    pub(crate) fn ends(&self) -> u64 {
        self.resume_at
            .values()
            .copied()
            .max()
            .unwrap_or(0)
            .max(self.reset_at)
    }
}

fn file_name(account: &str) -> String {
    format!("{account}.json")
}

/// The park of `account` kept in `dir`; `None` when there is none. No link is followed, only a
/// regular file of at most [`STORE_MAX_BYTES`] is read, and one that is not a park of this
/// account is an error.
pub(crate) fn load_from(dir: &Path, account: &str) -> Result<Option<AccountPark>> {
    let name = file_name(account);
    let text = match Dir::open(dir).and_then(|d| d.read_text(Path::new(&name), STORE_MAX_BYTES)) {
        Ok(text) => text,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let garbled = |why: String| {
        Error::Failed(format!(
            "{} is not the park of account {account} ({why})",
            dir.join(&name).display()
        ))
    };
    let park: AccountPark = serde_json::from_str(&text).map_err(|e| garbled(e.to_string()))?;
    if park.account != account {
        return Err(garbled("it names another account".into()));
    }
    Ok(Some(park))
}

/// [`load_from`] the scope's store.
pub(crate) fn load(scope: Scope, account: &str) -> Result<Option<AccountPark>> {
    load_from(&scope.accounts_dir(), account)
}

/// Replaces the park of its account in `dir` atomically (0644: every project's rounds read it),
/// creating the directory (0755) when its parent allows.
pub(crate) fn save_to(dir: &Path, park: &AccountPark) -> Result<()> {
    crate::fsutil::ensure_dir(dir, 0o755)?;
    let text = serde_json::to_vec_pretty(park)
        .map_err(|e| Error::Failed(format!("cannot encode the account's park: {e}")))?;
    Dir::open(dir)?.write_atomic(&file_name(&park.account), &text, 0o644)
}

/// [`save_to`] the scope's store.
pub(crate) fn save(scope: Scope, park: &AccountPark) -> Result<()> {
    save_to(&scope.accounts_dir(), park)
}

/// The gates of spend before the spawn: the account's park, then the project's own budgets
/// (while the account is parked, they are not the reason).
pub(crate) fn spend_gates(
    project: &Project,
    state_dir: &Path,
    st: &mut State,
    emitter: &Emitter,
    now: u64,
) -> Option<u8> {
    gate(project, state_dir, st, emitter, now)
        .or_else(|| spend::gate(project, state_dir, st, emitter, now))
}

/// The gate before the spawn: while the project's account is parked, the round does not start
/// its agent; the loop backs off until the project's resume time (the after-round step stretches
/// the timer over it), as after a rate limit. Without an account nothing is opened. A store that
/// cannot be read is no park (said on stderr): a broken store must not stop every loop.
pub(crate) fn gate(
    project: &Project,
    state_dir: &Path,
    st: &mut State,
    emitter: &Emitter,
    now: u64,
) -> Option<u8> {
    let account = project.agent.account.as_deref()?;
    let park = match load(project.scope, account) {
        Ok(park) => park?,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "agent-runner: warning: {e}; treated as no park"
            );
            return None;
        }
    };
    let until = park.until(&project.name);
    if until <= now {
        return None;
    }
    let message = hold(project, st, &park, until, emitter, now);
    notify(&[NotifyState::Ready, NotifyState::Status(&message)]);
    if let Err(e) = st.save(state_dir) {
        let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
    }
    Some(exit::TEMPFAIL)
}

/// Backs the loop off until `until` for `park` and tells the journal; returns the message.
fn hold(
    project: &Project,
    st: &mut State,
    park: &AccountPark,
    until: u64,
    emitter: &Emitter,
    now: u64,
) -> String {
    match spent_budget(park, until) {
        Some(found) => {
            let _ = spend::park(st, &found, now);
        }
        None => {
            st.verdict = Verdict {
                action: Action::BackOff,
                until: Some(until.max(st.not_before(now).unwrap_or(0))),
                reason: Some(park.reason()),
            };
        }
    }
    let (message, event) = told(&project.name, park, until);
    emitter.emit(None, None, &message, event);
    message
}

/// The account's budget that ran out, as the project's own budgets are told.
fn spent_budget(park: &AccountPark, until: u64) -> Option<Exhausted> {
    let b = park.budget.as_ref()?;
    let name = spend::BUDGET_NAMES.iter().find(|n| **n == b.budget)?;
    Some(Exhausted {
        budget: name,
        spent: b.spent,
        limit: b.limit,
        projected: None,
        resume_at: Some(until),
    })
}

/// What the journal of project `name` is told of `park`, which holds it until `until`:
/// `budget_exhausted` (owner: the account) for a budget, else `account_throttled`.
pub(crate) fn told(name: &str, park: &AccountPark, until: u64) -> (String, Event) {
    if let Some(found) = spent_budget(park, until) {
        let owner = format!("account {}", park.account);
        let message = spend::exhausted_message(name, &owner, &found);
        return (message, spend::event(&owner, &found).into());
    }
    let seen_by = park.seen_by.clone().unwrap_or_default();
    let message = format!(
        "{name}: account {} hit its limit (seen by {seen_by}); parked until {}",
        park.account,
        crate::time::timestamp(crate::time::epoch_time(until))
    );
    let event = AccountThrottled {
        account: park.account.clone(),
        seen_by,
        classification: ACCOUNT_LIMIT.into(),
        reset_at: park.reset_at,
        resume_at: until,
    };
    (message, event.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn park() -> AccountPark {
        AccountPark {
            account: "team".into(),
            seen_by: Some("a".into()),
            budget: None,
            since: 900,
            reset_at: 1000,
            resume_at: BTreeMap::from([("a".into(), 1000), ("b".into(), 1020)]),
        }
    }

    #[test]
    fn the_store_round_trips_and_each_project_resumes_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("accounts");
        assert_eq!(load_from(&store, "team").unwrap(), None);
        save_to(&store, &park()).unwrap();
        let got = load_from(&store, "team").unwrap().unwrap();
        assert_eq!(got, park());
        assert_eq!(
            (got.until("a"), got.until("b"), got.until("new")),
            (1000, 1020, 1000)
        );
        assert_eq!(got.ends(), 1020);
        let mode = std::fs::metadata(store.join("team.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn a_store_naming_another_account_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        save_to(dir.path(), &park()).unwrap();
        std::fs::rename(dir.path().join("team.json"), dir.path().join("other.json")).unwrap();
        let e = load_from(dir.path(), "other").unwrap_err().to_string();
        assert!(e.contains("names another account"), "{e}");
    }
}
