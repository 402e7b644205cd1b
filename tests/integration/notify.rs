//! `agent-runner notify NAME --test` against real receivers: a webhook on loopback (a
//! TcpListener in the test) in each body format, and a command that gets the event on stdin. The
//! journal-driven delivery runs under systemd in tests/system/scenarios/63-notify.sh.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use crate::harness::Test;

/// A webhook receiver that takes one request, answers `status` and hands the request over.
fn receiver(status: &'static str) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = n.trim().parse().unwrap();
            }
            request.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        request.push_str("\r\n");
        request.push_str(&String::from_utf8_lossy(&body));
        let mut stream = stream;
        let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        tx.send(request).unwrap();
    });
    (port, rx)
}

/// A project whose `[notify]` is `notify`.
fn project(notify: &str) -> Test {
    Test::new()
        .git_repo("work")
        .file("prompt.md", "Work.\n")
        .file(
            "etc/obs.toml",
            &format!(
                "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"../work\"\nlog_dir = \"../logs\"\n[prompt]\nfiles = [\"../prompt.md\"]\n[notify]\n{notify}\n"
            ),
        )
}

#[test]
fn a_json_webhook_and_a_command_get_the_test_event() {
    let (port, requests) = receiver("200 OK");
    let t = project(&format!(
        "webhook = \"http://127.0.0.1:{port}/hook?auth=SECRET\"\ncommand = [\"/bin/sh\", \"-c\", \"cat > got.json\"]"
    ))
    .args(["notify", "obs", "--test"]);
    let run = t.run();
    run.status(0).no_panic();
    assert!(!run.stdout.contains("SECRET"), "{}", run.stdout);
    run.output_contains(&format!("webhook http://127.0.0.1:{port}/…: delivered"))
        .output_contains("command /bin/sh: delivered");
    let request = requests.recv().unwrap();
    assert!(
        request.starts_with("POST /hook?auth=SECRET HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains("Content-Type: application/json\r\n"),
        "{request}"
    );
    let body: serde_json::Value =
        serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["event"], "notify_test");
    assert_eq!(body["project"], "obs");
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("got.json")).unwrap()).unwrap();
    assert_eq!(
        got["event"], "notify_test",
        "the command got the event on stdin"
    );
}

#[test]
fn ntfy_and_slack_bodies_reach_their_receivers() {
    let (port, requests) = receiver("200 OK");
    project(&format!(
        "webhook = \"http://127.0.0.1:{port}/topic\"\nformat = \"ntfy\""
    ))
    .args(["notify", "obs", "--test"])
    .run()
    .status(0);
    let request = requests.recv().unwrap();
    assert!(
        request.contains("Title: agent-runner obs: notify_test\r\n"),
        "{request}"
    );
    assert!(request.contains("Content-Type: text/plain"), "{request}");
    assert!(
        request.ends_with("\r\n\r\ntest notification of obs from agent-runner"),
        "{request}"
    );

    let (port, requests) = receiver("200 OK");
    project(&format!(
        "webhook = \"http://127.0.0.1:{port}/services/T/B/X\"\nformat = \"slack\""
    ))
    .args(["notify", "obs", "--test"])
    .run()
    .status(0);
    let request = requests.recv().unwrap();
    let body: serde_json::Value =
        serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("*agent-runner obs*: `notify_test`"),
        "{body}"
    );
}

#[test]
fn a_refusing_or_dead_receiver_is_a_failure_that_keeps_the_secret() {
    let (port, _requests) = receiver("500 Internal Server Error");
    let run = project(&format!(
        "webhook = \"http://127.0.0.1:{port}/h?auth=SECRET\""
    ))
    .args(["notify", "obs", "--test"])
    .run();
    assert_ne!(run.status, 0, "{run:?}");
    run.output_contains("FAILED: the receiver answered \"HTTP/1.1 500 Internal Server Error\"");
    assert!(!run.stdout.contains("SECRET") && !run.stderr.contains("SECRET"));

    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let run = project(&format!(
        "webhook = \"http://127.0.0.1:{port}/h/SECRET\"\ncommand = [\"/bin/false\"]"
    ))
    .args(["notify", "obs", "--test"])
    .run();
    assert_ne!(run.status, 0);
    run.output_contains("command /bin/false: FAILED: /bin/false exited 1")
        .output_contains(&format!(
            "webhook http://127.0.0.1:{port}/…: FAILED: cannot connect: connection refused\n"
        ))
        .no_panic();
    assert!(!run.stdout.contains("SECRET") && !run.stderr.contains("SECRET"));
}

#[test]
fn the_shared_file_supplies_what_the_project_leaves_out() {
    let (port, requests) = receiver("204 No Content");
    project("format = \"ntfy\"")
        .file(
            "etc/notify.toml",
            &format!(
                "[notify]\nwebhook = \"http://127.0.0.1:{port}/shared\"\nformat = \"slack\"\n"
            ),
        )
        .args(["notify", "obs", "--test"])
        .run()
        .status(0);
    let request = requests.recv().unwrap();
    assert!(request.starts_with("POST /shared "), "{request}");
    assert!(
        request.contains("Title: agent-runner obs"),
        "the project's format wins: {request}"
    );
}

#[test]
fn check_rejects_an_unknown_kind_and_a_project_without_notify_has_nothing_to_do() {
    let run = project("command = [\"/bin/true\"]\non = [\"loop_halted\", \"loop_haltedd\"]")
        .args(["check", "obs"])
        .run();
    assert_ne!(run.status, 0);
    run.output_contains("notify.on: \"loop_haltedd\" is not an event kind");
    let run = project("command = [\"/bin/true\"]\non = [\"loop_halted\", \"round_end\"]")
        .args(["check", "obs"])
        .run();
    assert!(!run.stdout.contains("notify.on"), "{}", run.stdout);
    // An empty [notify] names no receiver, and there is no shared file: nothing to deliver.
    project("")
        .args(["notify", "obs"])
        .run()
        .status(0)
        .output_contains("nothing to deliver");
}
