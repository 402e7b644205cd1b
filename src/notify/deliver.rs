//! Handing one event to one receiver, within a time bound: a POST to a webhook (plain HTTP over a
//! socket of its own; HTTPS through curl(1), so that agent-runner links no TLS library), or a
//! command with the event on stdin. Errors are one line and never hold the URL's secret parts.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::body::Body;
use crate::error::plain_io;
use crate::url::{HttpUrl, Scheme};

/// The most of a response (or of curl's complaint) read: the status line is all that matters.
const MAX_RESPONSE_BYTES: u64 = 8 * 1024;

/// POSTs `body` to `url`, within `timeout`.
pub(crate) fn post(url: &HttpUrl, body: &Body, timeout: Duration) -> Result<(), String> {
    match url.scheme {
        Scheme::Http => post_plain(url, body, timeout),
        Scheme::Https => post_with_curl(url, body, timeout),
    }
}

fn post_plain(url: &HttpUrl, body: &Body, timeout: Duration) -> Result<(), String> {
    let addrs = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve the host: {}", plain_io(&e)))?;
    let mut last = "the host has no address".to_string();
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return exchange(stream, url, body, timeout),
            Err(e) => last = format!("cannot connect: {}", plain_io(&e)),
        }
    }
    Err(last)
}

fn exchange(
    mut stream: TcpStream,
    url: &HttpUrl,
    body: &Body,
    timeout: Duration,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("connection failed: {}", plain_io(&e));
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let host = url.authority();
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: agent-runner\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        url.target,
        body.content_type,
        body.bytes.len()
    );
    for (name, value) in &body.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(&body.bytes).map_err(io)?;
    let mut response = Vec::new();
    let mut reader = stream.take(MAX_RESPONSE_BYTES);
    // Read until the status line is complete (or the peer closes).
    let mut chunk = [0u8; 1024];
    while !response.contains(&b'\n') {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("no answer: {}", plain_io(&e))),
        }
    }
    status_ok(&response)
}

/// Whether the response's status line says 2xx; else what it says.
fn status_ok(response: &[u8]) -> Result<(), String> {
    let line = String::from_utf8_lossy(response.split(|b| *b == b'\n').next().unwrap_or(&[]))
        .trim()
        .to_string();
    let status = line.split_whitespace().nth(1).unwrap_or("");
    if line.starts_with("HTTP/") && status.starts_with('2') && status.len() == 3 {
        return Ok(());
    }
    if line.is_empty() {
        return Err("the receiver closed the connection without an answer".into());
    }
    let shown: String = line.chars().filter(|c| !c.is_control()).take(80).collect();
    Err(format!("the receiver answered {shown:?}"))
}

/// curl's configuration for one POST: the URL and headers go in a file curl reads (a memfd it
/// inherits), never on its command line, where every user of the host could read the URL.
fn curl_config(url: &HttpUrl, body: &Body, timeout: Duration) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let authority = url.authority();
    let mut config = format!(
        "url = \"https://{}{}\"\nmax-time = {}\nheader = \"Content-Type: {}\"\nuser-agent = \"agent-runner\"\n",
        quote(&authority),
        quote(&url.target),
        timeout.as_secs().max(1),
        body.content_type
    );
    for (name, value) in &body.headers {
        let _ = writeln!(config, "header = \"{name}: {}\"", quote(value));
    }
    config
}

fn post_with_curl(url: &HttpUrl, body: &Body, timeout: Duration) -> Result<(), String> {
    let config =
        nix::sys::memfd::memfd_create(c"agent-runner-curl", nix::sys::memfd::MFdFlags::empty())
            .map_err(|e| format!("cannot hand curl its configuration: {e}"))?;
    let mut file = std::fs::File::from(config);
    file.write_all(curl_config(url, body, timeout).as_bytes())
        .map_err(|e| format!("cannot hand curl its configuration: {e}"))?;
    let child = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--disable",
            "--config",
        ])
        .arg(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .args(["--data-binary", "@-", "--output", "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run curl (HTTPS needs it): {e}"))?;
    drop(file);
    finish(child, &body.bytes, timeout + Duration::from_secs(2), "curl")
        .map_err(|e| e.replace(&url.target, "/…"))
}

/// Runs `argv` with `event` on stdin, within `timeout`.
pub(crate) fn command(words: &[String], event: &[u8], timeout: Duration) -> Result<(), String> {
    let (program, rest) = words.split_first().ok_or("no program")?;
    let child = Command::new(program)
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    finish(child, event, timeout, program)
}

/// Feeds `input` to `child`, waits at most `timeout` for it (killing it then), and says how it
/// ended: its first line on stderr when it failed.
fn finish(mut child: Child, input: &[u8], timeout: Duration, what: &str) -> Result<(), String> {
    if let Some(mut stdin) = child.stdin.take() {
        // A receiver that does not read its stdin is not an error by itself; its exit says.
        let _ = stdin.write_all(input);
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{what} did not finish within {}s",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for {what}: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut said = String::new();
    if let Some(stderr) = child.stderr.take() {
        let _ = stderr.take(MAX_RESPONSE_BYTES).read_to_string(&mut said);
    }
    let first: String = said
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let how = status.code().map_or_else(
        || "was killed by a signal".to_string(),
        |c| format!("exited {c}"),
    );
    Err(if first.is_empty() {
        format!("{what} {how}")
    } else {
        format!("{what} {how}: {first}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_2xx_status_is_delivered() {
        assert!(status_ok(b"HTTP/1.1 200 OK\r\n").is_ok());
        assert!(status_ok(b"HTTP/1.0 204 No Content\r\n").is_ok());
        let err = status_ok(b"HTTP/1.1 404 Not Found\r\n").unwrap_err();
        assert!(err.contains("404 Not Found"), "{err}");
        assert!(status_ok(b"").unwrap_err().contains("without an answer"));
        assert!(status_ok(b"garbage 200\n").is_err());
    }

    #[test]
    fn curl_reads_the_url_from_its_configuration_quoted() {
        let url = HttpUrl::parse("https://ntfy.example/topic?auth=a\"b").unwrap();
        let body = super::super::body::webhook(
            crate::config::notify::Format::Ntfy,
            &serde_json::json!({"project": "p", "event": "loop_halted"}),
        );
        let config = curl_config(&url, &body, Duration::from_secs(10));
        assert!(
            config.starts_with("url = \"https://ntfy.example:443/topic?auth=a\\\"b\"\n"),
            "{config}"
        );
        assert!(config.contains("header = \"Title: agent-runner p: loop_halted\"\n"));
        assert!(config.contains("max-time = 10\n"));
    }

    #[test]
    fn a_failing_command_says_how_and_a_slow_one_is_killed() {
        let sh = |script: &str| vec!["/bin/sh".to_string(), "-c".into(), script.into()];
        assert!(command(&sh("cat >/dev/null"), b"{}", Duration::from_secs(5)).is_ok());
        let err = command(&sh("echo nope >&2; exit 3"), b"{}", Duration::from_secs(5)).unwrap_err();
        assert_eq!(err, "/bin/sh exited 3: nope");
        let started = Instant::now();
        let err = command(&sh("sleep 10"), b"{}", Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
