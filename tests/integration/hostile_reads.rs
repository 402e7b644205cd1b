//! The read commands against what the agent can plant in its log directory (a link to a file
//! only root may read, a FIFO, a link to /dev/zero) and run by a user who cannot read the
//! project's files: nothing leaks, nothing blocks, and what could not be read is said, with a
//! non-zero exit, instead of an empty answer.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::time::Duration;

use crate::harness::{NOBODY, Run, Test, can_switch_user};

/// Longer than any of these commands takes, far shorter than a hang.
const LIMIT: Duration = Duration::from_secs(10);
/// What the file only root may read holds.
const SECRET: &str = "TOP SECRET: root's eyes only";

/// A project `obs` whose log_dir is `logs` in the scratch directory, with a mirror and the logs
/// of rounds 1 and 2, and a file only root may read next to it. No journalctl on PATH.
fn project() -> Test {
    let events = "{\"ts\":\"2026-11-22T10:00:00.000Z\",\"event\":\"round_start\",\"project\":\"obs\",\"round\":1}\n\
                  {\"ts\":\"2026-11-22T10:00:30.000Z\",\"event\":\"round_end\",\"project\":\"obs\",\"round\":1,\"outcome\":\"ok\"}\n";
    let t = Test::new()
        .git_repo("work")
        .file("prompt.md", "Work on the next task.\n")
        .file(
            "etc/obs.toml",
            "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"../work\"\nlog_dir = \"../logs\"\n[prompt]\nfiles = [\"../prompt.md\"]\n",
        )
        .file("logs/events.jsonl", events)
        .file("logs/rounds/round-1.log", "output of round 1\n")
        .file("logs/rounds/round-2.log", "output of round 2\n")
        .file("secret", SECRET)
        .env("PATH", "/nonexistent");
    chmod(&t.path().join("secret"), 0o600);
    t
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Asserts that nothing of the secret reached the output.
#[track_caller]
fn no_leak(run: &Run) {
    assert!(
        !run.stdout.contains("TOP SECRET") && !run.stderr.contains("TOP SECRET"),
        "the secret leaked:\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn logs_follow_no_link_the_agent_planted() {
    let t = project();
    symlink(
        t.path().join("secret"),
        t.path().join("logs/rounds/round-3.log"),
    )
    .unwrap();
    for args in [
        &["logs", "obs"][..],
        &["logs", "obs", "--round", "3"],
        &["logs", "obs", "--json"],
    ] {
        let run = project_run(&t, args);
        no_leak(&run);
        run.status(1)
            .output_contains("round-3.log: is a symbolic link")
            .no_panic();
    }

    // round-current.log is read as a name only: whatever it points at, a round log is shown.
    let t = project();
    symlink(
        t.path().join("secret"),
        t.path().join("logs/round-current.log"),
    )
    .unwrap();
    let run = project_run(&t, &["logs", "obs"]);
    no_leak(&run);
    run.status(0).output_contains("output of round 2");

    // rounds/ itself replaced by a link to a directory holding a "round log".
    let t = project();
    std::fs::rename(t.path().join("logs/rounds"), t.path().join("elsewhere")).unwrap();
    symlink(t.path().join("elsewhere"), t.path().join("logs/rounds")).unwrap();
    let run = project_run(&t, &["logs", "obs", "--round", "1"]);
    run.status(1)
        .output_contains("logs/rounds: is a symbolic link")
        .no_panic();
}

#[test]
fn logs_never_wait_on_a_fifo_nor_read_dev_zero() {
    let t = project();
    nix::unistd::mkfifo(
        &t.path().join("logs/rounds/round-3.log"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let run = project_run(&t, &["logs", "obs"]);
    run.status(1)
        .output_contains("round-3.log: is a FIFO, not a regular file")
        .no_panic();

    let t = project();
    symlink("/dev/zero", t.path().join("logs/rounds/round-3.log")).unwrap();
    for args in [&["logs", "obs"][..], &["logs", "obs", "--json"]] {
        let run = project_run(&t, args);
        run.status(1)
            .output_contains("round-3.log: is a symbolic link")
            .no_panic();
        assert!(
            run.stdout.is_empty(),
            "{args:?} printed {} bytes",
            run.stdout.len()
        );
    }
}

/// Runs `args` against `t`, ended if it takes longer than [`LIMIT`].
fn project_run(t: &Test, args: &[&str]) -> Run {
    t.run_within(args, LIMIT)
}

/// `t` with a journalctl that finds nothing and says, as the real one says to a user outside the
/// journal's groups, that it cannot show the messages of other users and the system.
fn partial_journal(t: Test) -> Test {
    let t = t.file(
        "bin/journalctl",
        "#!/bin/sh\necho 'Hint: You are currently not seeing messages from other users and the system.' >&2\necho \"      Users in groups 'adm', 'systemd-journal' can see all messages.\" >&2\nexit 0\n",
    );
    chmod(&t.path().join("bin/journalctl"), 0o755);
    let bin = t.path().join("bin").display().to_string();
    t.env("PATH", &bin)
}

#[test]
fn events_seen_only_in_part_come_from_the_mirror_or_say_they_cannot() {
    // The journal shows the reader only its own entries: the mirror answers.
    let t = partial_journal(project());
    project_run(&t, &["events", "obs"])
        .status(0)
        .output_contains("round_end");

    // Neither can be read: both are named, and nothing is printed as if nothing had happened.
    let t = partial_journal(project());
    let mirror = t.path().join("logs/events.jsonl");
    std::fs::remove_file(&mirror).unwrap();
    symlink(t.path().join("secret"), &mirror).unwrap();
    let run = project_run(&t, &["events", "obs", "--json"]);
    no_leak(&run);
    run.status(1)
        .output_contains(
            "cannot read /var/log/journal: only your own entries are readable — run it with sudo, or join group systemd-journal (or adm)",
        )
        .output_contains("events.jsonl: is a symbolic link")
        .no_panic();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn an_empty_journal_is_no_answer_while_the_mirror_is_hidden() {
    // A journal that can be read and holds nothing of the project, and a link in the mirror's
    // place: "no events" would be a lie, the link is named instead.
    let t = project().file(
        "bin/journalctl",
        "#!/bin/sh
exit 0
",
    );
    chmod(&t.path().join("bin/journalctl"), 0o755);
    let bin = t.path().join("bin").display().to_string();
    let t = t.env("PATH", &bin);
    let mirror = t.path().join("logs/events.jsonl");
    std::fs::remove_file(&mirror).unwrap();
    symlink(t.path().join("secret"), &mirror).unwrap();
    for args in [&["events", "obs"][..], &["events", "obs", "--json"]] {
        let run = project_run(&t, args);
        no_leak(&run);
        run.status(1)
            .output_contains("events.jsonl: is a symbolic link")
            .no_panic();
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

#[test]
fn a_config_directory_the_user_may_not_search_is_not_taken_for_no_project() {
    if !can_switch_user() {
        eprintln!("skipped: running the binary as another user needs root and setpriv");
        return;
    }
    let t = project();
    chmod(t.path(), 0o755);
    chmod(&t.path().join("etc"), 0o700);
    let run = project_run(&t.run_as(NOBODY), &["check", "obs"]);
    run.status(78)
        .output_contains("permission denied")
        .no_panic();
    assert!(!run.stdout.contains("no project named"), "{}", run.stdout);
    assert!(!run.stderr.contains("no project named"), "{}", run.stderr);
}

#[test]
fn a_user_who_cannot_read_the_logs_is_told_so() {
    if !can_switch_user() {
        eprintln!("skipped: running the binary as another user needs root and setpriv");
        return;
    }
    let t = project();
    for (rel, mode) in [
        ("", 0o755),
        ("etc", 0o755),
        ("etc/obs.toml", 0o644),
        ("logs", 0o755),
        ("logs/events.jsonl", 0o644),
        ("logs/rounds", 0o755),
        ("logs/rounds/round-1.log", 0o644),
        ("logs/rounds/round-2.log", 0o644),
    ] {
        chmod(&t.path().join(rel), mode);
    }
    let t = t.run_as(NOBODY);
    // While it may, the user sees the events and the logs...
    project_run(&t, &["events", "obs"])
        .status(0)
        .output_contains("round_end");
    project_run(&t, &["logs", "obs"])
        .status(0)
        .output_contains("output of round 2");

    // ...and once the log directory is root's alone, it is told so instead of "nothing".
    chmod(&t.path().join("logs"), 0o700);
    let logs = t.path().join("logs");
    for args in [
        &["events", "obs"][..],
        &["events", "obs", "--json"],
        &["logs", "obs"],
        &["logs", "obs", "--round", "1"],
    ] {
        let run = project_run(&t, args);
        run.status(1)
            .output_contains(&format!("cannot read {}", logs.display()))
            .output_contains(": permission denied — run it with sudo")
            .no_panic();
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}
