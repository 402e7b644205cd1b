//! The emitter: sends each event to the journal (native protocol, exact `AGENT_RUNNER_*` fields),
//! appends it to the JSON mirror `LOG_DIR/events.jsonl`, and — when a person is watching a
//! terminal instead of the journal — prints a readable line to stderr. Every string is redacted
//! ([`crate::redact`]) before it leaves the process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::{Event, Kind, Priority};
use crate::error::Result;
use crate::fsutil::{Dir, Existing};
use crate::redact;

/// The journal's native socket; events go there only when it exists.
const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
/// The mirror's name in the log directory.
pub(super) const MIRROR_FILE: &str = "events.jsonl";
/// The mirror rotates past this size…
pub(super) const MIRROR_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// …keeping this many old files (`events.jsonl.1` … `.3`).
pub(super) const MIRROR_KEEP: u32 = 3;
/// The mirror's own keys, written first; a payload field of the same name is left out.
const MIRROR_CONTEXT_KEYS: [&str; 6] = ["ts", "event", "project", "round", "phase", "message"];

/// Sends events for one project: to the journal, the JSON mirror, and a watching terminal.
#[derive(Debug, Clone)]
pub(crate) struct Emitter {
    project: String,
    /// The log directory, which holds the mirror.
    log_dir: Option<PathBuf>,
    journal: bool,
    terminal: bool,
}

/// One event on its way out: everything but the payload, redacted.
struct Outgoing<'a> {
    kind: Kind,
    round: Option<u64>,
    phase: Option<&'a str>,
    message: String,
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
            log_dir: log_dir.map(Path::to_path_buf),
            journal,
            terminal: !libsystemd::logging::connected_to_journal(),
        }
    }

    /// Stops printing events to stderr (when the caller prints its own error instead).
    pub(crate) fn quiet_terminal(&mut self) {
        self.terminal = false;
    }

    /// Emits one event of round `round` (phase `phase`); its kind is the variant of `event`, and
    /// `message` is the human sentence. Failures to log never fail the caller: they are reported on
    /// stderr.
    pub(crate) fn emit(
        &self,
        round: Option<u64>,
        phase: Option<&str>,
        message: &str,
        event: impl Into<Event>,
    ) {
        let event = event.into();
        let out = Outgoing {
            kind: event.kind(),
            round,
            phase,
            message: redact::redact(message).into_owned(),
        };
        let payload = redacted_payload(&event);
        if self.journal {
            self.send_to_journal(&out, &payload);
        }
        if let Some(log_dir) = &self.log_dir {
            let line = self.mirror_line(&out, &payload);
            if let Err(e) = append_rotating(log_dir, line.as_bytes()) {
                crate::output::stderr_line(format_args!("agent-runner: {e}"));
            }
        }
        if self.terminal {
            let _ = self.print_line(std::io::stderr().lock(), &out);
        }
    }

    /// The readable line of `out` for a watching terminal, escaped: the message quotes what the
    /// agent wrote (its output, its state file).
    fn print_line(&self, to: impl Write, out: &Outgoing<'_>) -> std::io::Result<()> {
        let tag = match out.kind.priority() {
            Priority::Error => "error: ",
            Priority::Warning => "warning: ",
            Priority::Info => "",
        };
        let mut to = crate::output::Printable::new(to);
        writeln!(to, "agent-runner[{}]: {tag}{}", self.project, out.message)?;
        to.flush()
    }

    fn send_to_journal(&self, out: &Outgoing<'_>, payload: &Map<String, Value>) {
        let mut fields: Vec<(String, String)> = vec![
            ("MESSAGE_ID".into(), out.kind.message_id().into()),
            ("SYSLOG_IDENTIFIER".into(), "agent-runner".into()),
            ("AGENT_RUNNER_EVENT".into(), out.kind.name().into()),
            ("AGENT_RUNNER_PROJECT".into(), self.project.clone()),
        ];
        if let Some(r) = out.round {
            fields.push(("AGENT_RUNNER_ROUND".into(), r.to_string()));
        }
        if let Some(p) = out.phase {
            fields.push(("AGENT_RUNNER_PHASE".into(), p.to_string()));
        }
        for (key, value) in payload {
            fields.push((journal_field(key), journal_value(value)));
        }
        let priority = match out.kind.priority() {
            Priority::Error => libsystemd::logging::Priority::Error,
            Priority::Warning => libsystemd::logging::Priority::Warning,
            Priority::Info => libsystemd::logging::Priority::Info,
        };
        if let Err(e) =
            libsystemd::logging::journal_send(priority, &out.message, fields.into_iter())
        {
            let _ = writeln!(
                std::io::stderr(),
                "agent-runner: cannot write to the journal: {e}"
            );
        }
    }

    /// One mirror line, written by hand so the context keys come first, in the documented order.
    fn mirror_line(&self, out: &Outgoing<'_>, payload: &Map<String, Value>) -> String {
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
        field(
            "ts",
            &Value::String(crate::time::timestamp(SystemTime::now())),
        );
        field("event", &Value::String(out.kind.name().into()));
        field("project", &Value::String(self.project.clone()));
        if let Some(r) = out.round {
            field("round", &Value::from(r));
        }
        if let Some(p) = out.phase {
            field("phase", &Value::String(p.into()));
        }
        field("message", &Value::String(out.message.clone()));
        for (key, value) in payload {
            if !MIRROR_CONTEXT_KEYS.contains(&key.as_str()) {
                field(key, value);
            }
        }
        text.push_str("}\n");
        text
    }
}

/// The payload's fields, redacted. A payload that cannot be encoded (a path that is not UTF-8)
/// is sent without its fields rather than not at all.
fn redacted_payload(event: &Event) -> Map<String, Value> {
    let mut payload = match event.payload() {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) => Value::Object(Map::new()),
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "agent-runner: the fields of a {} event cannot be encoded: {e}",
                event.kind().name()
            );
            Value::Object(Map::new())
        }
    };
    redact::redact_json(&mut payload);
    match payload {
        Value::Object(map) => map,
        _ => Map::new(),
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

/// Appends `data` to the mirror in `log_dir` with one write (O_APPEND keeps concurrent writers'
/// lines whole), rotating it first when it has grown past the cap. The agent can write in the log
/// directory: the mirror is opened with no link followed and only as a regular file, since root's
/// commands append to it too.
fn append_rotating(log_dir: &Path, data: &[u8]) -> Result<()> {
    let dir = Dir::open(log_dir)?;
    let mirror = Path::new(MIRROR_FILE);
    let mut file = dir.open_write(mirror, Existing::Append, 0o640)?;
    if file.metadata().map_or(0, |m| m.len()) + data.len() as u64 > MIRROR_MAX_BYTES {
        drop(file);
        for i in (1..MIRROR_KEEP).rev() {
            let _ = dir.rename(&rotated(i), &rotated(i + 1));
        }
        dir.rename(MIRROR_FILE, &rotated(1))?;
        file = dir.open_write(mirror, Existing::Append, 0o640)?;
    }
    file.write_all(data)
        .map_err(|e| crate::error::Error::io("cannot append to", dir.path().join(mirror), e))
}

/// The name of the mirror's `n`th rotation.
pub(super) fn rotated(n: u32) -> String {
    format!("{MIRROR_FILE}.{n}")
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::events::payload::{RoundEnd, RoundStart};

    /// An emitter of project `p` that writes nowhere, and an event of round `round` for it.
    fn bare(kind: Kind, round: u64, message: &str) -> (Emitter, Outgoing<'static>) {
        let emitter = Emitter {
            project: "p".into(),
            log_dir: None,
            journal: false,
            terminal: false,
        };
        let out = Outgoing {
            kind,
            round: Some(round),
            phase: None,
            message: message.into(),
        };
        (emitter, out)
    }

    #[test]
    fn the_terminal_line_is_escaped() {
        let (emitter, out) = bare(Kind::RoundEnd, 1, "round 1: \u{1b}]0;PWNED\u{7}\u{9b}2J");
        let mut line = Vec::new();
        emitter.print_line(&mut line, &out).unwrap();
        let line = String::from_utf8(line).unwrap();
        assert!(
            line.ends_with("round 1: \\u001b]0;PWNED\\u0007\\u009b2J\n"),
            "{line:?}"
        );
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
            log_dir: Some(dir.path().to_path_buf()),
            journal: false,
            terminal: false,
        };
        emitter.emit(
            Some(7),
            Some("build"),
            "round 7 ended: ok in 1.0s",
            RoundEnd {
                outcome: "ok".into(),
                classification: Some("Bearer abcdefghijklmnop".into()),
                ..RoundEnd::default()
            },
        );
        let text = fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["event"], "round_end");
        assert_eq!(v["round"], 7);
        assert_eq!(v["phase"], "build");
        assert_eq!(v["outcome"], "ok");
        assert_eq!(v["classification"], "Bearer [REDACTED]");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));

        let big = vec![b'x'; usize::try_from(MIRROR_MAX_BYTES).unwrap()];
        fs::write(dir.path().join("events.jsonl"), &big).unwrap();
        emitter.emit(Some(8), None, "round 8 started", RoundStart::default());
        assert!(dir.path().join("events.jsonl.1").exists());
        assert!(fs::metadata(dir.path().join("events.jsonl")).unwrap().len() < 1000);
    }

    #[test]
    fn the_mirror_is_never_written_through_a_link_nor_waits_on_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "root's file\n").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(MIRROR_FILE)).unwrap();
        let e = append_rotating(dir.path(), b"{}\n").unwrap_err();
        let mirror = dir.path().join(MIRROR_FILE);
        assert_eq!(
            e.to_string(),
            format!("cannot append to {}: is a symbolic link", mirror.display())
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "root's file\n");

        fs::remove_file(&mirror).unwrap();
        nix::unistd::mkfifo(&mirror, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log_dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            tx.send(append_rotating(&log_dir, b"{}\n").map_err(|e| e.to_string()))
        });
        let e = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("appending to a FIFO does not block")
            .unwrap_err();
        assert!(e.ends_with("is a FIFO, not a regular file"), "{e}");
    }

    #[test]
    fn context_keys_come_first_and_payload_keys_in_order() {
        let (emitter, out) = bare(Kind::LoopHalted, 3, "halted");
        let mut payload = Map::new();
        payload.insert("reason".into(), Value::from("max_rounds"));
        payload.insert("round".into(), Value::from(99));
        let line = emitter.mirror_line(&out, &payload);
        let (ts, rest) = line.split_once(",\"event\"").unwrap();
        assert!(ts.starts_with("{\"ts\":\""));
        assert_eq!(
            rest,
            ":\"loop_halted\",\"project\":\"p\",\"round\":3,\"message\":\"halted\",\"reason\":\"max_rounds\"}\n"
        );
    }
}
