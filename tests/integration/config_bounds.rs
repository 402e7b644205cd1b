//! What a project file cannot carry into a unit (a control character, in its own path too) and
//! what checking one may cost (its size, how many problems are listed, never blocking).

use std::fmt::Write as _;
use std::process::Command;

use crate::harness::{Run, Test, binary};

const PROMPT: &str = "Work through TODO.md one item at a time; run the tests; commit each step.\n";

fn project_toml(work_dir: &str) -> String {
    format!(
        "schema_version = 1\nname = \"demo\"\n[agent]\ncommand = [\"/bin/sh\", \"-c\", \"cat >/dev/null\"]\n[runtime]\nwork_dir = \"{work_dir}\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"prompt.md\"]\n"
    )
}

/// A valid project whose file name carries a second line that would be a root command in a unit.
const INJECTED: &str = "demo\nExecStopPost=+touch injected\n.toml";

fn injected_project() -> Test {
    let t = Test::new().git_repo("w").file("w/prompt.md", PROMPT);
    let toml = project_toml(&t.path().join("w").display().to_string());
    t.file(&format!("etc/{INJECTED}"), &toml)
}

/// `generate --dry-run` of `project`, which must not have rendered `line` as a line of its own.
fn dry_run_without(t: &Test, project: &[&str], line: &str) -> Run {
    let mut args = vec!["generate", "--dry-run", "--systemd-version", "252"];
    args.extend(project);
    let run = t.run_with(&args);
    assert!(
        !run.stdout.contains(&format!("\n{line}")),
        "{line:?} reached a unit:\n{}",
        run.stdout
    );
    run
}

#[test]
fn a_newline_in_the_file_name_never_reaches_a_unit() {
    let t = injected_project();
    let file = t.path().join("etc").join(INJECTED);
    let file = file.to_str().unwrap();
    let run = dry_run_without(&t, &["--config", file], "ExecStopPost=+touch");
    run.status(78)
        .output_contains("control character (\\n)")
        .output_contains("demo\\nExecStopPost")
        .no_panic();

    let run = t.run_with(&["check", "--config", file]);
    run.status(78).output_contains("rename the file").no_panic();
    // The path is spelt with escapes: the report keeps one line per line it means.
    assert!(
        !run.stdout.lines().any(|l| l.starts_with("ExecStopPost")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_control_character_from_home_never_reaches_a_unit() {
    let t = Test::new().file("etc/demo.toml", &project_toml("~/w"));
    let home = t.path().join("h\nExecStopPost=+/bin/true");
    std::fs::create_dir_all(home.join("w")).unwrap();
    let t = t.env("HOME", home.to_str().unwrap());
    let run = dry_run_without(&t, &["demo"], "ExecStopPost=+/bin/true");
    run.status(78)
        .output_contains("runtime.work_dir: resolves to")
        .output_contains("control character (\\n)")
        .no_panic();
}

#[test]
fn fifty_thousand_unknown_tables_list_twenty_problems_and_count_the_rest() {
    let mut toml = project_toml("/nonexistent");
    for i in 0..50_000 {
        let _ = writeln!(toml, "[t{i}]");
    }
    let t = Test::new().file("big.toml", &toml);
    let run = t.run_with(&["check", "--config", "big.toml"]);
    run.status(78).no_panic();
    let unknown: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("unknown table"))
        .collect();
    assert_eq!(unknown.len(), 20, "{}", run.stdout);
    // In the order of the file, not the sorted order of the parsed tables.
    assert!(
        unknown[0].contains("t0: unknown table `t0`"),
        "{}",
        unknown[0]
    );
    assert!(
        unknown[19].contains("t19: unknown table `t19`"),
        "{}",
        unknown[19]
    );
    run.output_contains("and 49980 more problems, not listed (only the first 20 are)");
}

#[test]
fn a_file_larger_than_one_mib_is_refused() {
    let mut toml = project_toml("/nonexistent");
    toml.push_str(&"#".repeat(1024 * 1024));
    let t = Test::new().file("big.toml", &toml);
    t.run_with(&["check", "--config", "big.toml"])
        .status(78)
        .output_contains("larger than 1 MiB")
        .no_panic();
}

#[test]
fn a_fifo_as_the_project_file_is_refused_without_blocking() {
    let t = Test::new();
    let fifo = t.path().join("demo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    // Nothing ever writes the FIFO: without a bound, reading it waits forever.
    let output = Command::new("timeout")
        .arg("30")
        .arg(binary())
        .args(["check", "--config"])
        .arg(&fifo)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(78), "{stdout}");
    assert!(
        stdout.contains("the project file is a FIFO, not a regular file"),
        "{stdout}"
    );
}
