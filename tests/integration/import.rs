//! `agent-runner import`: every stock preset of cli-agent-runner 0.3.14 (from the package that
//! tests/setup.sh installs; tests/run.sh names its presets directory in AGENT_RUNNER_OLD_PRESETS)
//! and the runbook's example configs become projects that `check` accepts.

use std::path::{Path, PathBuf};

use crate::harness::Test;

/// A prompt long enough for the battery.
const PROMPT: &str = "Read NOTES.md, do the next task on the list completely, run the tests, commit, and write down what comes next.\n";

/// The runbook examples, beside this test's fixtures.
fn runbook_examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/old-runner");
    [
        "runbook-research.toml",
        "runbook-bounded.toml",
        "runbook-legacy.toml",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect()
}

/// The stock presets of the installed old runner, or none (said loudly) without the variable.
fn old_presets() -> Vec<PathBuf> {
    let Some(dir) = std::env::var_os("AGENT_RUNNER_OLD_PRESETS") else {
        // Straight to stderr: the test harness captures eprintln! of a passing test.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n*** SKIPPED: the old runner's stock presets are not imported: AGENT_RUNNER_OLD_PRESETS is unset (tests/run.sh sets it from tests/old-runner/presets.sh) ***\n",
        );
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("AGENT_RUNNER_OLD_PRESETS is a directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        6,
        "cli-agent-runner 0.3.14 ships six presets: {files:?}"
    );
    files
}

/// A scratch directory with the old file as work/agent-runner.toml in a git work tree holding
/// every prompt the examples name.
fn old_project(old: &Path) -> Test {
    let text = std::fs::read_to_string(old).unwrap();
    let mut t = Test::new().git_repo("work");
    let work = t.path().join("work");
    let text = text.replace("/home/user/my-research", &work.display().to_string());
    for prompt in ["main.md", "_common.md", "diverge.md", "converge.md"] {
        t = t.file(&format!("work/prompts/{prompt}"), PROMPT);
    }
    let home = t.path().join("home").display().to_string();
    t.file("work/agent-runner.toml", &text).env("HOME", &home)
}

/// The old file of [`old_project`].
fn old_file(t: &Test) -> String {
    t.path()
        .join("work/agent-runner.toml")
        .display()
        .to_string()
}

/// `check --json`'s errors, but that the agent CLI is not installed here.
fn check_errors(t: &Test, scope: &[&str], config: &str) -> Vec<String> {
    let mut args: Vec<&str> = scope.to_vec();
    args.extend(["check", "--json", "--config", config]);
    let run = t.run_with(&args);
    let checked: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("check --json: {e}\n{}{}", run.stdout, run.stderr));
    checked["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error" && p["check"] != "agent_cli_in_path")
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_old_preset_and_runbook_example_imports_into_a_project_check_accepts() {
    let files: Vec<PathBuf> = old_presets()
        .into_iter()
        .chain(runbook_examples())
        .collect();
    for old in &files {
        for scope in [&[][..], &["--user"][..]] {
            let t = old_project(old);
            let file = old_file(&t);
            let mut args: Vec<&str> = scope.to_vec();
            args.extend(["import", &file, "--name", "imported"]);
            let run = t.run_with(&args);
            assert_eq!(
                run.status,
                0,
                "{}: {}{}",
                old.display(),
                run.stdout,
                run.stderr
            );
            assert!(run.stderr.contains("need a decision"), "{}", run.stderr);
            let config = t.path().join("etc/imported.toml").display().to_string();
            let errors = check_errors(&t, scope, &config);
            assert!(
                errors.is_empty(),
                "{} ({scope:?}): {errors:?}",
                old.display()
            );
        }
    }
}

#[test]
fn the_report_names_every_key_and_json_carries_the_dry_run_file() {
    let old = &runbook_examples()[2];
    let t = old_project(old);
    let run = t.run_with(&["import", &old_file(&t), "--dry-run", "--json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["written"], false);
    assert_eq!(report["project"], "work");
    let toml = report["toml"].as_str().unwrap();
    for converted in [
        "transient_error_action = \"ignore\"",
        "dirty_action = \"commit\"",
        "round_timeout_s = 900",
        "command = [\"aider\"]",
    ] {
        assert!(toml.contains(converted), "{converted} in\n{toml}");
    }
    let keys = report["keys"].as_array().unwrap();
    let kind = |old: &str| {
        keys.iter()
            .find(|k| k["old"] == old)
            .map(|k| k["kind"].clone())
    };
    assert_eq!(kind("runtime.rate_limit_action"), Some("mapped".into()));
    assert_eq!(
        kind("runtime.disable_pre_round_hooks"),
        Some("dropped".into())
    );
    assert_eq!(kind("plugins.sandbox"), Some("dropped".into()));
    assert!(
        !t.path().join("etc/work.toml").exists(),
        "--dry-run writes nothing"
    );
}

#[test]
fn an_invalid_name_is_a_usage_error_and_an_existing_file_is_kept() {
    let old = &runbook_examples()[1];
    let t = old_project(old);
    let run = t.run_with(&["import", &old_file(&t), "--name", "no/slash"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid project name"),
        "{}",
        run.stderr
    );
    let t = t.file("etc/work.toml", "# mine\n");
    let run = t.run_with(&["import", &old_file(&t)]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(t.path().join("etc/work.toml")).unwrap(),
        "# mine\n"
    );
    let run = t.run_with(&["import", &old_file(&t), "--force"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let written = std::fs::read_to_string(t.path().join("etc/work.toml")).unwrap();
    assert!(written.contains("max_rounds = 3"), "{written}");
}

#[test]
fn a_file_that_would_not_load_is_reported_and_not_written() {
    let t = Test::new().git_repo("work").file(
        "work/agent-runner.toml",
        "schema_version = 1\n[runtime]\nwork_dir = \".\"\nlog_dir = \"logs\"\n",
    );
    let run = t.run_with(&["import", &old_file(&t)]);
    assert_eq!(run.status, 78, "{}", run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert!(run.stderr.contains("missing `command`"), "{}", run.stderr);
    assert!(!t.path().join("etc/work.toml").exists());
}

#[test]
fn a_missing_old_file_is_named_with_the_right_hint() {
    let t = Test::new();
    t.run_with(&["import", "{dir}/nope/agent-runner.toml"])
        .status(78)
        .output_contains("nope/agent-runner.toml: no such file")
        .output_contains("old runner's project file")
        .no_panic();
}
