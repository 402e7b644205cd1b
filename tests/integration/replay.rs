//! Every captured answer of a real agent CLI, replayed through a real `agent-runner round`: the
//! agent is tests/agents/replay.sh printing the capture's stderr and stdout and exiting with its
//! status, under the CLI's preset, and the round must classify it as the capture's manifest says.
//! The manifests are tests/fixtures/*/expected.tsv (tests/fixtures/real: the captures of the real
//! CLIs against the fake provider), plus the one in `$AGENT_RUNNER_REPLAY_FIXTURES` when that is
//! set (a capture in the making).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::round_command;

/// The round timeout of a replay whose capture hung (the CLI had to be killed).
const HUNG_TIMEOUT_S: u64 = 2;
/// The most `agent_retrying` events a round may write, whatever the agent printed.
const MAX_RETRY_EVENTS: usize = 20;

/// One row of a manifest.
struct Case {
    cli: String,
    name: String,
    dir: PathBuf,
    expected: String,
    reset_at: Option<u64>,
    reset_form: String,
    timed_out: bool,
    captured_at: Option<u64>,
    /// How long the capture took (its reset times count from its end).
    seconds: Option<u64>,
}

fn manifests() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path().join("expected.tsv"))
        .filter(|p| p.is_file())
        .collect();
    if let Some(extra) = std::env::var_os("AGENT_RUNNER_REPLAY_FIXTURES") {
        found.push(PathBuf::from(extra).join("expected.tsv"));
    }
    found.sort();
    found
}

fn cases(manifest: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |row: &[&str], name: &str| -> String {
        let i = header.iter().position(|h| *h == name);
        let i = i.unwrap_or_else(|| panic!("{}: no column {name}", manifest.display()));
        row.get(i).copied().unwrap_or("-").to_string()
    };
    let number = |s: String| s.parse::<u64>().ok();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let row: Vec<&str> = line.split('\t').collect();
            let (cli, name) = (column(&row, "cli"), column(&row, "case"));
            Case {
                dir: manifest.parent().unwrap().join(&cli).join(&name),
                expected: column(&row, "expected"),
                reset_at: number(column(&row, "reset_at")),
                reset_form: column(&row, "reset_form"),
                timed_out: column(&row, "timed_out") == "1",
                captured_at: number(column(&row, "captured_at")),
                seconds: number(column(&row, "seconds")),
                cli,
                name,
            }
        })
        .collect()
}

/// `claude-oauth` runs under the claude preset: the part before the first `-`.
fn preset(cli: &str) -> &str {
    cli.split('-').next().unwrap_or(cli)
}

/// The events of one replayed round.
struct Replayed {
    status: i32,
    events: Vec<Value>,
    stderr: String,
    /// When the round ended (epoch seconds).
    ended_at: u64,
}

impl Replayed {
    fn of(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == kind).collect()
    }
}

fn replay(case: &Case) -> Replayed {
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("prompt.md"),
        "Improve the project by one small, careful, well-tested step.\n",
    )
    .unwrap();
    let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/replay.sh");
    let timeout = if case.timed_out { HUNG_TIMEOUT_S } else { 60 };
    let toml = format!(
        "schema_version = 1\nname = \"replay\"\n[agent]\npreset = \"{}\"\ncommand = [\"{}\"]\n\
         [agent.env]\nREPLAY_DIR = \"{}\"\nREPLAY_HANG = \"{}\"\n\
         [runtime]\nwork_dir = \".\"\nlog_dir = \"{}\"\nround_timeout_s = {timeout}\n\
         [prompt]\nfiles = [\"prompt.md\"]\n",
        preset(&case.cli),
        agent.display(),
        case.dir.display(),
        u8::from(case.timed_out),
        scratch.path().join("logs").display(),
    );
    std::fs::write(work.join("replay.toml"), toml).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(&work)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    let mut cmd = round_command();
    cmd.arg("--config")
        .arg(work.join("replay.toml"))
        .current_dir(scratch.path())
        .stdin(Stdio::null())
        .env("AGENT_RUNNER_STATE_DIR", scratch.path().join("state"))
        .env("AGENT_RUNNER_CONFIG_DIR", scratch.path().join("etc"))
        .env("AGENT_RUNNER_NO_JOURNAL", "1")
        // codex prints its reset times in local time; the captures were made in UTC.
        .env("TZ", "UTC");
    let out = cmd.output().unwrap();
    let ended_at = epoch_now();
    let events = std::fs::read_to_string(scratch.path().join("logs/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Replayed {
        status: out.status.code().unwrap_or(-1),
        events,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ended_at,
    }
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The retries the capture shows: the lines in which the CLI says it retries a failed request.
fn retries_in(dir: &Path) -> u64 {
    const MARKS: [&str; 6] = [
        "\"subtype\":\"api_retry\"",
        "{\"type\":\"error\",\"message\":\"Reconnecting...",
        "\"type\":\"turn.step.retrying\"",
        "Retrying after ",
        "Retrying with backoff",
        "Retrying in ",
    ];
    let mut n = 0;
    for stream in ["stdout", "stderr"] {
        let text = String::from_utf8_lossy(&std::fs::read(dir.join(stream)).unwrap()).into_owned();
        n += text
            .lines()
            .filter(|l| MARKS.iter().any(|m| l.contains(m)))
            .count();
    }
    u64::try_from(n).unwrap()
}

/// The round's outcome and classification a manifest's `expected` stands for.
fn expected_outcome(expected: &str) -> (&str, Option<&str>) {
    match expected {
        "ok" => ("ok", None),
        "auth_fail" => ("auth_fail", Some("auth")),
        "round_timeout" => ("timeout", None),
        "crash" => ("crash", None),
        class => ("transient", Some(class)),
    }
}

/// What is wrong with the replay of `case`, if anything.
fn check(case: &Case, r: &Replayed) -> Vec<String> {
    let mut wrong = Vec::new();
    let Some(end) = r.of("round_end").pop() else {
        return vec![format!("no round_end (status {}): {}", r.status, r.stderr)];
    };
    let (outcome, class) = expected_outcome(&case.expected);
    let got = (end["outcome"].as_str(), end["classification"].as_str());
    let class_matches = class.is_none() || got.1 == class;
    if got.0 != Some(outcome) || !class_matches {
        wrong.push(format!("expected {outcome} {class:?}, got {got:?}"));
    }
    wrong.extend(check_reset(case, r));
    for usage in r.of("agent_usage_recorded") {
        let tokens = [
            "input_tokens",
            "output_tokens",
            "total_tokens",
            "cache_read_tokens",
        ];
        if !tokens
            .iter()
            .any(|k| usage[k].as_u64().is_some_and(|n| n > 0))
        {
            wrong.push(format!("usage without tokens: {usage}"));
        }
        if matches!(usage["model"].as_str(), Some("<synthetic>" | "auto")) {
            wrong.push(format!("usage under a placeholder model: {usage}"));
        }
    }
    let retrying = r.of("agent_retrying");
    let retries = end["agent_retries"].as_u64().unwrap_or(0);
    if retrying.len() > MAX_RETRY_EVENTS || u64::try_from(retrying.len()).unwrap() > retries {
        wrong.push(format!(
            "{} agent_retrying events for {retries} retries",
            retrying.len()
        ));
    }
    let shown = retries_in(&case.dir);
    if retries != shown {
        wrong.push(format!(
            "{retries} retries counted, the capture shows {shown}"
        ));
    }
    if shown > 0 && retrying.is_empty() {
        wrong.push("retries shown but no agent_retrying event".into());
    }
    wrong
}

/// The reset time of a transient error, when the capture has one. An epoch or wall-clock time
/// is checked when it is recent enough for the round to believe it (reset times more than a day
/// old are unknown by design); a wait ("retry in 1s") counts from the end of the run, the
/// capture's and the replay's.
fn check_reset(case: &Case, r: &Replayed) -> Option<String> {
    let expected = case.reset_at?;
    if expected_outcome(&case.expected).0 != "transient" {
        return None;
    }
    let detected = r.of("transient_error_detected");
    let got = detected.last().and_then(|e| e["reset_at"].as_u64());
    let (expected, tolerance) = if case.reset_form == "delay" {
        let captured_end = case.captured_at? + case.seconds.unwrap_or(0);
        (r.ended_at + expected.saturating_sub(captured_end), 5)
    } else {
        let now = epoch_now();
        if expected + 86_400 < now || case.captured_at.is_some_and(|c| c + 86_400 < now) {
            return None;
        }
        // A wall-clock time is given to the minute.
        (expected, if case.reset_form == "clock" { 60 } else { 0 })
    };
    match got {
        Some(t) if t.abs_diff(expected) <= tolerance => None,
        _ => Some(format!(
            "reset_at {got:?}, expected {expected} ± {tolerance}"
        )),
    }
}

#[test]
fn every_captured_answer_is_classified_as_its_manifest_says() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for manifest in manifests() {
        for case in cases(&manifest) {
            let r = replay(&case);
            replayed += 1;
            for problem in check(&case, &r) {
                failures.push(format!("{}/{}: {problem}", case.cli, case.name));
            }
        }
    }
    assert!(replayed >= 50, "only {replayed} answers replayed");
    assert!(
        failures.is_empty(),
        "{} of {replayed} replays wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
