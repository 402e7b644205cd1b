//! The end of the cool-down. The timer starts the round service up to
//! [`cooldown_lead_ms`](crate::config::Runtime::cooldown_lead_ms) before `restart_delay_s` is
//! over, so that what every start costs (systemd's sandbox setup, ~40–90 ms per start in the
//! test container; the runner's own start) happens inside the cool-down instead of after it. The
//! runner then waits out the rest here, before any gate is read: a stop trigger that fires
//! meanwhile still closes the round.

use std::time::Duration;

use super::state::State;
use crate::config::Project;

/// Sleeps until `restart_delay_s` after the last round's end, when that moment is at most the
/// lead away, and returns the time then (epoch seconds). Only under systemd (`NOTIFY_SOCKET`): by
/// hand, a round starts when asked. Not after `start` (a new loop starts at once), nor when the
/// wait is longer than the lead (a back-off, a clock step, or a state file the agent rewrote: the
/// gates decide then).
pub(crate) fn wait_out(project: &Project, st: &State) -> u64 {
    let under_systemd = std::env::var_os("NOTIFY_SOCKET").is_some();
    if under_systemd
        && !st.loop_ended
        && let Some(wait) = remaining(project, st, crate::time::now_us() / 1000)
    {
        std::thread::sleep(wait);
    }
    crate::time::now_epoch()
}

/// What is left of the cool-down at `now_ms`, when it is between zero and the lead.
fn remaining(project: &Project, st: &State, now_ms: u64) -> Option<Duration> {
    let rt = &project.runtime;
    let due = st.ended_at_ms?.saturating_add(rt.restart_delay_ms());
    let left = due.checked_sub(now_ms).filter(|ms| *ms > 0)?;
    (left <= rt.cooldown_lead_ms()).then(|| Duration::from_millis(left))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(delay_s: u64) -> Project {
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"/tmp\"\nrestart_delay_s = {delay_s}\n[prompt]\nfiles = [\"/tmp/p.md\"]\n"
        );
        crate::config::load_str(
            &text,
            std::path::Path::new("/t.toml"),
            crate::paths::Scope::System,
        )
        .expect("valid test project")
    }

    fn ended_at(ms: u64) -> State {
        State {
            ended_at_ms: Some(ms),
            ..State::default()
        }
    }

    #[test]
    fn the_round_waits_out_what_the_early_timer_left_of_the_cool_down() {
        let p = project(3);
        assert_eq!(p.runtime.cooldown_lead_ms(), 500);
        assert_eq!(p.runtime.timer_delay_ms(), 2500);
        // The timer fired 2.5 s after the round ended, plus systemd's 60 ms of setup.
        assert_eq!(
            remaining(&p, &ended_at(10_000), 12_560),
            Some(Duration::from_millis(440))
        );
        // Late already: no wait.
        assert_eq!(remaining(&p, &ended_at(10_000), 13_000), None);
        assert_eq!(remaining(&p, &ended_at(10_000), 13_200), None);
        // Further than the lead (a manual start right after a round, a clock step): no wait.
        assert_eq!(remaining(&p, &ended_at(10_000), 10_100), None);
        // No round ended yet.
        assert_eq!(remaining(&p, &State::default(), 10_000), None);
        // A state file the agent rewrote to the far future changes nothing either.
        assert_eq!(remaining(&p, &ended_at(u64::MAX), 10_000), None);
    }

    #[test]
    fn a_short_cool_down_keeps_half_of_it_for_the_timer() {
        let p = project(1);
        assert_eq!(p.runtime.cooldown_lead_ms(), 500);
        assert_eq!(p.runtime.timer_delay_ms(), 500);
        assert_eq!(
            remaining(&p, &ended_at(0), 600),
            Some(Duration::from_millis(400))
        );
    }
}
