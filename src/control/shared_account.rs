//! Projects that share one provider account (`[agent] account`) share its throttle: when the
//! provider rejects a round of one of them with an account-wide limit (a five-hour window, a
//! quota), the after-round step — root, the one step that may manage other projects' units — parks
//! the loops of the others until the reset, one after the other a few seconds apart so that they
//! do not all hit the provider in the same second. It parks them with the back-off timer a rate
//! limit uses, so none of them starts its agent before the reset; each resumes by itself.
//!
//! The same step sums the spend of the account's projects (their ledgers: rounds of different
//! projects may run as different users, who cannot read each other's state) against the
//! account's own `[budget]`, and parks every project of the account when it is spent. Each park
//! is also kept in the accounts' store, which the gate before every round reads: a loop that was
//! not running, or a round started by hand, does not start its agent during the park either.
//!
//! Only the projects of this host are known: another host using the same account is not told.

use std::collections::BTreeMap;

use crate::config::Project;
use crate::events::Emitter;
use crate::paths::Scope;
pub(crate) use crate::round::account_park::AccountPark;
use crate::round::account_park::{self, ACCOUNT_LIMIT, SpentBudget};
use crate::round::ledger::{Ledger, Tally};
use crate::round::spend;
use crate::round::state::{self, State};
/// Seconds between the resumptions of two projects of one account.
pub(crate) const STAGGER_S: u64 = 20;
/// A rejection older than this is not the round that just ended.
const FRESH_S: u64 = 120;

/// Another project of the account, to park until `resume_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    /// Its name.
    pub name: String,
    /// When it resumes (epoch seconds).
    pub resume_at: u64,
}

/// The account and reset time of an account-wide rejection that `state` (the round that just
/// ended) records, if it does.
pub(crate) fn rejection(project: &Project, state: &State, now: u64) -> Option<(String, u64)> {
    let account = project.agent.account.clone()?;
    let last = state.last_outcome.as_ref()?;
    let reset = state.throttle_until.filter(|t| *t > now)?;
    let fresh = last.ended_at + FRESH_S >= now;
    (fresh && last.classification.as_deref() == Some(ACCOUNT_LIMIT)).then_some((account, reset))
}

/// The other projects of `account` among `projects` (sorted by name), each resuming
/// [`STAGGER_S`] after the one before it, the rejected project (`seen_by`) first at `reset`.
pub(crate) fn peers(projects: &[Project], account: &str, seen_by: &str, reset: u64) -> Vec<Peer> {
    let mut names: Vec<&str> = projects
        .iter()
        .filter(|p| p.agent.account.as_deref() == Some(account) && p.name != seen_by)
        .map(|p| p.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .zip(1u64..)
        .map(|(name, place)| Peer {
            name: name.to_string(),
            resume_at: reset + place * STAGGER_S,
        })
        .collect()
}

/// Every project of `scope` that loads (a broken file is left out: its own rounds say why).
pub(crate) fn projects(scope: Scope) -> Vec<Project> {
    crate::config::discover(scope)
        .unwrap_or_default()
        .iter()
        .filter_map(|path| crate::config::load(path, scope).ok())
        .collect()
}

/// Tells `peer`'s journal why its loop is parked.
pub(crate) fn tell(peer: &Peer, park: &AccountPark) {
    let (message, event) = account_park::told(&peer.name, park, peer.resume_at);
    Emitter::new(&peer.name, None).emit(None, None, &message, event);
}

/// The park a rejection of `account` seen by `seen_by` brings: every project of the account
/// resumes in its place after `reset`, the rejected one first.
pub(crate) fn rejection_park(
    projects: &[Project],
    account: &str,
    seen_by: &str,
    reset: u64,
    now: u64,
) -> AccountPark {
    let mut resume_at: BTreeMap<String, u64> = peers(projects, account, seen_by, reset)
        .into_iter()
        .map(|p| (p.name, p.resume_at))
        .collect();
    resume_at.insert(seen_by.to_string(), reset);
    AccountPark {
        account: account.to_string(),
        seen_by: Some(seen_by.to_string()),
        budget: None,
        since: now,
        reset_at: reset,
        resume_at,
    }
}

/// The park the account's own budget brings when its projects' spend has used it up: every
/// project of the account until the window resets, staggered in name order.
pub(crate) fn budget_park(
    projects: &[Project],
    account: &str,
    budget: &crate::config::spend::Budget,
    now: u64,
) -> Option<AccountPark> {
    let members: Vec<&Project> = projects
        .iter()
        .filter(|p| p.agent.account.as_deref() == Some(account))
        .collect();
    let ledger = account_ledger(&members, &spend::zone_of(budget), now);
    let found = spend::exhausted(budget, &ledger, now)?;
    let reset = found.resume_at?;
    let mut names: Vec<&str> = members.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let resume_at = names
        .into_iter()
        .zip(0u64..)
        .map(|(name, place)| (name.to_string(), reset + place * STAGGER_S))
        .collect();
    Some(AccountPark {
        account: account.to_string(),
        seen_by: None,
        budget: Some(SpentBudget {
            budget: found.budget.to_string(),
            spent: found.spent,
            limit: found.limit,
        }),
        since: now,
        reset_at: reset,
        resume_at,
    })
}

/// The spend of `members` together: each ledger's tallies of the windows holding `now` (a
/// ledger that cannot be read or believed counts nothing here; its own round rebuilds it).
fn account_ledger(members: &[&Project], zone: &crate::time::zone::Zone, now: u64) -> Ledger {
    let mut sum = Ledger::default().at(Some(zone), now, None);
    for project in members {
        let Ok(Some(ledger)) = Ledger::load(&state::dir(project)) else {
            continue;
        };
        let ledger = ledger.at(Some(zone), now, None);
        add(&mut sum.day, ledger.day);
        add(&mut sum.month, ledger.month);
        add(&mut sum.hour, ledger.hour);
        sum.recent.extend(ledger.recent);
    }
    sum
}

fn add(total: &mut Tally, part: Tally) {
    total.usd += part.usd;
    total.tokens = total.tokens.saturating_add(part.tokens);
    total.rounds = total.rounds.saturating_add(part.rounds);
}

/// The park the account's own budget brings now, when its file sets one and it is spent.
fn account_budget_park(scope: Scope, account: &str, now: u64) -> Option<AccountPark> {
    let file = match crate::config::account_file::load(scope, account) {
        Ok(file) => file?,
        Err(e) => {
            crate::output::stderr_line(format_args!("agent-runner: account {account}: {e}"));
            return None;
        }
    };
    if !file.budget.limits_anything() {
        return None;
    }
    budget_park(&projects(scope), account, &file.budget, now)
}

/// After a round of `project`: the park of its account the round brings, if it brings a new
/// one, kept in the store (a failure to keep it is said, the park still applies to the running
/// loops). Without an account nothing is read.
pub(crate) fn after_round(scope: Scope, project: &Project) -> Option<AccountPark> {
    let account = project.agent.account.as_deref()?;
    let now = crate::time::now_epoch();
    let rejected = State::load(&state::dir(project))
        .ok()
        .and_then(|st| rejection(project, &st, now));
    let park = match rejected {
        Some((_, reset)) => rejection_park(&projects(scope), account, &project.name, reset, now),
        None => account_budget_park(scope, account, now)?,
    };
    let kept = account_park::load(scope, account).ok().flatten();
    if kept.is_some_and(|k| k.ends() >= park.ends()) {
        return None; // parked as long already, and told
    }
    if let Err(e) = account_park::save(scope, &park) {
        crate::output::stderr_line(format_args!(
            "agent-runner: cannot keep the park of account {account}: {e}"
        ));
    }
    Some(park)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str, account: Option<&str>) -> Project {
        let account = account.map_or(String::new(), |a| format!("account = \"{a}\"\n"));
        let text = format!(
            "schema_version = 1\nname = \"{name}\"\n[agent]\ncommand = [\"/bin/true\"]\n{account}\
             [runtime]\nwork_dir = \"/srv/{name}\"\n[prompt]\nfiles = [\"p.md\"]\n"
        );
        crate::config::load_str(
            &text,
            std::path::Path::new("/etc/agent-runner/x.toml"),
            Scope::System,
        )
        .unwrap()
    }

    #[test]
    fn the_other_projects_of_the_account_resume_staggered() {
        let all = [
            project("c", Some("team")),
            project("a", Some("team")),
            project("b", Some("other")),
            project("d", None),
            project("e", Some("team")),
        ];
        let got = peers(&all, "team", "c", 1000);
        assert_eq!(
            got,
            [
                Peer {
                    name: "a".into(),
                    resume_at: 1020
                },
                Peer {
                    name: "e".into(),
                    resume_at: 1040
                },
            ]
        );
    }

    #[test]
    fn only_a_fresh_account_rejection_parks_the_others() {
        let p = project("a", Some("team"));
        let state = |class: &str| -> State {
            serde_json::from_value(serde_json::json!({
                "throttle_until": 5000,
                "last_outcome": {
                    "round": 3, "outcome": "transient", "classification": class,
                    "exit_code": 75, "duration_ms": 10, "ended_at": 990,
                },
            }))
            .unwrap()
        };
        let st = state("rate_limit_account");
        assert_eq!(rejection(&p, &st, 1000), Some(("team".into(), 5000)));
        assert_eq!(rejection(&project("a", None), &st, 1000), None);
        assert_eq!(rejection(&p, &st, 990 + FRESH_S + 1), None);
        assert_eq!(rejection(&p, &st, 5000), None);
        assert_eq!(rejection(&p, &state("rate_limit_model"), 1000), None);
    }
}
