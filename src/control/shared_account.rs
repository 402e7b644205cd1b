//! Projects that share one provider account (`[agent] account`) share its throttle: when the
//! provider rejects a round of one of them with an account-wide limit (a five-hour window, a
//! quota), the after-round step — root, the one step that may manage other projects' units — parks
//! the loops of the others until the reset, one after the other a few seconds apart so that they
//! do not all hit the provider in the same second. It parks them with the back-off timer a rate
//! limit uses, so none of them starts its agent before the reset; each resumes by itself.
//!
//! Only the projects of this host are known: another host using the same account is not told.

use crate::config::Project;
use crate::events::Emitter;
use crate::events::payload::AccountThrottled;
use crate::paths::Scope;
use crate::round::state::State;

/// The class of an account-wide rejection.
const ACCOUNT_LIMIT: &str = "rate_limit_account";
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
pub(crate) fn tell(peer: &Peer, account: &str, seen_by: &str, reset: u64) {
    let emitter = Emitter::new(&peer.name, None);
    emitter.emit(
        None,
        None,
        &format!(
            "{}: account {account} hit its limit (seen by {seen_by}); parked until {}",
            peer.name,
            crate::time::timestamp(crate::time::epoch_time(peer.resume_at))
        ),
        AccountThrottled {
            account: account.into(),
            seen_by: seen_by.into(),
            classification: ACCOUNT_LIMIT.into(),
            reset_at: reset,
            resume_at: peer.resume_at,
        },
    );
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
