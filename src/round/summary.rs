//! `round_summary`: the one record a round ends with, for `status` and the page — how it went,
//! what it cost against the budgets, and why the loop continues, waits or stops. The work tree's
//! and the goal checks' fields stay absent until a round measures them.

use std::fmt::Write as _;

use super::after::Found;
use super::classify::Classified;
use super::ledger::Ledger;
use super::report::RoundEvents;
use super::state::{Action, State};
use super::supervise::Supervised;
use crate::config::Project;
use crate::events::payload::RoundSummary;

/// Emits the round's summary.
pub(crate) fn summarize(
    events: &RoundEvents<'_>,
    project: &Project,
    c: &Classified,
    s: &Supervised,
    st: &State,
    ledger: &Ledger,
    found: &Found,
) {
    let change = found.change.as_ref().filter(|_| !found.judged.first);
    let spend = st.last_spend.clone().unwrap_or_default();
    let budget = &project.budget;
    let reason = why(project, st);
    let mut message = format!(
        "round {} summary: {} in {:.1}s",
        st.round,
        c.outcome.as_str(),
        s.duration.as_secs_f64()
    );
    if spend.tokens > 0 {
        let _ = write!(message, ", {} tokens", spend.tokens);
    }
    if let Some(usd) = spend.cost_usd {
        let _ = write!(message, ", ${usd:.4}");
    }
    if let Some(c) = change {
        let commits = c.commits.unwrap_or(0);
        let _ = write!(
            message,
            ", {} file(s) changed, {commits} commit(s)",
            c.files_changed
        );
    }
    if let Some(goal) = &found.goal {
        let _ = write!(message, ", checks {}/{} passed", goal.passed, goal.total);
    }
    let _ = write!(message, "; today ${:.2}", ledger.day.usd);
    if let Some(limit) = budget.daily_usd {
        let _ = write!(message, " of ${limit:.2}");
    }
    let _ = write!(message, "; {reason}");
    events.emit(
        &message,
        RoundSummary {
            outcome: c.outcome.as_str().into(),
            duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
            tokens: spend.tokens,
            cost_usd: spend.cost_usd,
            cost_source: spend.cost_source,
            day_usd: ledger.day.usd,
            daily_usd: budget.daily_usd,
            month_usd: ledger.month.usd,
            monthly_usd: budget.monthly_usd,
            loop_usd_spent: ledger.this_loop.usd,
            loop_usd: budget.loop_usd,
            verdict: st.verdict.action.as_str().into(),
            reason,
            until: st.verdict.until,
            files_changed: change.map(|c| c.files_changed),
            insertions: change.map(|c| c.insertions),
            deletions: change.map(|c| c.deletions),
            commits: change.and_then(|c| c.commits),
            checks_passed: found.goal.as_ref().map(|g| g.passed as u64),
            checks_total: found.goal.as_ref().map(|g| g.total as u64),
        },
    );
}

/// Why the loop continues, waits or stops, in a few words. A stop trigger left during the round
/// (the agent's .agent-done, the operator's stop_file) ends the loop although the round's verdict
/// is to go on: the path unit acts on it, so the summary must not promise another round.
pub(crate) fn why(project: &Project, st: &State) -> String {
    let reason = st.verdict.reason.as_deref();
    match st.verdict.action {
        Action::Continue => match stop_trigger_left(project) {
            Some(trigger) => format!("the loop stops ({trigger} is there)"),
            None => "the loop continues".into(),
        },
        Action::BackOff => format!(
            "the loop waits until {} ({})",
            st.verdict
                .until
                .map(|u| crate::time::timestamp(crate::time::epoch_time(u)))
                .unwrap_or_default(),
            reason.unwrap_or("back-off")
        ),
        Action::Halt => format!("the loop halts ({})", reason.unwrap_or("halt")),
    }
}

/// The stop trigger that is there now, if any; a symlink counts without being followed.
fn stop_trigger_left(project: &Project) -> Option<&'static str> {
    super::setup::stop_triggers(project)
        .find(|(file, _)| file.symlink_metadata().is_ok())
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::paths::Scope;

    fn project(log_dir: &Path) -> Project {
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"/srv/t\"\nlog_dir = \"{}\"\nstop_file = \"{}/STOP\"\n[prompt]\nfiles = [\"/etc/hostname\"]\n",
            log_dir.display(),
            log_dir.display()
        );
        crate::config::load_str(&text, Path::new("/etc/agent-runner/t.toml"), Scope::System)
            .unwrap()
    }

    #[test]
    fn a_stop_trigger_left_in_the_round_stops_the_loop_in_the_summary() {
        let dir = tempfile::tempdir().unwrap();
        let project = project(dir.path());
        let st = State::default();
        assert_eq!(why(&project, &st), "the loop continues");
        std::fs::write(dir.path().join(".agent-done"), "done\n").unwrap();
        assert_eq!(why(&project, &st), "the loop stops (.agent-done is there)");
        std::fs::write(dir.path().join("STOP"), "").unwrap();
        assert_eq!(why(&project, &st), "the loop stops (stop_file is there)");
    }
}
