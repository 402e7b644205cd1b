//! `agent-runner web` without systemd: the server's limits, its routes that need no manager,
//! the bearer token beyond loopback, the socket handed over as standard input (as
//! `agent-runner-web.socket` does) and the exit when idle. The pages with live projects are
//! checked under systemd by the system scenario (in Chromium).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Test, binary};

/// The server, started in `t`'s environment with `args`; killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `agent-runner web ARGS` with `t`'s config dir, systemd's bus out of reach, and `env`.
fn command(t: &Test, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = unmanaged(t);
    cmd.arg("web").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// agent-runner with `t`'s config dir and systemd's bus out of reach.
fn unmanaged(t: &Test) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env("AGENT_RUNNER_CONFIG_DIR", t.path().join("etc"))
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("PATH", "/nonexistent")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("LISTEN_FDS");
    cmd
}

/// Starts `web --listen ADDR` and reads the address it says it serves.
fn start(t: &Test, listen: &str, env: &[(&str, &str)]) -> Server {
    let mut child = command(t, &["--listen", listen], env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn web");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("serving http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, address }
}

/// Sends `request` raw and returns the status and the whole answer.
fn raw(address: &str, request: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(address).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(request);
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn get(address: &str, path: &str, auth: Option<&str>) -> (u16, String) {
    let auth = auth.map_or_else(String::new, |a| format!("Authorization: {a}\r\n"));
    raw(
        address,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n").as_bytes(),
    )
}

fn project() -> Test {
    Test::new()
        .git_repo("work")
        .file("prompt.md", "Work on the next task.\n")
        .file(
            "etc/obs.toml",
            "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"../work\"\nlog_dir = \"../logs\"\n[prompt]\nfiles = [\"../prompt.md\"]\n",
        )
}

#[test]
fn the_server_answers_within_its_limits() {
    let t = project();
    let server = start(&t, "127.0.0.1:0", &[]);
    let a = server.address.as_str();
    let (status, js) = get(a, "/live.js", None);
    assert_eq!(status, 200, "{js}");
    assert!(
        js.contains("Content-Security-Policy: default-src 'none'"),
        "{js}"
    );
    assert!(js.contains("EventSource"), "{js}");
    assert_eq!(get(a, "/nothing/here", None).0, 404);
    assert_eq!(raw(a, b"POST / HTTP/1.1\r\n\r\n").0, 405);
    assert_eq!(raw(a, b"GET / SPDY/3\r\n\r\n").0, 400);
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(raw(a, huge.as_bytes()).0, 431);
    // An unknown or invalid project is not found, and its name is not echoed as markup.
    let (status, body) = get(a, "/p/%3Cscript%3Ealert(1)%3C%2Fscript%3E", None);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("Content-Type: text/plain"), "{body}");
    assert_eq!(get(a, "/api/v1/projects/nosuch", None).0, 404);
    // Without systemd the data routes say so, as `status` does with exit 69.
    for path in ["/", "/api/v1/projects", "/metrics", "/p/obs"] {
        let (status, body) = get(a, path, None);
        assert_eq!(status, 503, "{path}: {body}");
        assert!(
            body.contains("cannot reach the system manager"),
            "{path}: {body}"
        );
    }
}

#[test]
fn beyond_loopback_a_bearer_token_is_required() {
    let t = project();
    let mut refused = command(&t, &["--listen", "0.0.0.0:0"], &[])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&std::mem::take(&mut refused.stderr)).into_owned();
    assert!(
        stderr.contains("refusing to serve") && stderr.contains("web-token"),
        "{stderr}"
    );

    let t = t.file("creds/web-token", "s3cret-token\n");
    let creds = t.path().join("creds").display().to_string();
    let server = start(&t, "0.0.0.0:0", &[("CREDENTIALS_DIRECTORY", &creds)]);
    let port = server.address.rsplit(':').next().unwrap();
    let a = format!("127.0.0.1:{port}");
    let (status, body) = get(&a, "/live.js", None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("WWW-Authenticate: Bearer"), "{body}");
    assert_eq!(get(&a, "/live.js", Some("Bearer wrong-token!")).0, 401);
    assert_eq!(get(&a, "/live.js", Some("s3cret-token")).0, 401);
    assert_eq!(get(&a, "/live.js", Some("Bearer s3cret-token")).0, 200);
}

#[test]
fn a_socket_passed_on_stdin_is_served_until_idle() {
    let t = project();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let started = Instant::now();
    let mut child = command(&t, &["--idle-exit", "2"], &[])
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(listener)))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (status, _) = get(&address, "/live.js", None);
    assert_eq!(status, 200);
    let exited = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let status = exited.expect("the server exits when idle");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "exited before it was idle"
    );

    // Without a socket and without --listen it says what to do.
    let run = command(&t, &[], &[]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--listen"));
}

#[test]
fn a_textfile_is_left_as_it_was_when_the_metrics_cannot_be_read() {
    let t = project();
    let dir = t.path().join("node-exporter");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("agent-runner.prom");
    std::fs::write(&file, "# the last good metrics\n").unwrap();
    let out = unmanaged(&t)
        .args(["metrics", "--textfile"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(
        stderr.contains("cannot reach the system manager"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# the last good metrics\n"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["agent-runner.prom"]);
}
