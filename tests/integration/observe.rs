//! The read and control commands without systemd: events and logs from the files a round leaves
//! (the JSON mirror when there is no journal to read), and the errors when systemd is unreachable.

use std::fmt::Write as _;

use crate::harness::Test;

/// A project `obs` whose log_dir is in the scratch directory, with a mirror and two round logs.
fn project() -> Test {
    let mut events = String::new();
    for round in 1..=3 {
        let _ = writeln!(
            events,
            "{{\"ts\":\"2026-11-22T10:0{round}:00.000Z\",\"event\":\"round_start\",\"project\":\"obs\",\"round\":{round}}}"
        );
        let _ = writeln!(
            events,
            "{{\"ts\":\"2026-11-22T10:0{round}:30.000Z\",\"event\":\"round_end\",\"project\":\"obs\",\"round\":{round},\"outcome\":\"ok\",\"duration_ms\":30000}}"
        );
    }
    Test::new()
        .git_repo("work")
        .file("prompt.md", "Work on the next task in the backlog, then commit it.\n")
        .file(
            "etc/obs.toml",
            "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"../work\"\nlog_dir = \"../logs\"\n[prompt]\nfiles = [\"../prompt.md\"]\n",
        )
        .file("logs/events.jsonl", &events)
        .file("logs/rounds/round-1.log", "output of round 1\n")
        .file("logs/rounds/round-2.log", "output of round 2\n")
        // No journalctl on PATH: the journal is unreadable, the mirror answers.
        .env("PATH", "/nonexistent")
}

#[test]
fn events_come_from_the_mirror_without_a_journal() {
    let t = project().args(["events", "obs", "--json", "-n", "2"]);
    let run = t.run();
    run.status(0).no_panic();
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(lines[1]["event"], "round_end");
    assert_eq!(lines[1]["round"], 3);
    assert_eq!(lines[0]["event"], "round_start");

    let run = project()
        .args([
            "events",
            "obs",
            "--kind",
            "round_end",
            "--since",
            "2026-11-22 10:02",
        ])
        .run();
    run.status(0)
        .output_contains("round 2")
        .output_contains("round_end");
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);

    project()
        .args(["events", "obs", "--since", "whenever"])
        .run()
        .status(2)
        .output_contains("--since")
        .no_panic();
}

#[test]
fn events_of_a_kind_this_version_does_not_know_are_shown_as_stored() {
    let newer = r#"{"ts":"2026-11-22T09:00:00.000Z","event":"budget_exceeded","project":"obs","spent_usd":12.5}"#;
    let t = || project().file("logs/events.jsonl.1", &format!("{newer}\n"));
    let run = t()
        .args(["events", "obs", "--kind", "budget_exceeded", "--json"])
        .run();
    run.status(0).no_panic();
    let shown: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("one object");
    assert_eq!(
        shown,
        serde_json::from_str::<serde_json::Value>(newer).unwrap()
    );
    t().args(["events", "obs"])
        .run()
        .status(0)
        .output_contains("budget_exceeded")
        .output_contains("spent_usd=12.5");
}

#[test]
fn logs_show_the_latest_or_the_named_round() {
    project()
        .args(["logs", "obs"])
        .run()
        .status(0)
        .output_contains("output of round 2");
    project()
        .args(["logs", "obs", "--round", "1"])
        .run()
        .status(0)
        .output_contains("output of round 1");
    project()
        .args(["logs", "obs", "--round", "9"])
        .run()
        .status(1)
        .output_contains("no log of round 9")
        .no_panic();
}

#[test]
fn logs_n_shows_the_last_lines() {
    let mut lines = String::new();
    for i in 1..=50 {
        let _ = writeln!(lines, "line {i}");
    }
    let t = project().file("logs/rounds/round-3.log", &lines);
    let run = t.run_with(&["logs", "obs", "-n", "3"]);
    run.status(0);
    assert_eq!(run.stdout, "line 48\nline 49\nline 50\n");
    let run = t.run_with(&["logs", "obs", "--lines", "2", "--json"]);
    run.status(0);
    assert_eq!(
        run.stdout,
        "{\"line\":\"line 49\",\"round\":3}\n{\"line\":\"line 50\",\"round\":3}\n"
    );
    let run = t.run_with(&["logs", "obs", "-n", "500", "--round", "1"]);
    run.status(0);
    assert_eq!(run.stdout, "output of round 1\n");
}

#[test]
fn logs_json_is_one_object_per_line() {
    let run = project()
        .args(["logs", "obs", "--round", "1", "--json"])
        .run();
    run.status(0);
    let objects: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert!(!objects.is_empty());
    assert!(objects.iter().all(|o| o["round"] == 1));
    assert!(
        objects
            .iter()
            .any(|o| o["line"].as_str().unwrap().contains("output of round 1"))
    );
}

#[test]
fn unreachable_systemd_is_exit_69_with_a_hint() {
    for args in [
        vec!["status"],
        vec!["status", "obs", "--json"],
        vec!["start", "obs"],
        vec!["stop", "obs"],
        vec!["peek", "obs"],
    ] {
        let run = project()
            .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .args(&args)
            .run();
        run.status(69).no_panic();
        assert!(
            run.stderr
                .starts_with("agent-runner: cannot reach the system manager")
                && run.stderr.contains("hint:"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let run = project()
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args(["diagnose", "obs", "--json"])
        .run();
    run.status(69).no_panic();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("diagnose --json");
    assert_eq!(report["failed_layer"], "systemd");
    assert_eq!(report["layers"].as_array().map(Vec::len), Some(7));
}

#[test]
fn unknown_projects_and_bad_hosts_are_clear_errors() {
    project()
        .args(["status", "nosuch"])
        .run()
        .status(78)
        .output_contains("known projects: obs");
    project()
        .env("AGENT_RUNNER_SSH", "false")
        .args(["--host", "nowhere", "start", "obs"])
        .run()
        .status(69)
        .output_contains("on nowhere")
        .no_panic();
    project()
        .args(["--host=-oProxyCommand=x", "start", "obs"])
        .run()
        .status(2)
        .output_contains("invalid --host");
}

#[test]
fn a_bad_since_gets_the_same_words_from_the_journal_as_from_the_mirror() {
    let t = project().file(
        "bin/journalctl",
        "#!/bin/sh\necho 'Failed to parse timestamp: yesterdayish' >&2\nexit 1\n",
    );
    std::fs::set_permissions(
        t.path().join("bin/journalctl"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let bin = t.path().join("bin").display().to_string();
    let with_journal = t.env("PATH", &bin);
    for t in [&project(), &with_journal] {
        t.run_with(&["events", "obs", "--since", "yesterdayish"])
            .status(2)
            .output_contains("--since \"yesterdayish\": not a time (use")
            .no_panic();
    }
}

#[test]
fn a_loop_whose_file_no_longer_loads_can_still_be_stopped() {
    // A typo in the TOML: stop, kill and disable go on by the project's name (here they then
    // find no systemd, exit 69), where they used to refuse with the config error (78).
    let t = project()
        .file(
            "etc/obs.toml",
            "schema_version = 1\n[agent]\ncomand = [\"/bin/true\"]\n",
        )
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    for args in [&["stop", "obs"][..], &["kill", "obs"], &["disable", "obs"]] {
        t.run_with(args)
            .status(69)
            .output_contains("warning:")
            .output_contains("obs is found by its name")
            .no_panic();
    }
    // start still refuses: it would run rounds of a file that does not load.
    t.run_with(&["start", "obs"]).status(78).no_panic();
}

#[test]
fn commands_that_act_on_local_files_refuse_a_host() {
    // An ssh stand-in that fails loudly: none of these may reach it, nor write anything here.
    let t = project().env("AGENT_RUNNER_SSH", "false");
    for args in [
        &["--host", "far", "generate", "obs", "--no-reload"][..],
        &["-Hfar", "init", "--preset", "shell", "other"][..],
        &["--host=far", "check", "obs"][..],
        &["--host", "far", "round", "obs"][..],
        &["--host", "far", "metrics"][..],
    ] {
        t.run_with(args)
            .status(2)
            .output_contains("--host works with status, peek")
            .output_contains("ssh far agent-runner")
            .no_panic();
    }
    assert!(!t.path().join("etc/other.toml").exists());
}

#[test]
fn read_commands_run_on_the_host_without_the_host_flag() {
    // An ssh stand-in that records its arguments and exits as a remote command would.
    let t = project().file(
        "fake-ssh",
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"${0%/*}/ssh-args\"\nexit 3\n",
    );
    let ssh = t.path().join("fake-ssh");
    std::fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let t = t.env("AGENT_RUNNER_SSH", &ssh.display().to_string());
    for (args, remote) in [
        (
            &["--host", "alice@far", "status", "obs", "--json"][..],
            "agent-runner status obs --json",
        ),
        (
            &["events", "-Hfar", "obs", "--since", "1h ago"][..],
            "agent-runner events obs --since '1h ago'",
        ),
        (
            &["--host=far", "diagnose", "obs"][..],
            "agent-runner diagnose obs",
        ),
    ] {
        t.run_with(args).status(3).no_panic();
        let recorded = std::fs::read_to_string(t.path().join("ssh-args")).unwrap();
        let host = if args.contains(&"--host") {
            "alice@far"
        } else {
            "far"
        };
        assert_eq!(recorded, format!("-xT\n--\n{host}\n{remote}\n"), "{args:?}");
    }
    project()
        .args(["--host=-oProxyCommand=x", "status"])
        .run()
        .status(2)
        .output_contains("invalid --host");
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    // Far more than a pipe holds (64 KiB): the command is still writing when the reader goes.
    let mut log = String::new();
    let mut mirror = String::new();
    for n in 0..40_000 {
        let _ = writeln!(log, "line {n} of the third round's output");
        let _ = writeln!(
            mirror,
            "{{\"ts\":\"2026-11-22T10:00:00.000Z\",\"event\":\"round_start\",\"project\":\"obs\",\"round\":{n}}}"
        );
    }
    let t = project()
        .file("logs/rounds/round-3.log", &log)
        .file("logs/events.jsonl", &mirror);
    for args in [
        &["logs", "obs", "--round", "3"][..],
        &["logs", "obs", "--round", "3", "--json"],
        &["events", "obs"],
        &["events", "obs", "--json"],
    ] {
        let run = t.run_into_closed_pipe(args, 100);
        assert_eq!(
            (run.status, run.stderr.as_str()),
            (0, ""),
            "{args:?} (`| head -c 100` should end it quietly)"
        );
    }
}

#[test]
fn what_the_agent_wrote_reaches_the_terminal_escaped() {
    // A round log and an event with terminal controls in them: a title change, a colour, a
    // carriage return that would hide what precedes it, and a C1 control sequence introducer.
    let hostile = "fine\u{1b}]0;owned\u{7}\u{1b}[31m red\rhidden\u{9b}2J\n";
    let event = format!(
        "{{\"ts\":\"2026-11-22T10:09:00.000Z\",\"event\":\"round_end\",\"project\":\"obs\",\"round\":9,\"outcome\":\"ok\",\"error\":{}}}\n",
        serde_json::Value::String(hostile.into())
    );
    let t = || {
        project()
            .file("logs/rounds/round-9.log", hostile)
            .file("logs/events.jsonl", &event)
    };
    for args in [
        vec!["logs", "obs", "--round", "9"],
        vec!["logs", "obs", "--round", "9", "--json"],
        vec!["events", "obs"],
        vec!["events", "obs", "--json"],
    ] {
        let run = t().args(&args).run();
        run.status(0).no_panic();
        assert!(
            !run.stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?} let a control through: {:?}",
            run.stdout
        );
        assert!(run.stdout.contains("\\u001b"), "{args:?}: {}", run.stdout);
        if args.contains(&"--json") {
            for line in run.stdout.lines() {
                serde_json::from_str::<serde_json::Value>(line).expect("still JSON");
            }
        }
    }
}

/// A project file with a syntax error: its events and logs are still found by its name (the
/// user scope's default log dir) and the error is said beside them.
#[test]
fn events_and_logs_of_a_project_whose_file_does_not_load() {
    let t = Test::new()
        .file("etc/obs.toml", "schema_version = 1\n[agent\n")
        .file(
            "state/agent-runner/obs/log/events.jsonl",
            "{\"ts\":\"2026-11-22T10:01:00.000Z\",\"event\":\"round_start\",\"project\":\"obs\",\"round\":1}\n",
        )
        .file(
            "state/agent-runner/obs/log/rounds/round-1.log",
            "output of round 1\n",
        )
        .env("PATH", "/nonexistent");
    let t = {
        let state = t.path().join("state").display().to_string();
        t.env("XDG_STATE_HOME", &state)
    };
    let error = format!(
        "agent-runner: warning: {}/etc/obs.toml:2:",
        t.path().display()
    );
    let run = t.run_with(&["--user", "events", "obs"]);
    run.status(0).output_contains("round_start");
    assert!(
        run.stderr.contains(&error) && run.stderr.contains("; obs is found by its name\n"),
        "{}",
        run.stderr
    );
    let run = t.run_with(&["--user", "logs", "obs"]);
    run.status(0).output_contains("output of round 1");
    assert!(run.stderr.contains(&error), "{}", run.stderr);
    // diagnose says it as its first finding and goes on (here to a manager it cannot reach).
    let run = t
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .run_with(&["--user", "diagnose", "obs", "--json"]);
    run.status(69).no_panic();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("diagnose --json");
    assert_eq!(report["failed_layer"], "config", "{report:#}");
    let config = &report["layers"][0];
    assert_eq!(config["status"], "fail");
    assert!(
        config["summary"]
            .as_str()
            .unwrap()
            .contains("/etc/obs.toml:2:"),
        "{report:#}"
    );
    assert_eq!(
        config["fix"],
        "fix the file; `agent-runner --user check obs` lists every problem"
    );
    assert_eq!(report["layers"][1]["layer"], "systemd");
    assert_eq!(report["layers"][1]["status"], "fail");
}
