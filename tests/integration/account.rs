//! Shared provider accounts beyond the moment: a park kept in the accounts' store holds every
//! round of the account's projects before its agent starts, and ends by itself; a store that
//! cannot be believed (a link, a FIFO, a huge or garbled file) is no park, never a hang or a
//! panic; an account's own file is checked like a project's `[budget]`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::binary;
use crate::spend::{Project, now};

const ACCOUNT: &str = "account = \"team\"\n";

fn project() -> Project {
    Project::with_agent_keys("claude/ok", ACCOUNT, "")
}

fn store(p: &Project) -> PathBuf {
    let dir = p.dir.path().join("accounts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("team.json")
}

fn park(until: u64, budget: Option<&serde_json::Value>) -> String {
    json!({
        "account": "team", "seen_by": "other", "budget": budget, "since": now(),
        "reset_at": until, "resume_at": {"spend": until},
    })
    .to_string()
}

#[test]
fn a_kept_rejection_keeps_the_agent_from_starting_until_the_project_resumes() {
    let p = project();
    let until = now() + 600;
    std::fs::write(store(&p), park(until, None)).unwrap();
    let ran = p.run();
    assert_eq!(ran.status, 75, "{}", ran.stderr);
    assert!(p.events("agent_spawn").is_empty(), "the agent started");
    let told = p.last("account_throttled");
    assert_eq!(
        (told["account"].as_str(), told["resume_at"].as_u64()),
        (Some("team"), Some(until))
    );
    assert_eq!(p.json("state.json")["verdict"]["until"], until);
    // The park ends (and the back-off it left): the round runs its agent.
    std::fs::write(store(&p), park(now() - 1, None)).unwrap();
    p.edit("state.json", |s| s["verdict"]["until"] = json!(now() - 1));
    let ran = p.run();
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert_eq!(p.events("agent_spawn").len(), 1);
}

#[test]
fn an_account_budget_parks_as_the_project_s_own_and_its_end_is_told() {
    let p = project();
    let until = now() + 600;
    let budget = json!({"budget": "daily_usd", "spent": 41.5, "limit": 40.0});
    std::fs::write(store(&p), park(until, Some(&budget))).unwrap();
    assert_eq!(p.run().status, 75);
    assert!(p.events("agent_spawn").is_empty(), "the agent started");
    let told = p.last("budget_exhausted");
    assert_eq!(told["owner"], "account team");
    assert_eq!(told["budget"], "daily_usd");
    assert_eq!(p.json("state.json")["budget_park"]["until"], until);
    std::fs::write(store(&p), park(now() - 1, None)).unwrap();
    p.edit("state.json", |s| {
        s["verdict"]["until"] = json!(now() - 1);
        s["budget_park"]["until"] = json!(now() - 1);
    });
    assert_eq!(p.run().status, 0);
    assert_eq!(p.last("budget_window_reset")["budget"], "daily_usd");
}

/// Puts something hostile where the account's park is kept.
type MakeStore = dyn Fn(&std::path::Path);

#[test]
fn a_store_that_cannot_be_believed_is_no_park_and_never_blocks() {
    let hostile: [(&str, &MakeStore); 4] = [
        ("a link", &|path| {
            let target = path.with_file_name("elsewhere.json");
            std::fs::write(&target, park(now() + 600, None)).unwrap();
            std::os::unix::fs::symlink(&target, path).unwrap();
        }),
        ("a FIFO", &|path| {
            nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        }),
        ("a huge file", &|path| {
            let mut text = park(now() + 600, None);
            text.push_str(&" ".repeat(1 << 20));
            std::fs::write(path, text).unwrap();
        }),
        ("garbage", &|path| {
            std::fs::write(path, "{\"account\": [").unwrap();
        }),
    ];
    for (what, make) in hostile {
        let p = project();
        make(&store(&p));
        let started = Instant::now();
        let ran = p.run();
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: the round hung"
        );
        assert_eq!(ran.status, 0, "{what}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("treated as no park"),
            "{what}: {}",
            ran.stderr
        );
        assert!(!ran.stderr.contains("panicked"), "{what}: {}", ran.stderr);
        assert_eq!(p.events("agent_spawn").len(), 1, "{what}");
    }
}

#[test]
fn check_reports_the_account_file_s_problems_with_its_path() {
    let p = project();
    let accounts = p.dir.path().join("etc/accounts");
    std::fs::create_dir_all(&accounts).unwrap();
    let check = |text: &str| {
        std::fs::write(accounts.join("team.toml"), text).unwrap();
        let out = std::process::Command::new(binary())
            .args(["check", "--config"])
            .arg(p.dir.path().join("work/spend.toml"))
            .env("AGENT_RUNNER_CONFIG_DIR", p.dir.path().join("etc"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let out = check("[budget]\ndaily_usd = 40\n");
    assert!(!out.contains("accounts/team.toml"), "{out}");
    for (text, says) in [
        ("[budget]\nloop_usd = 5\n", "no loop"),
        ("[budget]\ndaily_usd = -2\n", "budget.daily_usd"),
        ("[budget]\nmonthly = 2\n", "monthly"),
        ("[pricing]\n", "pricing"),
    ] {
        let out = check(text);
        assert!(
            out.contains("accounts/team.toml") && out.contains(says),
            "{text}: {out}"
        );
    }
}
