//! Snapshots of the rendered unit set for every preset and for a config that sets every key, in
//! system and user mode. After an intended change: `INSTA_UPDATE=always cargo test` and review the
//! diff of tests/integration/snapshots/.

use crate::harness::Test;

/// Renders with a fixed binary path and systemd version, and replaces the scratch directory.
fn render(t: &Test, user: bool, config: &str) -> String {
    let mut args = vec![];
    if user {
        args.push("--user");
    }
    let out = format!("{}/units", t.path().display());
    args.extend([
        "generate",
        "--config",
        config,
        "--output",
        &out,
        "--dry-run",
        "--systemd-version",
        "252",
        "--exec",
        "/usr/bin/agent-runner",
    ]);
    let run = t.run_with(&args);
    run.status(0);
    let home = std::env::var("HOME").unwrap_or_default();
    let mut out = run
        .stdout
        .replace(&t.path().display().to_string(), "/SCRATCH");
    if !home.is_empty() {
        out = out.replace(&home, "/HOME");
    }
    // The hash covers the TOML, which contains the scratch path.
    out.lines()
        .map(|l| {
            if l.starts_with("# agent-runner-inputs: sha256:") {
                "# agent-runner-inputs: sha256:HASH"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_preset_renders_stable_units() {
    for preset in [
        "claude", "codex", "gemini", "aider", "kimi", "pi", "qwen", "shell",
    ] {
        for user in [false, true] {
            let t = Test::new().git_repo("w");
            let mut init = vec![];
            if user {
                init.push("--user");
            }
            let dir = format!("{}/D", t.path().display());
            let work = format!("{}/w", t.path().display());
            init.extend([
                "init",
                "--preset",
                preset,
                preset,
                "--dir",
                &dir,
                "--work-dir",
                &work,
            ]);
            t.run_with(&init).status(0);
            let config = format!("{dir}/{preset}.toml");
            let name = format!("{preset}-{}", if user { "user" } else { "system" });
            insta::assert_snapshot!(name, render(&t, user, &config));
        }
    }
}

#[test]
fn a_config_using_every_key_renders_stable_units() {
    let template = include_str!("../corpus/full.toml");
    for user in [false, true] {
        let t = Test::new().git_repo("w");
        let text = template
            .replace("@WORK@", &format!("{}/w", t.path().display()))
            .replace("@CREDS@", "/etc/agent-runner/credentials");
        let t = t.file("etc/full.toml", &text);
        let config = format!("{}/etc/full.toml", t.path().display());
        let name = format!("full-{}", if user { "user" } else { "system" });
        insta::assert_snapshot!(name, render(&t, user, &config));
    }
}
