//! What the detectors look at, gathered once per evaluation: the round state, the last rounds as
//! their events tell them, the file systems of the log and work directories, and (from the watch
//! service only) whether the loop's units are alive. All of it can be written by the agent (the
//! state directory, the log directory and the mirror are its user's; it can even log to the
//! journal under its unit), so it is read through the bounded readers and trusted for nothing but
//! the numbers it gives.

use std::collections::BTreeMap;

use crate::config::Project;
use crate::events::payload::Event;
use crate::events::read::{Query, Record};
use crate::events::{Kind, KindName};
use crate::round::state::{self, State};

/// Events read per round of the window: a round logs at most a few of the kinds asked for.
const EVENTS_PER_ROUND: usize = 6;
/// The longest excerpt of the agent's output an alert keeps.
pub(crate) const EXCERPT_MAX_CHARS: usize = 200;

/// Everything one evaluation looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    /// The round state; `None` when it could not be read.
    pub state: Option<State>,
    /// The newest rounds that ended, oldest first; `None` when the events could not be read.
    pub rounds: Option<Vec<RoundSeen>>,
    /// The file systems of the log and work directories.
    pub disks: Vec<DiskSeen>,
    /// Whether the loop's units are alive; `None` where it is not asked (after a round).
    pub liveness: Option<Liveness>,
    /// Epoch seconds.
    pub now: u64,
}

/// One round as its events tell it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RoundSeen {
    /// Its number.
    pub round: u64,
    /// `round_end`'s outcome.
    pub outcome: String,
    /// `round_end`'s classification.
    pub classification: Option<String>,
    /// It stashed the agent's leftovers.
    pub stashed: bool,
    /// It failed on the network.
    pub network: bool,
    /// The error it ended with, numbers aside (`None` for a round that went well).
    pub excerpt: Option<String>,
}

/// How full a directory's file system is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskSeen {
    /// The directory.
    pub path: String,
    /// Used share of the space an unprivileged writer may use, in percent; `None` when it could
    /// not be measured.
    pub used_percent: Option<u64>,
}

/// The loop's units, as the watch service sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Liveness {
    /// The loop unit is active.
    pub loop_active: bool,
    /// Since when (epoch seconds), when systemd says.
    pub loop_since: Option<u64>,
    /// The round service is running.
    pub round_running: bool,
    /// The periodic timer or a back-off timer waits.
    pub timer_waiting: bool,
}

/// Gathers the inputs of `project` that need no D-Bus.
pub(crate) fn gather(project: &Project, now: u64) -> Inputs {
    Inputs {
        state: State::load(&state::dir(project)).ok(),
        rounds: recent_rounds(project).ok(),
        disks: [&project.runtime.log_dir, &project.runtime.work_dir]
            .into_iter()
            .map(|dir| DiskSeen {
                path: dir.display().to_string(),
                used_percent: used_percent(dir),
            })
            .collect(),
        liveness: None,
        now,
    }
}

/// The newest rounds of the window that ended, oldest first.
fn recent_rounds(project: &Project) -> crate::error::Result<Vec<RoundSeen>> {
    let window = project
        .alerts
        .window_rounds
        .max(project.alerts.repeated_stashes);
    let window = window.max(project.alerts.repeated_error_rounds) as usize;
    let query = Query {
        kinds: [
            Kind::RoundEnd,
            Kind::DirtyStashed,
            Kind::AgentNetworkErrorDetected,
            Kind::AgentAuthErrorDetected,
            Kind::TransientErrorDetected,
            Kind::CrashLoop,
        ]
        .map(KindName::from)
        .to_vec(),
        limit: Some(window * EVENTS_PER_ROUND),
        ..Query::default()
    };
    // The mirror first: the round that just ended wrote it before exiting, where journald may not
    // have stored its last events yet, and reading it spawns no journalctl (a process and a walk of
    // the journal files, tens of milliseconds of every round's after-round step). The journal is no
    // more trustworthy: the agent can write to both. It answers when the mirror cannot.
    let records = match crate::events::read::read_mirror_only(project, &query) {
        Ok(records) if !records.is_empty() => records,
        _ => crate::events::read::read(project, &query)?.0,
    };
    Ok(rounds_of(&records, window))
}

/// Folds events (oldest first) into rounds: only rounds whose `round_end` is among them, the
/// newest `window` of them.
pub(crate) fn rounds_of(records: &[Record], window: usize) -> Vec<RoundSeen> {
    let mut rounds: BTreeMap<u64, (RoundSeen, bool)> = BTreeMap::new();
    for record in records {
        let (Some(number), Some(event)) = (record.round(), record.event()) else {
            continue;
        };
        let (seen, ended) = rounds.entry(number).or_default();
        seen.round = number;
        match event {
            Event::RoundEnd(end) => {
                *ended = true;
                seen.outcome = end.outcome;
                seen.classification = end.classification;
            }
            Event::DirtyStashed(_) => seen.stashed = true,
            Event::AgentNetworkErrorDetected(e) => {
                seen.network = true;
                seen.excerpt = seen.excerpt.take().or(e.raw);
            }
            Event::AgentAuthErrorDetected(e) => seen.excerpt = seen.excerpt.take().or(e.raw),
            Event::TransientErrorDetected(e) => seen.excerpt = seen.excerpt.take().or(e.raw),
            Event::CrashLoop(e) => seen.excerpt = seen.excerpt.take().or(Some(e.reason)),
            _ => {}
        }
    }
    let mut ended: Vec<RoundSeen> = rounds
        .into_values()
        .filter(|(_, ended)| *ended)
        .map(|(mut seen, _)| {
            seen.network |=
                seen.outcome == "transient" && seen.classification.as_deref() == Some("network");
            seen.excerpt = failure_excerpt(&seen);
            seen
        })
        .collect();
    let skip = ended.len().saturating_sub(window);
    ended.drain(..skip);
    ended
}

/// The error a failed round ended with, whitespace collapsed, digits folded (a timestamp or a
/// request id must not make the same error look new) and capped; `None` for a round that went
/// well.
fn failure_excerpt(seen: &RoundSeen) -> Option<String> {
    if matches!(seen.outcome.as_str(), "ok" | "grace_kill" | "stopped" | "") {
        return None;
    }
    let text = seen.excerpt.clone().unwrap_or_else(|| {
        format!(
            "{} ({})",
            seen.outcome,
            seen.classification.as_deref().unwrap_or("unclassified")
        )
    });
    let mut out = String::new();
    let mut in_digits = false;
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                out.push(c);
                in_digits = false;
            }
        }
        in_digits = false;
    }
    Some(out.chars().take(EXCERPT_MAX_CHARS).collect())
}

/// The used share of the file system holding `dir`, as `df` counts it: used over used plus what
/// an unprivileged writer may still use (the blocks reserved for root do not help the agent).
#[allow(
    clippy::useless_conversion,
    reason = "the block counts are 32 bits wide on 32-bit targets (a Raspberry Pi's armhf)"
)]
fn used_percent(dir: &std::path::Path) -> Option<u64> {
    let stat = nix::sys::statvfs::statvfs(dir).ok()?;
    let frsize = u64::from(stat.fragment_size()).max(1);
    let total = u64::from(stat.blocks()) * frsize;
    let free = u64::from(stat.blocks_free()) * frsize;
    let avail = u64::from(stat.blocks_available()) * frsize;
    let used = total.saturating_sub(free);
    let usable = used + avail;
    (usable > 0).then(|| (used * 100).div_ceil(usable))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(value: serde_json::Value) -> Record {
        let serde_json::Value::Object(map) = value else {
            unreachable!()
        };
        Record::from_fields(map)
    }

    #[test]
    fn rounds_are_folded_from_their_events_and_windowed() {
        let records = [
            json!({"event": "round_end", "round": 1, "outcome": "ok"}),
            json!({"event": "agent_network_error_detected", "round": 2, "raw": "ECONNREFUSED  127.0.0.1:9"}),
            json!({"event": "round_end", "round": 2, "outcome": "transient", "classification": "network"}),
            json!({"event": "dirty_stashed", "round": 3, "sha": "abc"}),
            json!({"event": "round_end", "round": 3, "outcome": "timeout"}),
            // A round still running has no round_end yet: not counted.
            json!({"event": "dirty_stashed", "round": 4}),
        ]
        .map(record);
        let rounds = rounds_of(&records, 2);
        assert_eq!(rounds.len(), 2);
        assert_eq!(rounds[0].round, 2);
        assert!(rounds[0].network);
        assert_eq!(rounds[0].excerpt.as_deref(), Some("ECONNREFUSED #.#.#.#:#"));
        assert!(rounds[1].stashed);
        assert_eq!(rounds[1].excerpt.as_deref(), Some("timeout (unclassified)"));
        assert_eq!(rounds_of(&records, 10)[0].excerpt, None);
    }

    #[test]
    fn disk_usage_is_measured_or_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert!(used_percent(dir.path()).is_some_and(|p| p <= 100));
        assert_eq!(used_percent(&dir.path().join("missing")), None);
    }
}
