//! Structured events (DESIGN §5): the single list of event kinds with their fixed MESSAGE_IDs, and
//! the emitter that sends each event to the journal (native protocol, exact `AGENT_RUNNER_*`
//! fields), appends it to the JSON mirror `LOG_DIR/events.jsonl`, and — when a person is watching a
//! terminal instead of the journal — prints a readable line to stderr.
//!
//! The packaging engineer generates the journal catalog from [`ALL`]; `agent-runner events` reads the
//! mirror. Every string is redacted ([`crate::redact`]) before it leaves the process.

pub(crate) mod catalog;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::redact;

/// The journal's native socket; events go there only when it exists.
const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
/// The mirror rotates past this size…
const MIRROR_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// …keeping this many old files (`events.jsonl.1` … `.3`).
const MIRROR_KEEP: u32 = 3;

/// Journal priorities used by events (syslog levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) enum Priority {
    /// 3: something failed and needs an operator.
    Error = 3,
    /// 4: something went wrong but the loop copes.
    Warning = 4,
    /// 6: normal operation.
    Info = 6,
}

/// Everything a kind is: its name, MESSAGE_ID, priority and catalog text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KindInfo {
    /// The kind.
    pub kind: Kind,
    /// `AGENT_RUNNER_EVENT` value (snake_case).
    pub name: &'static str,
    /// The journal MESSAGE_ID (32 lowercase hex digits, generated once with `systemd-id128 new`).
    pub message_id: &'static str,
    /// Journal priority.
    pub priority: Priority,
    /// One short catalog title.
    pub title: &'static str,
    /// The catalog paragraph: what happened and what to do.
    pub description: &'static str,
}

macro_rules! kinds {
    ($( $variant:ident, $name:literal, $id:literal, $prio:ident, $title:literal, $desc:literal; )*) => {
        /// Every event kind agent-runner emits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Kind {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        /// Every kind with its MESSAGE_ID, priority and catalog text, in catalog order.
        pub(crate) const ALL: &[KindInfo] = &[
            $( KindInfo {
                kind: Kind::$variant,
                name: $name,
                message_id: $id,
                priority: Priority::$prio,
                title: $title,
                description: $desc,
            }, )*
        ];
    };
}

kinds! {
    RoundStart, "round_start", "10408c604938495f9a2e5d5c0c21072f", Info,
        "A round started",
        "agent-runner started round N of the project (phase P when the project has phases). The startup battery passed and the prompt was assembled. Nothing to do.";
    AgentSpawn, "agent_spawn", "a0863b098d23443389358a6cd8add822", Info,
        "The agent was started",
        "The agent process was spawned in its own process group with the round's timeout. Its output streams to LOG_DIR/rounds/round-N.log (LOG_DIR/round-current.log follows the running round).";
    AgentCheckin, "agent_checkin", "ebcd00ea8c054ba59c402437b86a48b7", Info,
        "The agent checked in",
        "The agent showed life (its first output, or an explicit `agent-runner checkin`) within checkin_timeout_s. The service reported READY=1. Nothing to do.";
    CheckinFailed, "checkin_failed", "efc3c425a2414aadb7606ebfba6a5dda", Warning,
        "The agent did not check in",
        "The agent produced no output and did not run `agent-runner checkin` within checkin_timeout_s, so the round was killed and counted as failed. After checkin_attempts such rounds in a row the project is marked offline. Check that the agent starts at all (`agent-runner logs NAME`), that its credentials are valid, and that the network is reachable; raise checkin_timeout_s if the agent is legitimately slow to print.";
    AgentExit, "agent_exit", "223412dc818f46d28075759f72034c79", Info,
        "The agent exited",
        "The agent process ended. The event carries its exit code (or the signal that ended it), how long it ran and why it ended (exit, timeout, grace_kill, checkin_failed, interrupted).";
    RoundEnd, "round_end", "c3c4d635070049ba80d4fedf9df9cb32", Info,
        "A round ended",
        "The round finished and was classified: ok, crash, timeout, grace_kill, transient, auth_fail, config_broken, no_checkin or stopped. The event carries the exit status, duration, the verdict for the loop (continue, back_off until T, halt) and the runner's own peak memory. Look at `agent-runner logs NAME --round N` for the agent's output.";
    RoundTimeoutKill, "round_timeout_kill", "f2849b99de1c4cb69c4ed7103b248c89", Warning,
        "A round hit its hard timeout",
        "The agent ran longer than round_timeout_s (or its phase's timeout) and its process group was terminated: the cooperative signal is skipped, SIGTERM then SIGKILL after a grace. If rounds regularly need longer, raise round_timeout_s; if the agent hangs, look at the end of its round log.";
    RoundGraceKill, "round_grace_kill", "d4cb16540baf441a821f46114952759a", Info,
        "A finished agent lingered and was stopped",
        "The agent printed its terminal marker (its final result) but did not exit within max_grace_after_result_s, and no live worker process remained in its group, so the group was terminated. The round's work is complete; the round counts as successful.";
    RoundGraceExtended, "round_grace_extended", "47511820d96d4abaa3b9efc7969a243c", Warning,
        "A finished agent still has live workers",
        "The agent printed its terminal marker but processes in its group are still running (listed in the event), so agent-runner keeps waiting until the hard timeout instead of killing work in progress. If these processes are harmless helpers, add a regex matching their command line to grace_kill_ignore_patterns.";
    RoundInterrupted, "round_interrupted", "8ef36dc510c546a992de5f86fafc2690", Warning,
        "A round was stopped by a signal",
        "agent-runner received SIGTERM or SIGINT (for example `systemctl stop`), sent the agent its cooperative stop signal, then SIGTERM and SIGKILL to whatever remained. The round is recorded as stopped and does not count as a crash.";
    TransientErrorDetected, "transient_error_detected", "832caca6fb234653b0835303cce033a6", Warning,
        "The agent hit a transient error",
        "The agent's output shows a rate limit, a server error (5xx/529), a request timeout or a network failure. With transient_error_action = back_off the loop pauses until the server-given reset time (reset_at) or the class's default back-off, then resumes by itself; nothing to do unless it keeps happening.";
    TransientErrorRecovered, "transient_error_recovered", "df734bf251f0424c9d7e4957b691ef1e", Info,
        "The back-off after a transient error ended",
        "The first round after a transient back-off is running. The event says which class of error caused the pause and how long the loop was throttled. Nothing to do.";
    TransientErrorStop, "transient_error_stop", "3b8eee4bd192400fbfc9a2af4701869d", Warning,
        "The loop stopped on a transient error",
        "transient_error_action = stop: the loop halts at the first transient error instead of backing off. Start it again with `systemctl start agent-runner@NAME` when the limit has reset.";
    AgentUsageRecorded, "agent_usage_recorded", "f2117c09d3aa4f71bd5d84f8ee56c2b6", Info,
        "The agent reported its token usage",
        "The agent's final record carried usage: input, output and cache tokens, cost in USD and the model. Fields the agent did not report, or reported as nonsense, are left out rather than guessed.";
    AgentAuthErrorDetected, "agent_auth_error_detected", "1c423d73716f4537bd07c6483aff3edf", Error,
        "The agent could not authenticate",
        "The agent failed with an authentication error (HTTP 401, invalid API key, expired OAuth token). Retrying will not help: renew the credential (systemd credential file named in [agent.credentials], or the agent's own login) and start the loop again.";
    AgentNetworkErrorDetected, "agent_network_error_detected", "b8e8df28138c43b5a71609d9e2647377", Warning,
        "The agent could not reach the network",
        "The agent failed with a network error (connection refused or reset, DNS failure, unreachable network). The round is treated as transient and retried after a back-off. If it persists, check the host's connectivity and proxy settings.";
    DirtyDetected, "dirty_detected", "06325c62c5e04653bf279d376cc2bcf6", Info,
        "The agent left uncommitted changes",
        "After the round the work tree had uncommitted or untracked files (the first 20 are listed), and [vcs] dirty_action says what happens next: stash stashes them, commit commits them (with dirty_action = ignore git is not consulted at all). The project config, log_dir, the state directory and vcs.protect paths are never touched.";
    DirtyStashed, "dirty_stashed", "06525984854b44978958504d3e3ae303", Info,
        "Uncommitted changes were stashed",
        "dirty_action = stash: the agent's leftovers were stashed. The event carries the stash commit SHA; restore with `git stash apply SHA` (stash@{N} numbers shift, the SHA does not).";
    DirtyCommitted, "dirty_committed", "88194530075c4fa98fc53af389defb8f", Info,
        "Uncommitted changes were committed",
        "dirty_action = commit: the agent's leftovers were committed locally (never pushed). The event carries the commit SHA.";
    DirtyActionFailed, "dirty_action_failed", "709d89bdd58a4e5989c0935c1791d8da", Warning,
        "The dirty-tree action failed",
        "git could not inspect, stash or commit the work tree (the reason is in the event: a lock file, a hook, a missing identity). The tree was left as it is. Fix the repository by hand; the next round tries again.";
    CrashLoop, "crash_loop", "5ae1c77791df428fb958f42b7fa377e2", Error,
        "The agent keeps crashing: loop halted",
        "crash_loop_threshold rounds in a row ended with a non-zero exit in less than short_crash_s, with escalating delays in between, so the loop was halted instead of respawning forever. The event carries a redacted tail of the last round's log. Fix the cause, then `systemctl start agent-runner@NAME`.";
    ProjectOffline, "project_offline", "efaa206c42464cf4a87548bed6137e11", Error,
        "The agent never checked in: project offline",
        "checkin_attempts rounds in a row failed to check in within checkin_timeout_s, so the project was marked offline and its loop halted (last_error in the state says why). Run the agent command by hand in work_dir to see what it does, then start the loop again.";
    ConfigBroken, "config_broken", "341eb4be426c4bf58faa536a24a4ab7d", Error,
        "The project configuration is broken",
        "The startup battery failed (invalid TOML, missing prompt, work_dir not a git repository, agent not on PATH, unwritable log_dir, unreadable credential). The round exits 78 and is never retried. Run `agent-runner check NAME` for the details and fix the file.";
    MaxRoundsReached, "max_rounds_reached", "0add6b79776246fca33caad6a5fcb550", Info,
        "The loop reached max_rounds",
        "The loop ran max_rounds rounds and stops as configured. Start it again to run another batch.";
    StopFileDetected, "stop_file_detected", "51bae8012bcc4d9a8cf8a5668e0e4e06", Info,
        "The operator's stop file appeared",
        "The file named by stop_file exists, so the loop stopped; the running round was allowed to finish. Deleting the file does not resume the loop: delete it and start the loop again.";
    AgentSelfTerminated, "agent_self_terminated", "0a4dbd5ba1c54061ac4af84b5e4635f4", Info,
        "The agent declared its work done",
        "The agent wrote $AGENT_RUNNER_LOG_DIR/.agent-done (its content, up to 200 characters, is the reason) and the loop stopped. Starting the loop again clears the file.";
    LoopStarted, "loop_started", "d03601caa37848c8b7f49a708ddb95e9", Info,
        "The project's loop started",
        "The loop of rounds began: the round counter for max_rounds and the crash and check-in counters start from zero.";
    LoopStopped, "loop_stopped", "9ebfd678459a4bf090bb15e6611e1064", Info,
        "The project's loop stopped",
        "The loop was stopped (by the operator or a stop trigger); no further round is scheduled until it is started again.";
    LoopHalted, "loop_halted", "65e9067813284ae8bd35d3755bd9ec81", Warning,
        "The project's loop was halted",
        "A round asked for the loop to halt (crash loop, offline, config broken, max_rounds, transient stop) and the halt machinery stopped the loop's units. The reason is in the event; see the event that preceded it for details.";
    RoundSkipped, "round_skipped", "1ac13adf56864a2c9e49c1affa868952", Info,
        "A round did not run its agent",
        "The round found a stop trigger (stop_file or .agent-done) before spawning the agent and exited without running it. The halt machinery stops the loop.";
    ChildrenReaped, "round_orphans_killed", "6c4fb7b258c1438799862369d5875b48", Warning,
        "Processes outlived the agent and were killed",
        "The agent exited but left processes behind (background jobs, daemons). They were terminated so that nothing of a round outlives it. If an agent relies on such processes, it should wait for them before exiting.";
}

impl Kind {
    /// This kind's catalog entry.
    pub(crate) fn info(self) -> &'static KindInfo {
        ALL.iter()
            .find(|i| i.kind == self)
            .expect("every kind is listed in ALL")
    }

    /// The snake_case name.
    #[cfg(test)]
    pub(crate) fn name(self) -> &'static str {
        self.info().name
    }
}

/// Sends events for one project: to the journal, the JSON mirror, and a watching terminal.
#[derive(Debug, Clone)]
pub(crate) struct Emitter {
    project: String,
    mirror: Option<PathBuf>,
    journal: bool,
    terminal: bool,
}

impl Emitter {
    /// An emitter for `project`, mirroring to `log_dir/events.jsonl` (`None`: no mirror, e.g. when
    /// the log directory is unusable). The journal is used when its socket exists and
    /// `AGENT_RUNNER_NO_JOURNAL` is unset; readable lines go to stderr unless stderr is the
    /// journal already.
    pub(crate) fn new(project: &str, log_dir: Option<&Path>) -> Self {
        let journal = std::env::var_os("AGENT_RUNNER_NO_JOURNAL").is_none()
            && Path::new(JOURNAL_SOCKET).exists();
        Self {
            project: project.to_string(),
            mirror: log_dir.map(|d| d.join("events.jsonl")),
            journal,
            terminal: !libsystemd::logging::connected_to_journal(),
        }
    }

    /// Stops printing events to stderr (when the caller prints its own error instead).
    pub(crate) fn quiet_terminal(&mut self) {
        self.terminal = false;
    }

    /// Emits one event. `payload` is a JSON object (anything else is ignored); `message` is the
    /// human sentence. Failures to log never fail the caller: they are reported on stderr once.
    pub(crate) fn emit(
        &self,
        kind: Kind,
        round: Option<u64>,
        phase: Option<&str>,
        message: &str,
        payload: Value,
    ) {
        let info = kind.info();
        let message = redact::redact(message).into_owned();
        let mut payload = match payload {
            Value::Object(map) => Value::Object(map),
            _ => Value::Object(Map::new()),
        };
        redact::redact_json(&mut payload);
        let Value::Object(payload) = payload else {
            unreachable!("payload is an object")
        };

        if self.journal {
            let mut fields: Vec<(String, String)> = vec![
                ("MESSAGE_ID".into(), info.message_id.into()),
                ("SYSLOG_IDENTIFIER".into(), "agent-runner".into()),
                ("AGENT_RUNNER_EVENT".into(), info.name.into()),
                ("AGENT_RUNNER_PROJECT".into(), self.project.clone()),
            ];
            if let Some(r) = round {
                fields.push(("AGENT_RUNNER_ROUND".into(), r.to_string()));
            }
            if let Some(p) = phase {
                fields.push(("AGENT_RUNNER_PHASE".into(), p.to_string()));
            }
            for (key, value) in &payload {
                fields.push((journal_field(key), journal_value(value)));
            }
            let priority = match info.priority {
                Priority::Error => libsystemd::logging::Priority::Error,
                Priority::Warning => libsystemd::logging::Priority::Warning,
                Priority::Info => libsystemd::logging::Priority::Info,
            };
            if let Err(e) =
                libsystemd::logging::journal_send(priority, &message, fields.into_iter())
            {
                let _ = writeln!(
                    std::io::stderr(),
                    "agent-runner: cannot write to the journal: {e}"
                );
            }
        }

        if let Some(path) = &self.mirror {
            // Written by hand so the context keys come first, in the documented order.
            let mut text = String::with_capacity(256);
            text.push('{');
            let mut field = |key: &str, value: &Value| {
                if text.len() > 1 {
                    text.push(',');
                }
                text.push_str(&Value::String(key.into()).to_string());
                text.push(':');
                text.push_str(&value.to_string());
            };
            field("ts", &Value::String(timestamp(SystemTime::now())));
            field("event", &Value::String(info.name.into()));
            field("project", &Value::String(self.project.clone()));
            if let Some(r) = round {
                field("round", &Value::from(r));
            }
            if let Some(p) = phase {
                field("phase", &Value::String(p.into()));
            }
            field("message", &Value::String(message.clone()));
            for (key, value) in &payload {
                if !matches!(
                    key.as_str(),
                    "ts" | "event" | "project" | "round" | "phase" | "message"
                ) {
                    field(key, value);
                }
            }
            text.push_str("}\n");
            if let Err(e) = append_rotating(path, text.as_bytes()) {
                let _ = writeln!(
                    std::io::stderr(),
                    "agent-runner: cannot append to {}: {e}",
                    path.display()
                );
            }
        }

        if self.terminal {
            let tag = match info.priority {
                Priority::Error => "error: ",
                Priority::Warning => "warning: ",
                Priority::Info => "",
            };
            let _ = writeln!(
                std::io::stderr(),
                "agent-runner[{}]: {tag}{message}",
                self.project
            );
        }
    }
}

/// `AGENT_RUNNER_<UPPER_SNAKE>` for a payload key; characters the journal refuses become `_`.
fn journal_field(key: &str) -> String {
    let mut field = String::from("AGENT_RUNNER_");
    for c in key.chars() {
        field.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    field
}

fn journal_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Appends `data` with one write (O_APPEND keeps concurrent writers' lines whole), rotating the
/// file first when it has grown past the cap.
fn append_rotating(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if fs::metadata(path).is_ok_and(|m| m.len() + data.len() as u64 > MIRROR_MAX_BYTES) {
        for i in (1..MIRROR_KEEP).rev() {
            let _ = fs::rename(rotated(path, i), rotated(path, i + 1));
        }
        fs::rename(path, rotated(path, 1))?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)?;
    file.write_all(data)
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// `2026-11-22T10:00:00.123Z` for a point in time (UTC, milliseconds).
pub(crate) fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 → (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn kinds_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for info in ALL {
            assert_eq!(info.message_id.len(), 32, "{}", info.name);
            assert!(
                info.message_id
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert!(
                ids.insert(info.message_id),
                "duplicate id for {}",
                info.name
            );
            assert!(names.insert(info.name), "duplicate name {}", info.name);
            assert!(
                info.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
            assert!(
                info.description.len() > 40,
                "{} needs a catalog paragraph",
                info.name
            );
            assert_eq!(info.kind.name(), info.name);
        }
    }

    #[test]
    fn timestamps_are_utc_iso() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_795_341_600_123);
        assert_eq!(timestamp(t), "2026-11-22T10:00:00.123Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn field_names_are_upper_snake() {
        assert_eq!(journal_field("exit_code"), "AGENT_RUNNER_EXIT_CODE");
        assert_eq!(journal_field("reset-at"), "AGENT_RUNNER_RESET_AT");
    }

    #[test]
    fn mirror_lines_are_json_redacted_and_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let emitter = Emitter {
            project: "p".into(),
            mirror: Some(dir.path().join("events.jsonl")),
            journal: false,
            terminal: false,
        };
        emitter.emit(
            Kind::RoundEnd,
            Some(7),
            Some("build"),
            "round 7 ended: ok in 1.0s",
            serde_json::json!({"outcome": "ok", "raw": "Bearer abcdefghijklmnop"}),
        );
        let text = fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["event"], "round_end");
        assert_eq!(v["round"], 7);
        assert_eq!(v["phase"], "build");
        assert_eq!(v["outcome"], "ok");
        assert_eq!(v["raw"], "Bearer [REDACTED]");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));

        let big = vec![b'x'; usize::try_from(MIRROR_MAX_BYTES).unwrap()];
        fs::write(dir.path().join("events.jsonl"), &big).unwrap();
        emitter.emit(
            Kind::RoundStart,
            Some(8),
            None,
            "round 8 started",
            Value::Null,
        );
        assert!(dir.path().join("events.jsonl.1").exists());
        assert!(fs::metadata(dir.path().join("events.jsonl")).unwrap().len() < 1000);
    }
}
