//! `agent-runner generator` as systemd runs it: output directory argument, exit status, report.

use crate::harness::Test;

const GOOD: &str = "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"{work}\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n";

fn good(test: Test, name: &str) -> Test {
    let work = test.path().join("work").display().to_string();
    test.file(&format!("etc/{name}.toml"), &GOOD.replace("{work}", &work))
}

#[test]
fn renders_every_project_with_source_path() {
    let test = good(good(Test::new(), "one"), "two")
        .env("SYSTEMD_LOG_TARGET", "console")
        .env("SYSTEMD_LOG_LEVEL", "debug")
        .args([
            "generator",
            "{dir}/out",
            "{dir}/out.early",
            "{dir}/out.late",
        ]);
    test.run()
        .status(0)
        .output_contains("rendered two")
        .no_panic();
    let drop_in = test
        .path()
        .join("out/agent-runner@one.service.d/50-agent-runner.conf");
    let rendered = std::fs::read_to_string(&drop_in).expect("drop-in in the normal directory");
    let toml = test.path().join("etc/one.toml");
    assert!(
        rendered.contains(&format!("SourcePath={}", toml.display())),
        "{rendered}"
    );
    assert!(!test.path().join("out.early").exists());
}

#[test]
fn a_broken_file_is_reported_and_the_rest_rendered() {
    let test = good(Test::new(), "fine")
        .file("etc/broken.toml", "schema_version = 1\n[agent\n")
        .env("SYSTEMD_LOG_TARGET", "console")
        .args(["generator", "{dir}/out"]);
    test.run()
        .status(1)
        .output_contains("broken.toml")
        .no_panic();
    assert!(
        test.path()
            .join("out/agent-runner@fine.timer.d/50-agent-runner.conf")
            .exists()
    );
}

#[test]
fn a_file_named_with_a_newline_is_reported_and_skipped() {
    // `name` makes the project valid; only the file name carries a second unit line.
    let evil = "evil\nExecStopPost=+touch injected\n.toml";
    let test = good(Test::new(), "fine");
    let work = test.path().join("work").display().to_string();
    let toml = format!("name = \"evil\"\n{}", GOOD.replace("{work}", &work));
    let test = test
        .file(&format!("etc/{evil}"), &toml)
        .env("SYSTEMD_LOG_TARGET", "console")
        .args(["generator", "{dir}/out"]);
    let run = test.run();
    run.status(1)
        .output_contains("evil\\nExecStopPost")
        .output_contains("control character (\\n)")
        .no_panic();
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "one report line: {}",
        run.stderr
    );
    assert!(!test.path().join("out/agent-runner@evil.service.d").exists());
    assert!(
        test.path()
            .join("out/agent-runner@fine.service.d/50-agent-runner.conf")
            .exists()
    );
}

#[test]
fn routine_lines_stay_out_of_the_log() {
    let run = good(Test::new(), "quiet")
        .env("SYSTEMD_LOG_TARGET", "console")
        .args(["generator", "{dir}/out"])
        .run();
    run.status(0);
    assert_eq!(run.stderr, "", "a clean run logs nothing");
}

#[test]
fn wrong_arguments_are_usage_errors() {
    Test::new().args(["generator"]).run().status(2).no_panic();
    Test::new()
        .args(["generator", "{dir}/a", "{dir}/b"])
        .run()
        .status(2)
        .output_contains("1 or 3 directories");
}
