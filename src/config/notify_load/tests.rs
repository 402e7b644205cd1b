//! `[notify]`: the checks of each key, the shared file and how the two merge.

use std::path::Path;

use super::*;
use crate::config::load::load_str;
use crate::config::notify::Webhook;
use crate::paths::Scope;

const MINIMAL: &str = r#"
schema_version = 1
[agent]
command = ["/usr/bin/agent"]
[runtime]
work_dir = "/srv/demo"
[prompt]
files = ["p.md"]
"#;

/// The project of `notify` (the `[notify]` table's body), in `dir`.
fn project_in(dir: &Path, notify: &str) -> std::result::Result<Project, String> {
    let text = format!("{MINIMAL}[notify]\n{notify}\n");
    let path = dir.join("demo.toml");
    std::fs::write(&path, &text).unwrap();
    load_str(&text, &path, Scope::System).map_err(|e| e.to_string())
}

fn problem(notify: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    project_in(dir.path(), notify).unwrap_err()
}

#[test]
fn bad_values_get_a_short_positioned_error() {
    for (notify, says) in [
        ("command = []", "notify.command: must name a program"),
        (
            "webhook = \"ftp://x/\"",
            "notify.webhook: the URL must start with http:// or https://",
        ),
        (
            "webhook = \"http://u:p@x/\"",
            "must not hold a user or password",
        ),
        (
            "webhook = \"http://x/\"\nwebhook_credential = \"url\"",
            "`webhook` and `webhook_credential` both name the webhook",
        ),
        (
            "webhook_credential = \"../etc\"",
            "is not a credential name",
        ),
        (
            "format = \"xml\"",
            "notify.format: \"xml\" is not one of \"json\", \"ntfy\", \"slack\"",
        ),
        ("on = []", "notify.on: is empty"),
        (
            "on = [\"Loop Halted\"]",
            "\"Loop Halted\" is not an event kind",
        ),
        ("on = [\"notify_failed\"]", "is the notifier's own event"),
        (
            "dedup_window_s = -1",
            "notify.dedup_window_s: must be seconds from 0 (no dedup) to 604800, got -1",
        ),
        (
            "timeout_s = 0",
            "notify.timeout_s: must be seconds from 1 to 300, got 0",
        ),
        ("webhok = \"http://x/\"", "did you mean `webhook`?"),
    ] {
        let err = problem(notify);
        assert!(err.contains(says), "{notify}: {err}");
        assert!(err.contains("demo.toml:"), "positioned: {err}");
        assert!(err.lines().count() <= 2, "{notify}: {err}");
    }
}

#[test]
fn defaults_fill_what_the_file_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = project_in(dir.path(), "webhook = \"http://127.0.0.1:9/hook\"").unwrap();
    let n = settings(&p).unwrap().unwrap();
    assert_eq!(
        n.webhook,
        Some(Webhook::Url("http://127.0.0.1:9/hook".into()))
    );
    assert_eq!(n.format, Format::Json);
    assert_eq!(n.on, DEFAULT_ON);
    assert_eq!(n.dedup_window_s, DEFAULT_DEDUP_WINDOW_S);
    assert_eq!(n.timeout_s, DEFAULT_TIMEOUT_S);
}

#[test]
fn no_receiver_anywhere_is_no_notify_and_a_table_without_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = MINIMAL.to_string();
    let path = dir.path().join("demo.toml");
    let p = load_str(&text, &path, Scope::System).unwrap();
    assert_eq!(settings(&p).unwrap(), None);
    let p = project_in(dir.path(), "on = [\"loop_halted\"]").unwrap();
    let err = settings(&p).unwrap_err().to_string();
    assert!(err.contains("[notify] names no receiver"), "{err}");
}

#[test]
fn project_keys_override_the_shared_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(SHARED_FILE),
        "[notify]\nwebhook = \"http://10.0.0.1/h\"\nformat = \"ntfy\"\non = [\"loop_halted\"]\n",
    )
    .unwrap();
    let p = project_in(dir.path(), "format = \"slack\"\ndedup_window_s = 0").unwrap();
    let n = settings(&p).unwrap().unwrap();
    assert_eq!(n.webhook, Some(Webhook::Url("http://10.0.0.1/h".into())));
    assert_eq!(n.format, Format::Slack, "the project's format wins");
    assert_eq!(n.on, ["loop_halted"], "the shared kinds apply");
    assert_eq!(n.dedup_window_s, 0);
    // Without a [notify] of its own, a project gets the shared settings whole.
    let text = MINIMAL.to_string();
    let p = load_str(&text, &dir.path().join("other.toml"), Scope::System).unwrap();
    assert_eq!(settings(&p).unwrap().unwrap().format, Format::Ntfy);
}

#[test]
fn a_broken_shared_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join(SHARED_FILE);
    for (text, says) in [
        ("[notify]\nformat = \"xml\"\n", "notify.format"),
        (
            "[notify]\nwebhookk = \"http://x/\"\n",
            "did you mean `webhook`?",
        ),
        ("[alerts]\n", "unknown table `alerts`"),
        ("[notify\n", "notify.toml"),
    ] {
        std::fs::write(&shared, text).unwrap();
        let p = project_in(dir.path(), "command = [\"/bin/true\"]").unwrap();
        let err = settings(&p).unwrap_err().to_string();
        assert!(err.contains(says), "{text}: {err}");
        assert!(err.contains("notify.toml"), "{text}: {err}");
    }
}

#[test]
fn check_names_kinds_that_do_not_exist_in_the_file_that_has_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(SHARED_FILE),
        "[notify]\ncommand = [\"/bin/true\"]\non = [\"halted_loop\"]\n",
    )
    .unwrap();
    let p = project_in(dir.path(), "on = [\"loop_halted\", \"loop_haltd\"]").unwrap();
    let is_kind = |name: &str| name == "loop_halted";
    let problems: Vec<String> = check(&p, &is_kind)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("demo.toml:")
            && problems[0].contains("\"loop_haltd\" is not an event kind")
    );
    assert!(problems[1].contains("notify.toml:") && problems[1].contains("\"halted_loop\""));
    assert!(
        check(
            &project_in(dir.path(), "on = [\"loop_halted\"]").unwrap(),
            &|_| true
        )
        .is_empty()
    );
}

#[test]
fn the_shared_file_is_not_a_project() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(SHARED_FILE), "[notify]\n").unwrap();
    std::fs::write(dir.path().join("demo.toml"), MINIMAL).unwrap();
    let found = crate::config::discover_in(dir.path()).unwrap();
    assert_eq!(found, [dir.path().join("demo.toml")]);
}
