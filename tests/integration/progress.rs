//! The progress brakes and the goal checks, with fake agents in real git repositories: a stalled
//! agent halts, a repeated change halts, passing checks end the loop, a check past its time is
//! killed, and the repository's own config cannot make the round's git run code.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{binary, can_switch_user, round_command};

/// A project in a git work tree, logs and state outside it (the hooks' tests use it too).
pub(crate) struct Project {
    dir: tempfile::TempDir,
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

impl Project {
    /// `agent` is a script of tests/agents; `tail` more tables.
    pub(crate) fn new(agent: &str, tail: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(
            work.join("prompt.md"),
            "Make the project better, one careful step.\n",
        )
        .unwrap();
        std::fs::write(work.join("tracked.txt"), "tracked\n").unwrap();
        let agent = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/agents")
            .join(agent);
        let toml = format!(
            "schema_version = 1\nname = \"p\"\n[agent]\ncommand = [\"{}\"]\n[runtime]\nwork_dir = \".\"\nlog_dir = \"{}\"\n[prompt]\nfiles = [\"prompt.md\"]\n{tail}\n",
            agent.display(),
            dir.path().join("logs").display()
        );
        std::fs::write(work.join("project.toml"), toml).unwrap();
        git(&work, &["init", "-q"]);
        git(&work, &["config", "user.email", "t@example.com"]);
        git(&work, &["config", "user.name", "t"]);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-qm", "init"]);
        Project { dir }
    }

    pub(crate) fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn command(&self) -> Command {
        let mut cmd = round_command();
        cmd.arg("--config")
            .arg(self.work().join("project.toml"))
            .env("AGENT_RUNNER_STATE_DIR", self.dir.path().join("state"))
            .env("AGENT_RUNNER_CONFIG_DIR", self.dir.path().join("etc"))
            .env("AGENT_RUNNER_NO_JOURNAL", "1")
            .env("AGENT_RUNNER_BIN", binary())
            .stdin(Stdio::null());
        cmd
    }

    /// Runs one round; its exit status.
    pub(crate) fn round(&self) -> i32 {
        let out = self.command().output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        out.status.code().unwrap_or(-1)
    }

    /// Runs rounds until one halts the loop (at most `max`); the number of rounds run.
    fn rounds_until_halt(&self, max: u64) -> u64 {
        for n in 1..=max {
            assert_eq!(self.round(), 0, "round {n}: {:?}", self.kinds());
            if self.state()["verdict"]["action"] == "halt" {
                return n;
            }
        }
        panic!("no halt in {max} rounds: {:?}", self.kinds());
    }

    pub(crate) fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("logs/events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn kinds(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_string())
            .collect()
    }

    pub(crate) fn all(&self, kind: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }

    pub(crate) fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join("state/state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn halt_reason(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join("state/halt-request"))
            .expect("the halting round wrote its halt request");
        serde_json::from_str::<Value>(&text).unwrap()["reason"].clone()
    }

    pub(crate) fn round_log(&self, n: u64) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("logs/rounds/round-{n}.log"))).unwrap()
    }
}

#[test]
fn an_agent_that_changes_nothing_halts_after_stall_rounds() {
    let p = Project::new("ok.sh", "[progress]\nstall_rounds = 2");
    // The first round sets the mark; the two after it change nothing.
    assert_eq!(p.rounds_until_halt(6), 3);
    assert_eq!(p.halt_reason(), "stalled_no_progress");
    let stalled = &p.all("stalled_no_progress")[0];
    assert_eq!(stalled["rounds"], 2);
    assert_eq!(stalled["stall_rounds"], 2);
    let progress = p.all("round_progress");
    assert_eq!(progress.len(), 3);
    assert_eq!(progress[0]["first"], true);
    assert_eq!(progress[2]["rounds_unchanged"], 2);
    assert_eq!(progress[2]["files_changed"], 0);
}

#[test]
fn an_agent_that_leaves_untracked_work_is_progressing() {
    // dirty.sh writes a new untracked file (and a line) every round and never commits.
    let p = Project::new(
        "dirty.sh",
        "[progress]\nstall_rounds = 2\nrepeat_rounds = 2",
    );
    for n in 1..=4 {
        assert_eq!(p.round(), 0);
        assert_eq!(p.state()["verdict"]["action"], "continue", "round {n}");
    }
    let last = p.all("round_progress").pop().unwrap();
    assert_eq!(last["rounds_unchanged"], 0);
    assert_eq!(last["files_changed"], 2, "{last}");
    assert_eq!(last["insertions"], 2, "{last}");
    assert_eq!(last["commits"], 0, "{last}");
}

#[test]
fn the_same_change_stashed_and_made_again_halts_as_repeating_diff() {
    let p = Project::new(
        "same-change.sh",
        "[vcs]\ndirty_action = \"stash\"\n[progress]\nrepeat_rounds = 2",
    );
    assert_eq!(p.rounds_until_halt(6), 3);
    assert_eq!(p.halt_reason(), "repeating_diff");
    let repeating = &p.all("repeating_diff")[0];
    assert_eq!(repeating["rounds"], 2);
    let change = repeating["change"].as_str().unwrap();
    let (from, to) = change.split_once("..").unwrap();
    assert!(from.len() == 40 && to.len() == 40 && from != to, "{change}");
    let progress = p.all("round_progress").pop().unwrap();
    assert_eq!(
        (&progress["files_changed"], &progress["insertions"]),
        (&Value::from(1), &Value::from(1))
    );
}

#[test]
fn every_goal_check_passing_ends_the_loop_with_goal_reached() {
    let p = Project::new(
        "done-in-round-2.sh",
        "[[goal.checks]]\nname = \"lint\"\ncmd = [\"sh\", \"-c\", \"echo lint says fine\"]\n\n[[goal.checks]]\nname = \"done\"\ncmd = [\"test\", \"-f\", \"done.txt\"]\ntimeout_s = 10",
    );
    assert_eq!(p.rounds_until_halt(5), 2);
    assert_eq!(p.halt_reason(), "goal_reached");
    assert_eq!(
        p.all("goal_reached")[0]["checks"],
        serde_json::json!(["lint", "done"])
    );
    let results = p.all("goal_check_result");
    let passed: Vec<_> = results
        .iter()
        .map(|r| r["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, false, true, true]);
    assert_eq!(results[1]["exit_code"], 1);
    let log = p.round_log(2);
    assert!(log.contains("lint says fine"), "{log}");
    assert!(log.contains("goal check done passed"), "{log}");
}

#[test]
fn a_check_past_its_time_is_killed_with_its_group_and_fails() {
    let pids = tempfile::tempdir().unwrap();
    let pid_file = pids.path().join("pid");
    let p = Project::new(
        "ok.sh",
        &format!(
            "[[goal.checks]]\nname = \"slow\"\ncmd = [\"sh\", \"-c\", \"sleep 60 & echo $! > {}; echo waiting; wait\"]\ntimeout_s = 1",
            pid_file.display()
        ),
    );
    let started = Instant::now();
    assert_eq!(p.round(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let result = &p.all("goal_check_result")[0];
    assert_eq!(result["timed_out"], true);
    assert_eq!(result["passed"], false);
    assert_eq!(p.state()["verdict"]["action"], "continue");
    assert!(p.round_log(1).contains("timed out after 1s"));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty()
            || stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z'),
        "the check's background process survived: {stat}"
    );
}

/// A repository config that runs `marker`-touching code from fsmonitor, a hook and a clean filter.
fn plant_hostile_config(work: &Path, marker: &Path) {
    let script = work.parent().unwrap().join("evil.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nid -u >> {}\ncat\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let hooks = work.parent().unwrap().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for hook in ["post-index-change", "pre-commit", "post-checkout"] {
        std::fs::copy(&script, hooks.join(hook)).unwrap();
    }
    let s = script.display().to_string();
    git(work, &["config", "core.fsmonitor", &s]);
    git(
        work,
        &["config", "core.hooksPath", &hooks.display().to_string()],
    );
    git(work, &["config", "filter.evil.clean", &s]);
    std::fs::write(work.join(".gitattributes"), "*.txt filter=evil\n").unwrap();
}

#[test]
fn the_repositorys_config_cannot_make_the_measure_run_code() {
    let p = Project::new("dirty.sh", "[progress]\nstall_rounds = 3");
    let marker = p.dir.path().join("ran");
    plant_hostile_config(&p.work(), &marker);
    // No filter here: the clean filter runs as the round's user, which is the agent's anyway.
    std::fs::remove_file(p.work().join(".gitattributes")).unwrap();
    assert_eq!(p.round(), 0);
    assert_eq!(p.round(), 0);
    let progress = p.all("round_progress").pop().unwrap();
    assert!(progress["error"].is_null(), "{progress}");
    assert_eq!(progress["files_changed"], 2, "{progress}");
    assert!(
        !marker.exists(),
        "git ran the repository's code: {:?}",
        std::fs::read_to_string(&marker)
    );
}

#[test]
fn root_never_measures_a_repository_another_user_owns() {
    if !can_switch_user() {
        eprintln!("skipped: needs root");
        return;
    }
    let p = Project::new("ok.sh", "[progress]\nstall_rounds = 3");
    let marker = p.dir.path().join("ran");
    plant_hostile_config(&p.work(), &marker);
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(p.work())
        .status()
        .unwrap();
    assert!(chown.success());
    // Root's own git config trusts every repository; the round must not.
    let global = p.dir.path().join("gitconfig");
    std::fs::write(&global, "[safe]\n\tdirectory = *\n").unwrap();
    let out = p
        .command()
        .env("GIT_CONFIG_GLOBAL", &global)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let progress = p.all("round_progress").pop().unwrap();
    let error = progress["error"].as_str().unwrap_or_default();
    assert!(error.contains("dubious ownership"), "{progress}");
    assert!(
        !marker.exists(),
        "root ran the agent's code: {:?}",
        std::fs::read_to_string(&marker)
    );
}
