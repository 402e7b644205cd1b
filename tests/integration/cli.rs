//! The command line without systemd: help, usage errors, init → check → generate.

use std::path::Path;

use crate::harness::Test;

const PROMPT: &str = "Work through TODO.md one item at a time; run the tests; commit each step.\n";

fn project_toml(work_dir: &Path, extra_runtime: &str) -> String {
    format!(
        "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\", \"-c\", \"cat >/dev/null\"]\n[runtime]\nwork_dir = \"{}\"\nlog_dir = \"logs\"\n{extra_runtime}\n[prompt]\nfiles = [\"prompt.md\"]\n",
        work_dir.display()
    )
}

/// A scratch dir with a git work tree `w/`, a prompt, and `etc/NAME.toml`.
fn with_project(name: &str) -> Test {
    let t = Test::new().git_repo("w").file("w/prompt.md", PROMPT);
    let toml = project_toml(&t.path().join("w"), "");
    t.file(&format!("etc/{name}.toml"), &toml)
}

/// `init --preset PRESET demo` into `D/`, for a git work tree `w/`.
fn init_demo(preset: &str) -> Test {
    Test::new().git_repo("w").args([
        "init",
        "--preset",
        preset,
        "demo",
        "--dir",
        "{dir}/D",
        "--work-dir",
        "{dir}/w",
    ])
}

#[test]
fn help_teaches_the_workflow() {
    Test::new()
        .args(["--help"])
        .run()
        .status(0)
        .output_contains("Workflow:");
    Test::new()
        .args(["generate", "--help"])
        .run()
        .status(0)
        .output_contains("--dry-run");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    Test::new().args(["frobnicate"]).run().status(2).no_panic();
    Test::new()
        .args(["check", "--bogus-flag"])
        .run()
        .status(2)
        .no_panic();
}

#[test]
fn init_writes_a_project_that_check_accepts_for_the_shell_preset() {
    // No agent of the operator's yet: the example agent init writes beside the prompt runs.
    let t = init_demo("shell");
    t.run().status(0).output_contains(&format!(
        "work_dir: {}/w (--work-dir); rounds run there and it must be a git repository",
        t.path().display()
    ));
    assert!(t.path().join("D/demo.toml").is_file());
    std::fs::write(t.path().join("D/prompts/demo/main.md"), PROMPT).unwrap();
    Test::new()
        .args([
            "check",
            "--config",
            &format!("{}/D/demo.toml", t.path().display()),
        ])
        .run()
        .status(0)
        .output_contains("demo: ok");
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let t = Test::new().git_repo("w").args([
        "init",
        "--preset",
        "claude",
        "demo",
        "--dir",
        "{dir}/D",
        "--work-dir",
        "{dir}/w",
    ]);
    t.run().status(0);
    std::fs::write(t.path().join("D/demo.toml"), "# operator edit\n").unwrap();
    t.run()
        .status(1)
        .output_contains("already exists")
        .output_contains("--force");
    assert_eq!(
        std::fs::read_to_string(t.path().join("D/demo.toml")).unwrap(),
        "# operator edit\n"
    );
    t.run_with(&["--force"]).status(0);
    assert!(
        std::fs::read_to_string(t.path().join("D/demo.toml"))
            .unwrap()
            .contains("schema_version = 1")
    );
}

#[test]
fn init_force_replaces_an_edited_prompt_only_with_force_prompts() {
    let t = init_demo("shell");
    t.run().status(0);
    let prompt = t.path().join("D/prompts/demo/main.md");
    let agent = t.path().join("D/prompts/demo/agent.sh");
    let scaffold = std::fs::read_to_string(&prompt).unwrap();
    // An unedited scaffold is init's own and may be written again.
    t.run_with(&["--force"])
        .status(0)
        .output_contains(&format!("wrote {}", prompt.display()));
    std::fs::write(&prompt, PROMPT).unwrap();
    std::fs::write(&agent, "#!/bin/sh\nexec my-agent\n").unwrap();
    t.run_with(&["--force"]).status(0).output_contains(&format!(
        "kept {}: it was edited (pass --force-prompts to replace it)",
        prompt.display()
    ));
    assert_eq!(std::fs::read_to_string(&prompt).unwrap(), PROMPT);
    assert_eq!(
        std::fs::read_to_string(&agent).unwrap(),
        "#!/bin/sh\nexec my-agent\n"
    );
    t.run_with(&["--force-prompts"]).status(0);
    assert_eq!(std::fs::read_to_string(&prompt).unwrap(), scaffold);
}

#[test]
fn init_rejects_odd_names_and_unknown_presets() {
    Test::new()
        .args(["init", "--preset", "claude", "bad name", "--dir", "{dir}"])
        .run()
        .status(2)
        .output_contains("invalid project name");
    Test::new()
        .args(["init", "--preset", "copilot", "ok", "--dir", "{dir}"])
        .run()
        .status(2)
        .output_contains("claude, codex, gemini, aider, kimi, pi, qwen, shell");
}

#[test]
fn check_says_which_preset_a_command_without_one_was_recognised_as() {
    let t = Test::new()
        .git_repo("w")
        .file("w/prompt.md", PROMPT)
        .file("w/bin/claude", "#!/bin/sh\ncat >/dev/null\n");
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(t.path().join("w/bin/claude"))
        .status()
        .unwrap();
    let toml = format!(
        "schema_version = 1\n[agent]\ncommand = [\"{}/w/bin/claude\", \"--output-format\", \"stream-json\"]\n[runtime]\nwork_dir = \"{0}/w\"\nlog_dir = \"logs\"\n[prompt]\nfiles = [\"prompt.md\"]\n",
        t.path().display()
    );
    let t = t.file("etc/p.toml", &toml);
    let dir = t.path().display().to_string();
    let config = format!("{dir}/etc/p.toml");
    let run = t.run_with(&["--user", "check", "--config", &config]);
    run.status(0)
        .output_contains("p: ok")
        .output_contains(&format!(
            "note: no [agent] preset: `{dir}/w/bin/claude` runs the claude CLI, so rounds use its stop signal SIGINT, terminal marker \"type\":\"result\", the claude-stream-json output parser and its state paths [~/.claude]"
        ))
        .output_contains("to opt out, set [agent] preset = \"shell\"");
    let run = t.run_with(&["--user", "check", "--config", &config, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let notes: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "note")
        .map(|p| p["check"].as_str().unwrap())
        .collect();
    // Every valid project also notes the systemd its units are rendered for.
    assert_eq!(notes, ["preset_inferred", "systemd_version"]);
}

#[test]
fn claude_preset_check_gives_a_clear_verdict_without_claude_installed() {
    let t = Test::new().git_repo("w").args([
        "init",
        "--preset",
        "claude",
        "demo",
        "--dir",
        "{dir}/D",
        "--work-dir",
        "{dir}/w",
    ]);
    t.run().status(0);
    // The battery searches the service's PATH, where no `claude` is installed on a test machine.
    let run = Test::new()
        .args([
            "check",
            "--config",
            &format!("{}/D/demo.toml", t.path().display()),
        ])
        .run();
    run.status(78)
        .no_panic()
        .output_contains("the agent command `claude` is not an executable on the service's PATH");
}

#[test]
fn check_lists_every_battery_problem() {
    let t = Test::new().file(
        "etc/p.toml",
        &project_toml(
            Path::new("/nonexistent/work"),
            "user = \"no-such-user-xyz\"",
        ),
    );
    // Every project's check is an array, even of one; a named one is the object itself.
    let every: serde_json::Value =
        serde_json::from_str(&t.run_with(&["check", "--json"]).stdout).expect("json");
    assert_eq!(every.as_array().map(Vec::len), Some(1), "{every:#}");
    let run = t.run_with(&["check", "p", "--json"]);
    run.status(78).no_panic();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(every[0], v);
    let checks: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["check"].as_str().unwrap())
        .collect();
    for expected in ["work_dir_exists", "prompt_file_exists", "user_exists"] {
        assert!(
            checks.contains(&expected),
            "{expected} missing from {checks:?}"
        );
    }
    assert_eq!(v["ok"], false);
}

#[test]
fn check_without_name_covers_every_project() {
    let t = with_project("a");
    let toml = project_toml(&t.path().join("w"), "");
    let t = t
        .file("etc/b.toml", &toml)
        .file("etc/broken.toml", "schema_version = 1\n[bogus]\n");
    let run = t.run_with(&["check"]);
    run.status(78)
        .output_contains("a: ok")
        .output_contains("b: ok")
        .output_contains("unknown table `bogus`");
}

#[test]
fn unknown_project_lists_the_known_ones() {
    with_project("alpha")
        .args(["check", "beta"])
        .run()
        .status(78)
        .output_contains("no project named \"beta\"")
        .output_contains("known projects: alpha");
}

#[test]
fn a_misspelt_project_gets_a_suggestion() {
    with_project("research")
        .args(["status", "reserach"])
        .run()
        .status(78)
        .output_contains("did you mean \"research\"?");
    with_project("research")
        .args(["logs", "zzz"])
        .run()
        .output_contains("no project named \"zzz\"")
        .output_contains("known projects: research");
}

#[test]
fn odd_project_names_are_usage_errors() {
    for name in ["../etc/passwd", "a b", "-x", "é"] {
        Test::new()
            .args(["check", "--", name])
            .run()
            .status(2)
            .no_panic()
            .output_contains("invalid project name");
    }
}

#[test]
fn missing_config_file_is_a_config_error() {
    Test::new()
        .args(["check", "--config", "{dir}/nope.toml"])
        .run()
        .status(78)
        .output_contains("no such configuration file");
    Test::new()
        .args([
            "generate",
            "--config",
            "{dir}/nope.toml",
            "--output",
            "{dir}/out",
        ])
        .run()
        .status(78)
        .no_panic();
}

#[test]
fn invalid_utf8_config_is_a_clear_error() {
    let t = Test::new();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    std::fs::write(
        t.path().join("etc/x.toml"),
        b"schema_version = 1\n\xff\xfe\n",
    )
    .unwrap();
    t.run_with(&["check", "x"])
        .status(78)
        .no_panic()
        .output_contains("not valid UTF-8");
}

#[test]
fn generate_dry_run_prints_blocks_and_writes_nothing() {
    let t = with_project("demo").args(["generate", "--dry-run", "--systemd-version", "252"]);
    let run = t.run();
    run.status(0);
    assert!(
        run.stdout
            .contains("agent-runner@demo.service.d/50-agent-runner.conf---\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("# agent-runner-inputs: sha256:"));
    assert!(!t.path().join("units").exists(), "dry run wrote files");
}

/// `generate --output {dir}/out` for systemd 252.
fn generate_into_out(t: Test) -> Test {
    t.args([
        "generate",
        "--output",
        "{dir}/out",
        "--systemd-version",
        "252",
    ])
}

#[test]
fn generate_warns_about_what_would_stop_the_rounds_and_writes_the_units() {
    let t = generate_into_out(with_project("demo"));
    std::fs::remove_file(t.path().join("w/prompt.md")).unwrap();
    let run = t.run();
    run.status(0).output_contains("17 files written");
    assert!(
        run.stderr.contains(&format!(
            "agent-runner: warning: demo: prompt file {}/w/prompt.md cannot be read: no such file; its rounds stop on this until it is fixed\n",
            t.path().display()
        )),
        "{}",
        run.stderr
    );
    assert!(t.path().join("out/agent-runner@demo.service.d").is_dir());
    assert!(
        run.stderr
            .contains("  hint: `agent-runner check demo` says how to fix each\n"),
        "{}",
        run.stderr
    );
    // A file given with --config is checked with --config, and in the scope it was given in.
    std::fs::rename(t.path().join("etc/demo.toml"), t.path().join("demo.toml")).unwrap();
    let file = t.path().join("demo.toml").display().to_string();
    let run = t.run_with(&["--config", &file, "--user"]);
    assert!(
        run.stderr.contains(&format!(
            "  hint: `agent-runner --user check --config {file}` says how to fix each\n"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn generate_output_writes_the_complete_set_and_is_idempotent() {
    let t = generate_into_out(with_project("demo"));
    t.run().status(0).output_contains("17 files written");
    for file in [
        "agent-runner@.service",
        "agent-runner-notify@.service",
        "agent-runner-watch.service",
        "agent-runner-watch.timer",
        "agent-runner@.timer",
        "agent-runner@.path",
        "agent-runner-loop@.service",
        "agent-runner-halt@.service",
        "agent-runner-after@.service",
        "agent-runner-after-failure@.service",
        "agent-runner-after@demo.service.d/50-agent-runner.conf",
        "agent-runner-after-failure@demo.service.d/50-agent-runner.conf",
        "agent-runner-loop@demo.service.d/50-agent-runner.conf",
        "agent-runner@demo.service.d/50-agent-runner.conf",
        "agent-runner@demo.timer.d/50-agent-runner.conf",
        "agent-runner@demo.path.d/50-agent-runner.conf",
    ] {
        assert!(t.path().join("out").join(file).is_file(), "{file} missing");
    }
    t.run()
        .status(0)
        .output_contains("0 files written, 17 unchanged");
}

#[test]
fn generate_removes_only_its_own_files_for_vanished_projects() {
    let t = with_project("a");
    let toml = project_toml(&t.path().join("w"), "");
    let run_generate =
        t.file("etc/b.toml", &toml)
            .args(["generate", "--no-reload", "--systemd-version", "252"]);
    run_generate.run().status(0);
    let units = run_generate.path().join("units");
    assert!(
        units
            .join("agent-runner@b.service.d/50-agent-runner.conf")
            .is_file()
    );
    // An operator's own drop-in next to ours, and a foreign unit, must survive.
    std::fs::write(
        units.join("agent-runner@b.service.d/90-local.conf"),
        "[Service]\nNice=5\n",
    )
    .unwrap();
    std::fs::write(units.join("agent-runner@c.service.d.bak"), "x").unwrap();
    std::fs::remove_file(run_generate.path().join("etc/b.toml")).unwrap();
    run_generate
        .run()
        .status(0)
        .output_contains("stale removed");
    assert!(
        !units
            .join("agent-runner@b.service.d/50-agent-runner.conf")
            .exists()
    );
    assert!(!units.join("agent-runner@b.timer.d").exists());
    assert!(
        units
            .join("agent-runner@b.service.d/90-local.conf")
            .is_file()
    );
    assert!(units.join("agent-runner@c.service.d.bak").is_file());
    assert!(
        units
            .join("agent-runner@a.service.d/50-agent-runner.conf")
            .is_file()
    );
}

#[test]
fn generate_reloads_for_units_an_earlier_run_left_unloaded() {
    // No systemd here: every reload fails, as it would with the manager down.
    let t = with_project("demo").env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent");
    let marker = t.path().join("units/.agent-runner-reload-pending");
    t.run_with(&["generate", "--no-reload", "--systemd-version", "252"])
        .status(0);
    assert!(
        marker.is_file(),
        "units written without a reload leave the marker"
    );
    // Nothing changed on disk, yet systemd has not seen the units: the run must say so.
    t.run_with(&["generate", "--systemd-version", "252"])
        .status(69)
        .output_contains("units unchanged, but an earlier generate's are not loaded yet")
        .output_contains("daemon-reload");
    assert!(marker.is_file(), "a failed reload keeps the marker");
    // A write that fails part-way (a file where a drop-in directory goes) leaves the marker for
    // what it did write.
    let blocked = with_project("demo");
    std::fs::create_dir_all(blocked.path().join("units")).unwrap();
    std::fs::write(blocked.path().join("units/agent-runner@demo.service.d"), "").unwrap();
    blocked
        .run_with(&["generate", "--systemd-version", "252"])
        .status(1)
        .no_panic();
    assert!(
        blocked
            .path()
            .join("units/.agent-runner-reload-pending")
            .is_file(),
        "a failed write left no marker"
    );
    // A name that matches no project writes nothing at all, not even the templates.
    let fresh = with_project("demo");
    fresh
        .run_with(&[
            "generate",
            "nosuch",
            "--no-reload",
            "--systemd-version",
            "252",
        ])
        .status(78)
        .no_panic();
    assert!(!fresh.path().join("units").exists(), "a typo wrote units");
}

#[test]
fn generate_keeps_going_past_a_broken_project() {
    let t = with_project("good").file("etc/bad.toml", "schema_version = 1\nnope = 1\n");
    let run = t.run_with(&["generate", "--no-reload", "--systemd-version", "252"]);
    run.status(78).output_contains("unknown key `nope`");
    assert!(
        t.path()
            .join("units/agent-runner@good.service.d/50-agent-runner.conf")
            .is_file()
    );
}

#[test]
fn generate_json_says_per_project_what_was_written_and_what_is_wrong() {
    let t = with_project("good").file("etc/bad.toml", "schema_version = 1\nnope = 1\n");
    std::fs::remove_file(t.path().join("w/prompt.md")).unwrap();
    let args = [
        "generate",
        "--no-reload",
        "--systemd-version",
        "252",
        "--json",
    ];
    let run = t.run_with(&args);
    run.status(78).output_contains("unknown key `nope`");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let units = t.path().join("units");
    let drop_in = units.join("agent-runner@good.service.d/50-agent-runner.conf");
    assert_eq!(v["unit_dir"], units.display().to_string());
    assert_eq!(v["systemd_version"], 252);
    assert_eq!(v["reloaded"], false);
    let good = &v["projects"][0];
    assert_eq!(good["project"], "good");
    assert!(
        good["written"]
            .as_array()
            .unwrap()
            .contains(&drop_in.display().to_string().into()),
        "{v:#}"
    );
    assert_eq!(good["unchanged"], serde_json::json!([]));
    assert_eq!(good["warnings"][0]["check"], "prompt_file_exists", "{v:#}");
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown key `nope`"),
        "{v:#}"
    );
    // Nothing on stderr repeats the warnings: they are in the JSON.
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    // A second run changes nothing.
    let again: serde_json::Value = serde_json::from_str(&t.run_with(&args).stdout).unwrap();
    assert_eq!(again["projects"][0]["written"], serde_json::json!([]));
    assert_eq!(again["projects"][0]["unchanged"], good["written"]);
}

#[test]
fn generate_into_an_unwritable_directory_fails_cleanly() {
    let t = with_project("demo").file("ro", "a file, not a directory");
    let out = format!("{}/ro/out", t.path().display());
    let run = t.run_with(&["generate", "--output", &out, "--systemd-version", "252"]);
    assert_ne!(run.status, 0);
    run.no_panic().output_contains("cannot create directory");
}

#[test]
fn generate_targets_only_keys_the_systemd_version_knows() {
    // The loop needs nothing newer than 252 (crash delays and back-offs are agent-runner's own on
    // every version, see docs/architecture.md): 254 gets the same units, and no key 252 ignores.
    let t = with_project("demo");
    let render = |version: &str| {
        let run = t.run_with(&["generate", "--dry-run", "--systemd-version", version]);
        run.status(0);
        assert!(run.stdout.contains("\n[Service]\n"), "{}", run.stdout);
        run.stdout
            .replace(&format!("systemd {version}"), "systemd VERSION")
    };
    let (old, new) = (render("252"), render("254"));
    // The notifier retries a failed delivery with Restart=on-failure; the loop's units never
    // restart anything.
    let loop_units: String = old
        .split("\n---")
        .filter(|unit| !unit.contains("agent-runner-notify@.service"))
        .collect();
    assert!(
        loop_units.len() < old.len(),
        "the notifier's template is rendered"
    );
    for key in [
        "RestartSteps=",
        "RestartMaxDelaySec=",
        "ImportCredential=",
        "Restart=",
    ] {
        assert!(!loop_units.contains(key), "{key} rendered for 252");
    }
    assert_eq!(old, new);
    with_project("demo")
        .args(["generate", "--dry-run", "--systemd-version", "240"])
        .run()
        .status(2)
        .output_contains("older than 252");
}

#[test]
fn generate_uses_the_exec_override() {
    let run = with_project("demo")
        .args([
            "generate",
            "--dry-run",
            "--systemd-version",
            "252",
            "--exec",
            "/opt/agent runner/bin/ar",
        ])
        .run();
    // The round service runs the round binary found beside it.
    run.status(0)
        .output_contains("ExecStart=\"/opt/agent runner/bin/agent-runner-round\" --config ")
        .output_contains("ExecStart=\"/opt/agent runner/bin/ar\" halt --step loop-start --config ");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let run = Test::new().args(["completions", shell]).run();
        run.status(0);
        assert!(run.stdout.contains("agent-runner"), "{shell}");
    }
}

#[test]
fn stdin_is_not_needed() {
    Test::new()
        .stdin(b"ignored")
        .env("TERM", "dumb")
        .args(["--version"])
        .run()
        .status(0)
        .output_contains("agent-runner");
}

#[test]
fn check_rejects_two_files_naming_the_same_project() {
    let t = with_project("a");
    let toml = project_toml(&t.path().join("w"), "").replacen(
        "schema_version = 1\n",
        "schema_version = 1\nname = \"a\"\n",
        1,
    );
    let run = t.file("etc/b.toml", &toml).run_with(&["check"]);
    run.status(78)
        .output_contains("project name \"a\" is also used by");
}

#[test]
fn generate_rejects_a_schedule_systemd_cannot_parse() {
    let t = Test::new().git_repo("w").file("w/prompt.md", PROMPT);
    let toml = project_toml(&t.path().join("w"), "schedule = \"every tuesday\"");
    let t = t.file("etc/s.toml", &toml);
    let run = t.run_with(&["generate", "--no-reload", "--systemd-version", "252"]);
    run.status(78)
        .output_contains("runtime.schedule")
        .output_contains("not a valid calendar expression");
    assert!(!t.path().join("units/agent-runner@s.service.d").exists());
}
