//! What rounds spend and what budgets make of it, with the real CLIs' captured answers
//! (tests/fixtures/real) replayed as the agent: each preset's cost in `round_end`, the ledger,
//! `round_summary`, a daily budget that parks the loop until its window ends and resumes it, the
//! projection that keeps a round from starting, loop_usd's halt, cost spikes and a rebuilt ledger.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::round_command;

/// One project replaying one capture, in a scratch directory.
pub(crate) struct Project {
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) struct Ran {
    pub(crate) status: i32,
    pub(crate) stderr: String,
}

fn capture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(case)
}

impl Project {
    /// A project whose agent replays the capture `case` (`claude/ok`) with the preset of its CLI,
    /// and `tables` (TOML) after the usual ones.
    pub(crate) fn new(case: &str, tables: &str) -> Project {
        Self::with_agent_keys(case, "", tables)
    }

    /// [`Project::new`], with `agent_keys` (TOML lines) in `[agent]`.
    pub(crate) fn with_agent_keys(case: &str, agent_keys: &str, tables: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(
            work.join("prompt.md"),
            "Improve the project by one small, careful, well-tested step.\n",
        )
        .unwrap();
        let cli = case.split(['/', '-']).next().unwrap();
        let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/replay.sh");
        let toml = format!(
            "schema_version = 1\nname = \"spend\"\n[agent]\npreset = \"{cli}\"\ncommand = [\"{}\"]\n{agent_keys}\
             [agent.env]\nREPLAY_DIR = \"{}\"\n\
             [runtime]\nwork_dir = \".\"\nlog_dir = \"{}\"\n\
             [prompt]\nfiles = [\"prompt.md\"]\n{tables}\n",
            agent.display(),
            capture(case).display(),
            dir.path().join("logs").display(),
        );
        std::fs::write(work.join("spend.toml"), toml).unwrap();
        let ok = Command::new("git")
            .args(["init", "-q"])
            .current_dir(&work)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        Project { dir }
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub(crate) fn run(&self) -> Ran {
        let out = round_command()
            .arg("--config")
            .arg(self.dir.path().join("work/spend.toml"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .env("AGENT_RUNNER_STATE_DIR", self.state_dir())
            .env("AGENT_RUNNER_CONFIG_DIR", self.dir.path().join("etc"))
            .env(
                "AGENT_RUNNER_ACCOUNTS_DIR",
                self.dir.path().join("accounts"),
            )
            .env("AGENT_RUNNER_NO_JOURNAL", "1")
            .env("TZ", "UTC")
            .output()
            .unwrap();
        Ran {
            status: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub(crate) fn events(&self, kind: &str) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("logs/events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["event"] == kind)
            .collect()
    }

    pub(crate) fn last(&self, kind: &str) -> Value {
        self.events(kind)
            .pop()
            .unwrap_or_else(|| panic!("no {kind} event"))
    }

    pub(crate) fn json(&self, file: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_dir().join(file)).unwrap())
            .unwrap()
    }

    pub(crate) fn edit(&self, file: &str, f: impl FnOnce(&mut Value)) {
        let mut v = self.json(file);
        f(&mut v);
        std::fs::write(self.state_dir().join(file), v.to_string()).unwrap();
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `[pricing.default]` prices the captures' made-up models (and codex's, which it never names).
const DEFAULT_PRICE: &str = "[pricing.default]\ninput_per_mtok = 1.0\noutput_per_mtok = 10.0\n";

#[test]
fn every_preset_s_round_has_its_cost_in_round_end_the_summary_and_the_ledger() {
    // (capture, cost, where it came from, tokens)
    let cases = [
        ("claude/ok", 0.00592, "agent", None),
        ("aider/ok", 0.0036, "agent", Some(1256)),
        // 1200 in, 56 out at $1 and $10 per million.
        ("codex/ok", 0.00176, "price_table", Some(1256)),
        // gemini gives its total: 2400 in, 112 out.
        ("gemini/ok", 0.00352, "price_table", Some(2512)),
    ];
    for (case, cost, source, tokens) in cases {
        let p = Project::new(case, DEFAULT_PRICE);
        let ran = p.run();
        assert_eq!(ran.status, 0, "{case}: {}", ran.stderr);
        let end = p.last("round_end");
        let got = end["cost_usd"].as_f64().unwrap_or(-1.0);
        assert!((got - cost).abs() < 1e-9, "{case}: {end}");
        assert_eq!(end["cost_source"], source, "{case}");
        if let Some(t) = tokens {
            assert_eq!(end["tokens"], t, "{case}");
        }
        assert!(end["tokens"].as_u64().unwrap() > 0, "{case}: {end}");
        let summary = p.last("round_summary");
        assert_eq!(summary["outcome"], "ok", "{case}");
        assert_eq!(summary["cost_usd"], end["cost_usd"], "{case}");
        assert_eq!(summary["verdict"], "continue", "{case}");
        assert!(summary.get("files_changed").is_none(), "{case}: {summary}");
        let ledger = p.json("ledger.json");
        assert!(
            (ledger["day"]["usd"].as_f64().unwrap() - cost).abs() < 1e-9,
            "{case}"
        );
        assert_eq!(ledger["recent"].as_array().unwrap().len(), 1, "{case}");
    }
    // Without a price, codex's round has tokens and no cost.
    let p = Project::new("codex/ok", "");
    assert_eq!(p.run().status, 0);
    let end = p.last("round_end");
    assert_eq!(end["tokens"], 1256);
    assert!(end.get("cost_usd").is_none(), "{end}");
}

#[test]
fn a_spent_daily_budget_parks_the_loop_until_midnight_and_the_next_day_resumes_it() {
    let p = Project::new(
        "claude/ok",
        "[budget]\ndaily_usd = 0.01\ntimezone = \"UTC\"\n",
    );
    // $0.00592 of $0.01: the round runs; the next one would bring the day to $0.01184, over
    // the limit by more than 10 %: the loop parks at once.
    assert_eq!(p.run().status, 0);
    let exhausted = p.last("budget_exhausted");
    assert_eq!(exhausted["budget"], "daily_usd");
    assert_eq!(exhausted["owner"], "project");
    assert_eq!(exhausted["limit"], 0.01);
    assert!((exhausted["projected"].as_f64().unwrap() - 0.01184).abs() < 1e-9);
    let midnight = (now() / 86_400 + 1) * 86_400;
    assert_eq!(exhausted["resume_at"], midnight);
    let st = p.json("state.json");
    assert_eq!(st["verdict"]["action"], "back_off");
    assert_eq!(st["verdict"]["until"], midnight);
    assert_eq!(st["verdict"]["reason"], "daily_usd budget");
    assert_eq!(p.last("round_end")["until"], midnight);
    let summary = p.last("round_summary");
    assert!(
        summary["reason"]
            .as_str()
            .unwrap()
            .contains("daily_usd budget"),
        "{summary}"
    );
    // Parked: no agent runs.
    assert_eq!(p.run().status, 75);
    assert_eq!(p.json("state.json")["round"], 1);
    // Midnight passes (the park's end and the day's window moved into the past).
    let past = now() - 10;
    p.edit("state.json", |s| {
        s["verdict"]["until"] = Value::from(past);
        s["budget_park"]["until"] = Value::from(past);
    });
    p.edit("ledger.json", |l| {
        l["day"]["start"] = Value::from(past - 86_400);
        l["day"]["end"] = Value::from(past);
    });
    assert_eq!(p.run().status, 0);
    assert_eq!(p.json("state.json")["round"], 2);
    let reset = p.last("budget_window_reset");
    assert_eq!(reset["budget"], "daily_usd");
    assert_eq!(p.events("budget_window_reset").len(), 1);
    // The new day holds the one round since.
    let ledger = p.json("ledger.json");
    assert_eq!(ledger["day"]["rounds"], 1);
    assert_eq!(ledger["month"]["rounds"], 2);
}

#[test]
fn a_round_whose_projected_spend_crosses_the_budget_never_starts() {
    let p = Project::new(
        "claude/ok",
        "[budget]\nmonthly_usd = 1.0\novershoot_pct = 0\n",
    );
    assert_eq!(p.run().status, 0);
    assert!(p.events("budget_exhausted").is_empty());
    // Meanwhile the month's spend grew (another loop, a raised estimate): $0.999 + the median.
    p.edit("ledger.json", |l| l["month"]["usd"] = Value::from(0.999));
    let ran = p.run();
    assert_eq!(ran.status, 75, "{}", ran.stderr);
    assert_eq!(p.json("state.json")["round"], 1, "the agent never ran");
    let e = p.last("budget_exhausted");
    assert_eq!(e["budget"], "monthly_usd");
    assert!(e["projected"].as_f64().unwrap() > 1.0);
    assert!(e["resume_at"].as_u64().unwrap() > now());
}

#[test]
fn loop_usd_halts_and_a_spike_alerts_or_halts() {
    let p = Project::new("claude/ok", "[budget]\nloop_usd = 0.005\n");
    assert_eq!(p.run().status, 0);
    let e = p.last("budget_exhausted");
    assert_eq!(e["budget"], "loop_usd");
    assert!(e["resume_at"].is_null());
    let request = p.json("halt-request");
    assert_eq!(request["reason"], "loop_budget");
    assert_eq!(p.json("state.json")["verdict"]["action"], "halt");

    for (action, halts) in [("alert", false), ("halt", true)] {
        let p = Project::new(
            "claude/ok",
            &format!("[budget]\nspike_action = \"{action}\"\n"),
        );
        assert_eq!(p.run().status, 0);
        assert!(p.events("cost_spike").is_empty());
        // Three cheap rounds before: $0.00592 is more than 5 × their median.
        p.edit("ledger.json", |l| {
            l["recent"] = serde_json::json!([
                {"round": 1, "usd": 0.001, "tokens": 5},
                {"round": 1, "usd": 0.001, "tokens": 5},
                {"round": 1, "usd": 0.0011, "tokens": 5},
            ]);
        });
        assert_eq!(p.run().status, 0);
        let spike = p.last("cost_spike");
        assert_eq!(spike["action"], action);
        assert_eq!(spike["median_usd"], 0.001);
        assert_eq!(
            p.state_dir().join("halt-request").exists(),
            halts,
            "{action}"
        );
    }
}

#[test]
fn a_ledger_the_agent_garbled_is_rebuilt_from_the_mirror_and_said_so() {
    let p = Project::new("claude/ok", "");
    assert_eq!(p.run().status, 0);
    assert_eq!(p.run().status, 0);
    for garbage in ["{not json", r#"{"day":{"usd":-1}}"#] {
        std::fs::write(p.state_dir().join("ledger.json"), garbage).unwrap();
        assert_eq!(p.run().status, 0);
        let rebuilt = p.last("ledger_rebuilt");
        assert_eq!(rebuilt["source"], "events_mirror", "{rebuilt}");
        assert!(rebuilt["rounds"].as_u64().unwrap() >= 2, "{rebuilt}");
        // Nothing was lost: the earlier rounds and this one.
        let ledger = p.json("ledger.json");
        assert!(ledger["month"]["usd"].as_f64().unwrap() >= 3.0 * 0.00592 - 1e-9);
    }
    // A link in its place is refused and never followed, nor written through.
    let outside = p.dir.path().join("outside.json");
    std::fs::write(&outside, "kept").unwrap();
    std::fs::remove_file(p.state_dir().join("ledger.json")).unwrap();
    std::os::unix::fs::symlink(&outside, p.state_dir().join("ledger.json")).unwrap();
    assert_eq!(p.run().status, 0);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "kept");
    assert!(
        p.last("ledger_rebuilt")["problem"]
            .as_str()
            .unwrap()
            .contains("symbolic link")
    );
}
