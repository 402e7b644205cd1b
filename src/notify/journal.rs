//! The events to deliver: the project's events of the kinds `on` names, read from the journal
//! after the notifier's cursor, oldest first. Only the journal is read, never the events mirror
//! (the agent can write the log directory), and only entries whose unit journald itself recorded
//! (`_SYSTEMD_UNIT`, which no process can set) as one of the project's units, or as the root
//! watch service: another project's agent cannot make this project's notifier speak. The
//! project's own agent runs inside its round service and can still log a made-up event of its
//! project; a notification says what the journal says, not more.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::events::read::{Record, journal_entry_to_record, journal_partly_hidden};
use crate::units::{Units, WATCH_SERVICE};

/// The most events one run handles; the next run goes on from the cursor.
pub(crate) const MAX_EVENTS_PER_RUN: usize = 200;
/// How far back the first run of a project looks, when it has no cursor yet.
pub(crate) const FIRST_LOOK_BACK: &str = "-15min";
/// The longest journal line read.
const MAX_LINE_BYTES: u64 = 1 << 20;

/// The project's events of the kinds `on`, after `cursor`, oldest first.
pub(crate) fn events_after(
    project: &str,
    cursor: Option<&str>,
    on: &[String],
) -> Result<Vec<Record>> {
    let mut child = Command::new("journalctl")
        .args(journal_args(project, cursor, on))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Failed(format!("cannot run journalctl: {e}")))?;
    let units = Units::of(project);
    let mut events = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::with_capacity(1 << 16, stdout);
        let mut line = Vec::new();
        while events.len() < MAX_EVENTS_PER_RUN {
            line.clear();
            match (&mut reader)
                .take(MAX_LINE_BYTES)
                .read_until(b'\n', &mut line)
            {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            if let Some(record) = trusted(&text, &units) {
                events.push(record);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    if let Some(e) = child.stderr.take() {
        let _ = e.take(1 << 16).read_to_string(&mut stderr);
    }
    if journal_partly_hidden(&stderr) {
        return Err(Error::Failed(
            "journalctl cannot read every journal file: the notifier needs group systemd-journal"
                .into(),
        ));
    }
    Ok(events)
}

fn journal_args(project: &str, cursor: Option<&str>, on: &[String]) -> Vec<String> {
    let mut args = vec![
        "-o".to_string(),
        "json".into(),
        "--no-pager".into(),
        match cursor {
            Some(c) => format!("--after-cursor={c}"),
            None => format!("--since={FIRST_LOOK_BACK}"),
        },
        format!("AGENT_RUNNER_PROJECT={project}"),
    ];
    args.extend(on.iter().map(|kind| format!("AGENT_RUNNER_EVENT={kind}")));
    args
}

/// The entry as a record, if journald recorded it for one of the project's units (its steps after
/// a round and root's watch service only when they ran as root) and it is an event.
fn trusted(line: &str, units: &Units) -> Option<Record> {
    let entry: Value = serde_json::from_str(line).ok()?;
    let unit = entry.get("_SYSTEMD_UNIT")?.as_str()?;
    let uid = entry.get("_UID").and_then(Value::as_str);
    let root = uid == Some("0");
    let ours = units.all_with_loop().contains(&unit)
        || (root && (unit == WATCH_SERVICE || units.after_round.iter().any(|u| u == unit)));
    if !ours {
        return None;
    }
    journal_entry_to_record(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(unit: &str, uid: &str) -> String {
        serde_json::json!({
            "_SYSTEMD_UNIT": unit, "_UID": uid, "AGENT_RUNNER_EVENT": "loop_halted",
            "AGENT_RUNNER_PROJECT": "demo", "MESSAGE": "halted", "__CURSOR": "c1",
            "__REALTIME_TIMESTAMP": "1764298800000000", "AGENT_RUNNER_REASON": "max_rounds",
        })
        .to_string()
    }

    #[test]
    fn only_the_projects_own_units_are_believed() {
        let units = Units::of("demo");
        let record = trusted(&line("agent-runner-halt@demo.service", "1000"), &units).unwrap();
        assert_eq!(record.name(), Some("loop_halted"));
        assert_eq!(record.cursor(), Some("c1"));
        assert!(trusted(&line("agent-runner@demo.service", "0"), &units).is_some());
        assert!(trusted(&line(WATCH_SERVICE, "0"), &units).is_some());
        assert!(trusted(&line(WATCH_SERVICE, "1000"), &units).is_none());
        // The step after a round: root's, in either unit.
        assert!(trusted(&line("agent-runner-after@demo.service", "0"), &units).is_some());
        assert!(
            trusted(
                &line("agent-runner-after-failure@demo.service", "0"),
                &units
            )
            .is_some()
        );
        assert!(trusted(&line("agent-runner-after@demo.service", "1000"), &units).is_none());
        assert!(trusted(&line("agent-runner-after@other.service", "0"), &units).is_none());
        assert!(trusted(&line("agent-runner@other.service", "1001"), &units).is_none());
        assert!(trusted(&line("user@1000.service", "1000"), &units).is_none());
        let no_unit = line("x", "0").replace("\"_SYSTEMD_UNIT\":\"x\",", "");
        assert!(trusted(&no_unit, &units).is_none());
    }

    #[test]
    fn the_query_starts_at_the_cursor_or_a_short_look_back() {
        let on = vec!["loop_halted".to_string(), "alert_raised".into()];
        let args = journal_args("demo", Some("s=1;i=2"), &on);
        assert!(args.contains(&"--after-cursor=s=1;i=2".to_string()));
        assert!(args.contains(&"AGENT_RUNNER_EVENT=alert_raised".to_string()));
        let args = journal_args("demo", None, &on);
        assert!(args.contains(&format!("--since={FIRST_LOOK_BACK}")));
    }
}
