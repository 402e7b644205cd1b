//! The detectors: each looks at the [`Inputs`] and says whether its alert should be open. Pure
//! functions of what was gathered, so each is tested on its own.

use super::evidence::{EXCERPT_MAX_CHARS, Inputs, RoundSeen};
use crate::config::Project;
use crate::events::alert::{Detector, Evidence, Severity};

/// Rounds a rate needs before it means anything.
const MIN_ROUNDS_FOR_A_RATE: usize = 3;

/// What a detector concludes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Finding {
    /// Its alert should be open.
    Firing(Severity, Evidence),
    /// Its alert should be closed.
    Clear(Evidence),
    /// It cannot tell (its evidence could not be read): an open alert stays open.
    Unknown,
}

/// What `detector` concludes from `inputs` with `project`'s thresholds.
pub(crate) fn check(detector: Detector, inputs: &Inputs, project: &Project) -> Finding {
    match detector {
        Detector::AuthFailureStreak => auth_failure_streak(inputs, project),
        Detector::DiskUsage => disk_usage(inputs, project),
        Detector::StaleLoop => stale_loop(inputs, project),
        Detector::NetworkFailureRate => rate(
            inputs,
            project,
            "failed on the network",
            project.alerts.network_failure_percent,
            |r| r.network,
        ),
        Detector::TimeoutRate => rate(
            inputs,
            project,
            "hit their timeout",
            project.alerts.timeout_percent,
            |r| r.outcome == "timeout",
        ),
        Detector::RepeatedStashes => repeated_stashes(inputs, project),
        Detector::RepeatedError => repeated_error(inputs, project),
        Detector::Other => Finding::Unknown,
    }
}

fn said(summary: String) -> Evidence {
    Evidence {
        summary,
        ..Evidence::default()
    }
}

/// The round halts the loop after `auth_fail_halt_after` such rounds (`auth_failed`); the alert
/// keeps it in view, with the preset's login hint, until a round authenticates.
fn auth_failure_streak(inputs: &Inputs, project: &Project) -> Finding {
    let Some(state) = &inputs.state else {
        return Finding::Unknown;
    };
    let streak = state.consecutive_auth_failures;
    let threshold = project.runtime.auth_fail_halt_after;
    if streak < threshold {
        return Finding::Clear(said(format!(
            "{streak} rounds in a row failed to authenticate (halt at {threshold})"
        )));
    }
    Finding::Firing(
        Severity::Halt,
        Evidence {
            summary: format!("{streak} rounds in a row failed to authenticate; the loop is halted"),
            value: Some(u64::from(streak)),
            threshold: Some(u64::from(threshold)),
            rounds: state.last_outcome.iter().map(|o| o.round).collect(),
            // The agent's user can write the state: keep the store small whatever it holds.
            excerpt: state
                .last_error
                .as_ref()
                .map(|e| e.chars().take(EXCERPT_MAX_CHARS).collect()),
            hint: Some(project.agent.auth_hint().to_string()),
            ..Evidence::default()
        },
    )
}

fn disk_usage(inputs: &Inputs, project: &Project) -> Finding {
    let Some((disk, used)) = inputs
        .disks
        .iter()
        .filter_map(|d| d.used_percent.map(|p| (d, p)))
        .max_by_key(|(_, p)| *p)
    else {
        return Finding::Unknown;
    };
    let (warn, halt) = (
        u64::from(project.alerts.disk_warn_percent),
        u64::from(project.alerts.disk_halt_percent),
    );
    let evidence = |summary: String, threshold| Evidence {
        summary,
        value: Some(used),
        threshold: Some(threshold),
        path: Some(disk.path.clone()),
        hint: Some("free space on that file system, or move log_dir or work_dir".into()),
        ..Evidence::default()
    };
    if used >= halt {
        let e = evidence(
            format!(
                "{} is {used}% full (halt at {halt}%): the loop is halted",
                disk.path
            ),
            halt,
        );
        Finding::Firing(Severity::Halt, e)
    } else if used >= warn {
        let e = evidence(
            format!("{} is {used}% full (warn at {warn}%)", disk.path),
            warn,
        );
        Finding::Firing(Severity::Warn, e)
    } else {
        Finding::Clear(said(format!("{} is {used}% full", disk.path)))
    }
}

/// A loop that runs but whose rounds stopped ending: its timer is gone, or no round ended for
/// `stale_factor` times the cadence (the timer's delay plus the longest a round may take). Only
/// the watch service asks systemd; after a round, a round has just ended.
fn stale_loop(inputs: &Inputs, project: &Project) -> Finding {
    let Some(live) = inputs.liveness else {
        return Finding::Clear(said("a round just ended".into()));
    };
    if !live.loop_active {
        return Finding::Clear(said("the loop is not running".into()));
    }
    let state = inputs.state.as_ref();
    if state
        .and_then(|s| s.throttle_until)
        .is_some_and(|t| t > inputs.now)
    {
        return Finding::Clear(said("the loop is backing off".into()));
    }
    if !live.round_running && !live.timer_waiting {
        return Finding::Firing(
            Severity::Warn,
            Evidence {
                summary: "the loop is running but neither its timer nor a back-off timer waits: no round will start".into(),
                hint: Some(format!("restart the loop: agent-runner restart {}", project.name)),
                ..Evidence::default()
            },
        );
    }
    if project.runtime.schedule.is_some() {
        return Finding::Clear(said("rounds follow a calendar schedule".into()));
    }
    let cadence = project.runtime.restart_delay_s + project.runtime.round_timeout_s;
    let limit = cadence.saturating_mul(u64::from(project.alerts.stale_factor));
    let last_end = state
        .and_then(|s| s.last_outcome.as_ref())
        .map(|o| o.ended_at);
    let since = last_end.max(live.loop_since).unwrap_or(inputs.now);
    let quiet = inputs.now.saturating_sub(since);
    if quiet <= limit {
        return Finding::Clear(said(format!("the last round ended {quiet}s ago")));
    }
    Finding::Firing(
        Severity::Warn,
        Evidence {
            summary: format!("no round has ended for {quiet}s (stale after {limit}s)"),
            value: Some(quiet),
            threshold: Some(limit),
            hint: Some(format!(
                "look at the running round: agent-runner peek {}",
                project.name
            )),
            ..Evidence::default()
        },
    )
}

/// The share of the window's rounds for which `hit` holds.
fn rate(
    inputs: &Inputs,
    project: &Project,
    what: &str,
    percent: u8,
    hit: impl Fn(&RoundSeen) -> bool,
) -> Finding {
    let Some(rounds) = &inputs.rounds else {
        return Finding::Unknown;
    };
    let window = project.alerts.window_rounds as usize;
    let recent = &rounds[rounds.len().saturating_sub(window)..];
    if recent.len() < MIN_ROUNDS_FOR_A_RATE.min(window) {
        return Finding::Unknown;
    }
    let hits: Vec<u64> = recent.iter().filter(|r| hit(r)).map(|r| r.round).collect();
    let share = (hits.len() * 100 / recent.len()) as u64;
    let summary = format!("{} of the last {} rounds {what}", hits.len(), recent.len());
    if share < u64::from(percent) {
        return Finding::Clear(said(summary));
    }
    Finding::Firing(
        Severity::Warn,
        Evidence {
            summary: format!("{summary} ({share}%, warn at {percent}%)"),
            value: Some(share),
            threshold: Some(u64::from(percent)),
            rounds: hits,
            ..Evidence::default()
        },
    )
}

/// The newest `n` rounds, when there are that many.
fn last(inputs: &Inputs, n: u32) -> Option<&[RoundSeen]> {
    let rounds = inputs.rounds.as_deref()?;
    let n = n as usize;
    Some(&rounds[rounds.len().saturating_sub(n)..])
}

fn repeated_stashes(inputs: &Inputs, project: &Project) -> Finding {
    let n = project.alerts.repeated_stashes;
    let Some(recent) = last(inputs, n) else {
        return Finding::Unknown;
    };
    if recent.len() < n as usize || !recent.iter().all(|r| r.stashed) {
        return Finding::Clear(said("the last round left no stash streak".into()));
    }
    Finding::Firing(
        Severity::Warn,
        Evidence {
            summary: format!("{n} rounds in a row left changes that were stashed"),
            value: Some(u64::from(n)),
            threshold: Some(u64::from(n)),
            rounds: recent.iter().map(|r| r.round).collect(),
            hint: Some("the agent does not commit its work: look at `git stash list` in work_dir and at the prompt".into()),
            ..Evidence::default()
        },
    )
}

fn repeated_error(inputs: &Inputs, project: &Project) -> Finding {
    let n = project.alerts.repeated_error_rounds;
    let Some(recent) = last(inputs, n) else {
        return Finding::Unknown;
    };
    let first = recent.first().and_then(|r| r.excerpt.as_ref());
    let same = recent.len() == n as usize
        && first.is_some()
        && recent.iter().all(|r| r.excerpt.as_ref() == first);
    if !same {
        return Finding::Clear(said(
            "the last rounds did not end with the same error".into(),
        ));
    }
    Finding::Firing(
        Severity::Warn,
        Evidence {
            summary: format!("{n} rounds in a row ended with the same error"),
            value: Some(u64::from(n)),
            threshold: Some(u64::from(n)),
            rounds: recent.iter().map(|r| r.round).collect(),
            excerpt: first.cloned(),
            ..Evidence::default()
        },
    )
}

#[cfg(test)]
mod tests;
