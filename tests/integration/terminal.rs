//! What an operator sees at a terminal: colour (`--color`, NO_COLOR, a pipe, a pty).

use std::process::Command;

use crate::harness::{Test, binary};

const SGR_ERROR: &str = "\x1b[1;31merror\x1b[0m";

/// A project whose check fails (its work dir is missing), `etc/p.toml`.
fn failing_project() -> Test {
    Test::new().file(
        "etc/p.toml",
        "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"/nonexistent/w\"\n[prompt]\nfiles = [\"p.md\"]\n",
    )
}

#[test]
fn check_is_coloured_only_when_asked_or_on_a_terminal() {
    let t = failing_project();
    let always = t.run_with(&["--color", "always", "check", "p"]);
    always.status(78);
    assert!(always.stdout.contains(SGR_ERROR), "{:?}", always.stdout);
    assert!(
        always.stdout.contains("\x1b[1;31m2 problems\x1b[0m"),
        "{:?}",
        always.stdout
    );
    // An error on stderr has its prefix painted too.
    let missing = t.run_with(&["--color", "always", "status", "nosuch"]);
    assert!(
        missing
            .stderr
            .starts_with("\x1b[1;31magent-runner:\x1b[0m "),
        "{:?}",
        missing.stderr
    );
    // JSON stays JSON.
    let json = t.run_with(&["--color", "always", "check", "p", "--json"]);
    assert!(!json.stdout.contains('\x1b'), "{:?}", json.stdout);
    serde_json::from_str::<serde_json::Value>(&json.stdout).expect("json");
    // Never, and auto into a pipe (NO_COLOR unset), are plain.
    for args in [&["--color", "never", "check", "p"][..], &["check", "p"]] {
        let run = failing_project().env("NO_COLOR", "").run_with(args);
        assert!(!run.stdout.contains('\x1b'), "{args:?}: {:?}", run.stdout);
        assert!(!run.stderr.contains('\x1b'), "{args:?}: {:?}", run.stderr);
    }
}

/// `agent-runner check p` on a pseudo-terminal (util-linux `script`), with NO_COLOR as given;
/// `None` where `script` is missing.
fn check_on_a_terminal(t: &Test, no_color: &str) -> Option<String> {
    let command = format!("{} check p", binary().display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("AGENT_RUNNER_CONFIG_DIR", t.path().join("etc"))
        .env("NO_COLOR", no_color)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn auto_colours_a_terminal_unless_no_color_is_set() {
    let t = failing_project();
    let Some(coloured) = check_on_a_terminal(&t, "") else {
        eprintln!("skipped: no `script` to run a pseudo-terminal");
        return;
    };
    assert!(coloured.contains(SGR_ERROR), "{coloured:?}");
    let plain = check_on_a_terminal(&t, "1").unwrap();
    assert!(plain.contains("error: "), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

/// What bash's completion of `agent-runner WORDS…` offers, the last word being completed, with
/// the generated script sourced and the binary on PATH as `agent-runner`.
fn bash_completes(t: &Test, words: &[&str]) -> Vec<String> {
    let bin_dir = binary().parent().unwrap().to_path_buf();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let prev = if words.len() > 1 {
        words[words.len() - 2]
    } else {
        "agent-runner"
    };
    let script = format!(
        "source <(agent-runner completions bash) || exit 9\n\
         COMP_WORDS=(agent-runner {words})\n\
         COMP_CWORD={cword}\n\
         _agent_runner agent-runner '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len(),
        cur = words.last().unwrap(),
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("AGENT_RUNNER_CONFIG_DIR", t.path().join("etc"))
        .output()
        .expect("bash");
    assert!(out.status.success(), "{out:?}");
    let mut offered: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    offered.sort();
    offered
}

#[test]
fn bash_completes_project_names_where_a_name_goes() {
    let t = Test::new()
        .file("etc/alpha.toml", "")
        .file("etc/beta.toml", "")
        .file("etc/$(touch pwned).toml", "")
        .file("etc/notes.txt", "");
    assert_eq!(bash_completes(&t, &["status", ""]), ["alpha", "beta"]);
    assert_eq!(
        bash_completes(&t, &["logs", "--round", "3", "al"]),
        ["alpha"]
    );
    assert_eq!(
        bash_completes(&t, &["--color=never", "stop", "b"]),
        ["beta"]
    );
    assert_eq!(
        bash_completes(&t, &["generate", "alpha", ""]),
        ["alpha", "beta"]
    );
    // One name is all a status takes; an option's value is no name; nor is anything remote.
    let no_names = |words: &[&str]| {
        let offered = bash_completes(&t, words);
        assert!(
            !offered.contains(&"alpha".to_string()),
            "{words:?}: {offered:?}"
        );
    };
    no_names(&["status", "alpha", ""]);
    no_names(&["logs", "--round", ""]);
    no_names(&["-H", "far", "status", ""]);
    no_names(&["status", "--config", ""]);
    // Options still come from clap's script.
    assert!(bash_completes(&t, &["status", "--js"]).contains(&"--json".to_string()));
    assert!(!t.path().join("pwned").exists());
}

#[test]
fn fish_completes_project_names_where_a_name_goes() {
    let t = Test::new()
        .file("etc/alpha.toml", "")
        .file("etc/beta.toml", "");
    let bin_dir = binary().parent().unwrap().to_path_buf();
    let fish = |line: &str| {
        let script = format!("agent-runner completions fish | source; complete -C '{line}'");
        let out = Command::new("fish")
            .args(["--no-config", "-c", &script])
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("AGENT_RUNNER_CONFIG_DIR", t.path().join("etc"))
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let Some(offered) = fish("agent-runner status ") else {
        eprintln!("skipped: no fish");
        return;
    };
    assert_eq!(offered, "alpha\nbeta\n");
    assert_eq!(
        fish("agent-runner --user generate alpha b").unwrap(),
        "beta\n"
    );
    assert!(!fish("agent-runner -H far stop ").unwrap().contains("alpha"));
}
