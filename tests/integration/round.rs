//! `agent-runner round` with fake agents (tests/agents/*): outcomes, timeouts, grace, process-group
//! reaping, signals, stream-json classification, state, VCS, events and bad input. No systemd.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{binary, round_command, round_runner_command};

fn agents() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents")
}

/// A project in a scratch directory: a git work tree with a committed config and prompt, logs and
/// state outside it.
struct Fx {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Fx {
    /// `agent` is the [agent] table body, `runtime` extra [runtime] keys, `tail` more tables.
    fn new(agent: &str, runtime: &str, tail: &str) -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(work.join("prompts")).unwrap();
        std::fs::write(
            work.join("prompts/main.md"),
            "Improve the project step by step and commit nothing you are unsure of.\n",
        )
        .unwrap();
        std::fs::write(work.join("tracked.txt"), "tracked\n").unwrap();
        let agent = agent.replace("{agents}", &agents().display().to_string());
        let toml = format!(
            "schema_version = 1\nname = \"t\"\n[agent]\n{agent}\n[runtime]\nwork_dir = \".\"\nlog_dir = \"{}\"\n{runtime}\n[prompt]\nfiles = [\"prompts/main.md\"]\n{tail}\n",
            dir.path().join("logs").display()
        );
        std::fs::write(work.join("project.toml"), toml).unwrap();
        git(&work, &["init", "-q"]);
        git(&work, &["config", "user.email", "t@example.com"]);
        git(&work, &["config", "user.name", "t"]);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-qm", "init"]);
        let env = vec![
            (
                "AGENT_RUNNER_STATE_DIR".into(),
                dir.path().join("state").display().to_string(),
            ),
            (
                "AGENT_RUNNER_CONFIG_DIR".into(),
                dir.path().join("etc").display().to_string(),
            ),
            ("AGENT_RUNNER_NO_JOURNAL".into(), "1".into()),
            ("AGENT_RUNNER_BIN".into(), binary().display().to_string()),
        ];
        Fx { dir, env }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn command(&self) -> Command {
        self.command_of(round_command())
    }

    fn command_of(&self, mut cmd: Command) -> Command {
        cmd.arg("--config")
            .arg(self.work().join("project.toml"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self) -> Out {
        let out = self.command().output().unwrap();
        Out {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn spawn(&self) -> Child {
        self.command().spawn().unwrap()
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.logs().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every mirror line is JSON"))
            .collect()
    }

    fn kinds(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_string())
            .collect()
    }

    /// The last event of `kind`.
    fn event(&self, kind: &str) -> Value {
        self.events()
            .into_iter()
            .rev()
            .find(|e| e["event"] == kind)
            .unwrap_or_else(|| panic!("no {kind} event in {:?}", self.kinds()))
    }

    fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_dir().join("state.json")).unwrap())
            .unwrap()
    }

    fn set_state(&self, f: impl FnOnce(&mut Value)) {
        let mut s = self.state();
        f(&mut s);
        std::fs::write(self.state_dir().join("state.json"), s.to_string()).unwrap();
    }

    fn round_log(&self, n: u64) -> String {
        String::from_utf8_lossy(
            &std::fs::read(self.logs().join(format!("rounds/round-{n}.log"))).unwrap(),
        )
        .into_owned()
    }

    /// Every pid the agent recorded is gone (or a zombie of someone else).
    fn assert_no_orphans(&self) {
        let pids =
            std::fs::read_to_string(self.logs().join("pids")).expect("the agent wrote its pids");
        for pid in pids.split_whitespace() {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next();
            assert!(
                stat.is_empty() || state == Some("Z"),
                "process {pid} survived the round: {stat}"
            );
        }
    }
}

impl Out {
    #[track_caller]
    fn status(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status, expected,
            "unexpected status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }
}

fn shell(script: &str) -> String {
    format!("command = [\"{{agents}}/{script}\"]")
}

#[test]
fn ok_round_streams_log_events_state_and_summary() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    let out = fx.run();
    out.status(0);
    assert!(
        out.stdout.contains("round 1 ended: ok in"),
        "{}",
        out.stdout
    );
    let log = fx.round_log(1);
    assert!(log.contains("round=1 phase= project=t"), "{log}");
    assert!(
        log.contains("Improve the project step by step"),
        "prompt on stdin: {log}"
    );
    let link = std::fs::read_link(fx.logs().join("round-current.log")).unwrap();
    assert_eq!(link, Path::new("rounds/round-1.log"));
    let kinds = fx.kinds();
    for kind in [
        "round_start",
        "agent_spawn",
        "agent_checkin",
        "agent_exit",
        "round_end",
    ] {
        assert!(kinds.contains(&kind.to_string()), "{kinds:?}");
    }
    let end = fx.event("round_end");
    assert_eq!(end["outcome"], "ok");
    assert_eq!(end["exit_code"], 0);
    assert_eq!(end["project"], "t");
    assert_eq!(end["round"], 1);
    assert!(end["ts"].as_str().unwrap().ends_with('Z'));
    let st = fx.state();
    assert_eq!(st["round"], 1);
    assert_eq!(st["last_outcome"]["outcome"], "ok");
    assert_eq!(st["verdict"]["action"], "continue");
    // The next round counts on.
    fx.run().status(0);
    assert_eq!(fx.state()["round"], 2);
    assert!(fx.round_log(2).contains("round=2"));
}

#[test]
fn the_round_binary_runs_the_same_round_and_explains_a_wrong_command_line() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    fx.run().status(0);
    let out = fx.command_of(round_runner_command()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("round 2 ended: ok in"),
        "{out:?}"
    );
    assert_eq!(fx.state()["round"], 2);
    assert!(fx.round_log(2).contains("Improve the project step by step"));
    let end = fx
        .events()
        .into_iter()
        .rfind(|e| e["event"] == "round_end")
        .unwrap();
    assert_eq!(
        (end["round"].as_u64(), end["outcome"].as_str()),
        (Some(2), Some("ok"))
    );

    let wrong = round_runner_command().arg("--now").output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&wrong.stderr),
        "agent-runner: unknown option --now\n  try: agent-runner-round --help\n"
    );
    let help = round_runner_command().arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&help.stdout).starts_with("Usage: agent-runner-round [--user]")
    );
}

#[test]
fn crash_backs_off_then_halts_as_crash_loop_with_redacted_tail() {
    let fx = Fx::new(
        &format!(
            "{}\ncredentials = {{ API_TOKEN = \"../token\" }}",
            shell("crash.sh")
        ),
        "crash_loop_threshold = 2\nrestart_delay_s = 30",
        "",
    );
    std::fs::write(fx.dir.path().join("token"), "tok-super-secret-value-123\n").unwrap();
    let out = fx.run();
    out.status(1);
    let end = fx.event("round_end");
    assert_eq!(end["outcome"], "crash");
    assert_eq!(end["classification"], "exit_3");
    assert_eq!(end["verdict"], "back_off");
    let st = fx.state();
    assert_eq!(st["consecutive_short_crashes"], 1);
    let until = st["verdict"]["until"].as_u64().unwrap();

    // While the back-off holds, a round does not run the agent and exits 75 at once.
    let deferred = fx.run();
    deferred.status(75);
    assert!(
        deferred.stderr.contains("backing off"),
        "{}",
        deferred.stderr
    );
    assert_eq!(fx.state()["round"], 1);
    assert!(!fx.logs().join("rounds/round-2.log").exists());

    // Once it has passed, the second short crash halts the loop.
    assert!(until > 0);
    fx.set_state(|s| s["verdict"]["until"] = Value::from(0));
    fx.run().status(1);
    let cl = fx.event("crash_loop");
    assert_eq!(cl["consecutive"], 2);
    let tail = cl["reason"].as_str().unwrap();
    assert!(tail.contains("fatal: something broke"), "{tail}");
    assert!(tail.contains("[REDACTED]"), "{tail}");
    let all = std::fs::read_to_string(fx.logs().join("events.jsonl")).unwrap();
    assert!(
        !all.contains("tok-super-secret-value-123"),
        "secret leaked into events"
    );
    let req: Value = serde_json::from_str(
        &std::fs::read_to_string(fx.state_dir().join("halt-request")).unwrap(),
    )
    .unwrap();
    assert_eq!(req["reason"], "crash_loop");
    assert_eq!(fx.state()["verdict"]["action"], "halt");
    // The agent got the credential (it printed it), but the round log masks it.
    let log = fx.round_log(1);
    assert!(log.contains("starting with key [REDACTED]"), "{log}");
    assert!(!log.contains("tok-super-secret-value-123"), "{log}");
}

#[test]
fn secret_env_values_never_reach_events_nor_the_summary() {
    const ENV_SECRET: &str = "plain-env-value-7f3a9c2e1d";
    const CREDENTIAL: &str = "tok-super-secret-value-123";
    let fx = Fx::new(
        &format!(
            "{}\nenv = {{ SERVICE_TOKEN = \"{ENV_SECRET}\" }}\ncredentials = {{ API_TOKEN = \"../token\" }}",
            shell("auth-leak.sh")
        ),
        "",
        "",
    );
    std::fs::write(fx.dir.path().join("token"), format!("{CREDENTIAL}\n")).unwrap();
    let out = fx.run();
    out.status(1);
    assert_eq!(fx.event("round_end")["outcome"], "auth_fail");
    let raw = fx.event("agent_auth_error_detected")["raw"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        raw.contains("401 Unauthorized: the key [REDACTED] was refused (credential [REDACTED])"),
        "{raw}"
    );
    let mut seen = vec![
        (
            "events.jsonl",
            std::fs::read_to_string(fx.logs().join("events.jsonl")).unwrap(),
        ),
        ("the summary", out.stdout.clone()),
        ("stderr", out.stderr.clone()),
        ("state.json", fx.state().to_string()),
    ];
    if let Ok(request) = std::fs::read_to_string(fx.state_dir().join("halt-request")) {
        seen.push(("halt-request", request));
    }
    for (what, text) in seen {
        for secret in [ENV_SECRET, CREDENTIAL] {
            assert!(
                !text.contains(secret),
                "{secret} leaked into {what}: {text}"
            );
        }
    }
    assert!(
        out.stdout.contains("round 1 ended: auth_fail"),
        "{}",
        out.stdout
    );
    // The round log masks the credential, as it always has.
    let log = fx.round_log(1);
    assert!(log.contains("(credential [REDACTED])"), "{log}");
    assert!(!log.contains(CREDENTIAL), "{log}");
}

#[test]
fn a_prompt_the_agent_swapped_for_a_fifo_or_dev_zero_halts_the_round_at_once() {
    for (plant, why) in [
        ("a FIFO", "is a FIFO, not a regular file"),
        ("a link to /dev/zero", "is a symbolic link"),
    ] {
        let fx = Fx::new(&shell("ok.sh"), "", "");
        let prompt = fx.work().join("prompts/main.md");
        std::fs::remove_file(&prompt).unwrap();
        if plant == "a FIFO" {
            nix::unistd::mkfifo(&prompt, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        } else {
            std::os::unix::fs::symlink("/dev/zero", &prompt).unwrap();
        }
        let mut child = fx.spawn();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the round blocked on {plant} as its prompt");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(78), "{plant}");
        let reason = fx.event("config_broken")["reason"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            reason.contains(&format!(
                "prompt file {} cannot be read: {why}",
                prompt.display()
            )),
            "{plant}: {reason}"
        );
    }
}

#[test]
fn hang_hits_the_hard_timeout_and_leaves_no_process() {
    let fx = Fx::new(
        &shell("hang.sh"),
        "round_timeout_s = 2\ncheckin_timeout_s = 1",
        "",
    );
    let out = fx.run();
    out.status(124);
    assert_eq!(fx.event("round_end")["outcome"], "timeout");
    assert_eq!(fx.event("round_timeout_kill")["reason"], "round_timeout_s");
    fx.assert_no_orphans();
}

#[test]
fn result_then_hang_is_grace_killed() {
    let fx = Fx::new(
        &format!(
            "{}\nterminal_marker = '\"type\":\"result\"'",
            shell("result-hang.sh")
        ),
        "round_timeout_s = 30\nmax_grace_after_result_s = 1",
        "",
    );
    let out = fx.run();
    out.status(0);
    assert_eq!(fx.event("round_end")["outcome"], "grace_kill");
    assert_eq!(fx.event("round_grace_kill")["grace_s"], 1);
    fx.assert_no_orphans();
}

#[test]
fn result_with_live_child_extends_grace_until_the_timeout() {
    let fx = Fx::new(
        &format!(
            "{}\nterminal_marker = '\"type\":\"result\"'",
            shell("result-child.sh")
        ),
        "round_timeout_s = 4\nmax_grace_after_result_s = 1",
        "",
    );
    fx.run().status(124);
    let ext = fx.event("round_grace_extended");
    let live = ext["live_children"].as_array().unwrap();
    assert!(live.iter().any(|c| c["name"] == "sleep"), "{ext}");
    // The grace was extended, then the hard timeout (not the grace) ended the round.
    let kinds = fx.kinds();
    let position = |kind: &str| kinds.iter().position(|k| k == kind);
    assert!(
        position("round_grace_extended") < position("round_timeout_kill"),
        "{kinds:?}"
    );
    assert!(
        !kinds.contains(&"round_grace_kill".to_string()),
        "{kinds:?}"
    );
    assert_eq!(fx.event("round_timeout_kill")["reason"], "round_timeout_s");
    assert_eq!(fx.event("round_end")["outcome"], "timeout");
    fx.assert_no_orphans();
}

#[test]
fn ignore_pattern_lets_grace_kill_proceed() {
    let fx = Fx::new(
        &format!(
            "{}\nterminal_marker = '\"type\":\"result\"'",
            shell("result-child.sh")
        ),
        "round_timeout_s = 30\nmax_grace_after_result_s = 1\ngrace_kill_ignore_patterns = ['^sleep 300$']",
        "",
    );
    let out = fx.run();
    out.status(0);
    assert_eq!(fx.event("round_end")["outcome"], "grace_kill");
    assert!(!fx.kinds().contains(&"round_grace_extended".to_string()));
    fx.assert_no_orphans();
}

#[test]
fn hundred_megabytes_of_output_with_bounded_memory() {
    let fx = Fx::new(&shell("flood.sh"), "", "");
    fx.run().status(0);
    let len = std::fs::metadata(fx.logs().join("rounds/round-1.log"))
        .unwrap()
        .len();
    assert_eq!(len, 104_857_600);
    let end = fx.event("round_end");
    assert_eq!(end["output_bytes"], 104_857_600);
    let flood_peak = end["runner_peak_rss_kb"]
        .as_u64()
        .expect("VmHWM is reported");

    // The same binary running a round with almost no output: the difference is what 100 MB of
    // output cost, in whatever build runs the test. (The absolute peak is mostly the binary's own
    // code pages, several MB larger in a debug build; bench/flood.sh measures the release build.)
    let quiet = Fx::new(&shell("ok.sh"), "", "");
    quiet.run().status(0);
    let quiet_peak = quiet.event("round_end")["runner_peak_rss_kb"]
        .as_u64()
        .unwrap();
    assert!(
        flood_peak < quiet_peak + 2048,
        "100 MB of output grew the runner from {quiet_peak} KiB to {flood_peak} KiB"
    );
}

fn claude(mode: &str, runtime: &str) -> Fx {
    Fx::new(
        &format!(
            "preset = \"claude\"\ncommand = [\"{{agents}}/fake-claude.py\"]\nenv = {{ MODE = \"{mode}\" }}"
        ),
        runtime,
        "",
    )
}

#[test]
fn stream_json_429_backs_off_and_recovers() {
    let fx = claude("429", "");
    fx.run().status(75);
    let t = fx.event("transient_error_detected");
    assert_eq!(t["classification"], "rate_limit_model");
    assert_eq!(t["reset_at"], Value::Null);
    let st = fx.state();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let until = st["throttle_until"].as_u64().unwrap();
    assert!((now + 50..=now + 70).contains(&until), "{until} vs {now}");
    assert_eq!(
        st["consecutive_short_crashes"], 0,
        "transients are not crashes"
    );
    fx.run().status(75);
    assert_eq!(fx.state()["round"], 1, "no agent runs during the back-off");
    fx.set_state(|s| {
        s["throttle_until"] = Value::from(now - 1);
        s["verdict"]["until"] = Value::from(now - 1);
    });
    std::fs::write(
        fx.work().join("project.toml"),
        std::fs::read_to_string(fx.work().join("project.toml"))
            .unwrap()
            .replace("MODE = \"429\"", "MODE = \"ok\""),
    )
    .unwrap();
    fx.run().status(0);
    assert_eq!(
        fx.event("transient_error_recovered")["classification"],
        "rate_limit_model"
    );
}

#[test]
fn stream_json_5xx() {
    let fx = claude("529", "");
    fx.run().status(75);
    assert_eq!(
        fx.event("transient_error_detected")["classification"],
        "api_transient_5xx"
    );
}

#[test]
fn stream_json_five_hour_keeps_reset_time() {
    let fx = claude("five_hour", "");
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 7200;
    let mut fx = fx;
    fx.env.push(("RESET_AT".into(), reset.to_string()));
    fx.run().status(75);
    let t = fx.event("transient_error_detected");
    assert_eq!(t["classification"], "rate_limit_account");
    assert_eq!(t["reset_at"], reset);
    assert_eq!(fx.state()["throttle_until"], reset);
}

#[test]
fn stream_json_usage_is_recorded() {
    let fx = claude("ok", "");
    fx.run().status(0);
    let u = fx.event("agent_usage_recorded");
    assert_eq!(u["input_tokens"], 1200);
    assert_eq!(u["output_tokens"], 345);
    assert_eq!(u["cache_read_tokens"], 50);
    assert_eq!(u["cost_usd"], 0.0123);
    assert_eq!(u["model"], "claude-test");
}

#[test]
fn stream_json_401_is_auth_fail() {
    let fx = claude("401", "");
    fx.run().status(1);
    assert_eq!(fx.event("round_end")["outcome"], "auth_fail");
    let a = fx.event("agent_auth_error_detected");
    let raw = a["raw"].as_str().unwrap();
    assert!(
        raw.contains("Invalid API key") && !raw.contains("secretsecret"),
        "{raw}"
    );
    let fx = claude("oauth_stderr", "");
    fx.run().status(1);
    assert_eq!(fx.event("round_end")["outcome"], "auth_fail");
}

#[test]
fn auth_failures_in_a_row_halt_with_the_presets_hint() {
    let fx = claude("401", "");
    fx.run().status(1);
    assert_eq!(fx.state()["consecutive_auth_failures"], 1);
    assert_eq!(fx.state()["verdict"]["action"], "back_off");
    fx.set_state(|s| s["verdict"]["until"] = Value::from(0));
    fx.run().status(1);
    let halt = fx.event("auth_failed");
    assert_eq!(halt["consecutive"], 2);
    let hint = halt["hint"].as_str().unwrap();
    assert!(
        hint.contains("ANTHROPIC_API_KEY") && hint.contains("/login"),
        "{hint}"
    );
    let req: Value = serde_json::from_str(
        &std::fs::read_to_string(fx.state_dir().join("halt-request")).unwrap(),
    )
    .unwrap();
    assert_eq!(req["reason"], "auth_failed");
    assert!(
        req["message"]
            .as_str()
            .unwrap()
            .contains("claude setup-token")
    );
    assert_eq!(fx.state()["verdict"]["reason"], "auth_failed");
    // auth_fail_halt_after = 1 halts at the first.
    let fx = claude("401", "auth_fail_halt_after = 1");
    fx.run().status(1);
    assert_eq!(fx.event("auth_failed")["consecutive"], 1);
}

/// A CLI that retries by itself is seen doing it: one agent_retrying event per burst (at most 20
/// a round, however many retry lines), the STATUS line at most once a second, the count in
/// round_end; and a round whose retries ended in success is ok.
#[test]
fn retries_are_visible_and_bounded() {
    let mut fx = claude("retry_flood", "");
    let sock_path = fx.dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_nonblocking(true).unwrap();
    fx.env
        .push(("NOTIFY_SOCKET".into(), sock_path.display().to_string()));
    fx.run().status(0);
    let end = fx.event("round_end");
    assert_eq!(end["outcome"], "ok");
    assert_eq!(end["agent_retries"], 1500);
    let retrying: Vec<Value> = fx
        .events()
        .into_iter()
        .filter(|e| e["event"] == "agent_retrying")
        .collect();
    assert_eq!(retrying.len(), 20);
    assert_eq!(retrying[0]["burst"], 1);
    assert_eq!(retrying[0]["status"], 429);
    assert_eq!(retrying[0]["classification"], "rate_limit_model");
    assert_eq!(retrying[0]["attempt"], 1);
    assert_eq!(retrying[19]["burst"], 20);
    let mut statuses = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = sock.recv(&mut buf) {
        let m = String::from_utf8_lossy(&buf[..n]).into_owned();
        if m.contains("retrying a failed request") {
            statuses.push(m);
        }
    }
    assert!(!statuses.is_empty());
    assert!(statuses.len() <= 5, "{statuses:?}");
    assert!(
        fx.event("round_end")["message"]
            .as_str()
            .unwrap()
            .contains("retried 1500 failed request(s)")
    );
}

#[test]
fn garbage_and_truncated_json_never_crash_nor_invent_numbers() {
    let fx = claude("garbage", "");
    fx.run().status(0);
    assert_eq!(fx.event("round_end")["outcome"], "ok");
    if let Some(u) = fx
        .events()
        .into_iter()
        .find(|e| e["event"] == "agent_usage_recorded")
    {
        for key in ["input_tokens", "output_tokens", "cost_usd"] {
            assert!(u.get(key).is_none(), "fabricated {key}: {u}");
        }
    }
    assert!(
        fx.round_log(1)
            .ends_with("{\"type\":\"result\",\"is_error\":false,\"usage\":{\"input_tok")
    );
}

#[test]
fn sigterm_sends_the_cooperative_signal_first_then_kills_everything() {
    let fx = Fx::new(
        &format!("{}\nstop_signal = \"SIGINT\"", shell("trap.sh")),
        "",
        "",
    );
    let mut child = fx.spawn();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fx.logs().join("pids").exists() {
        assert!(Instant::now() < deadline, "agent never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let signals = std::fs::read_to_string(fx.logs().join("signals")).unwrap();
    let order: Vec<&str> = signals.lines().collect();
    assert_eq!(order.first(), Some(&"INT"), "{signals}");
    assert!(order.contains(&"TERM"), "{signals}");
    let end = fx.event("round_end");
    assert_eq!(end["outcome"], "stopped");
    assert_eq!(fx.event("round_interrupted")["stop_signal"], "SIGINT");
    fx.assert_no_orphans();
}

#[test]
fn phases_rotate_with_their_prompts() {
    let fx = Fx::new(
        &shell("ok.sh"),
        "",
        "[phases]\nlist = [\"build\", \"review\"]\n[phases.review.prompt]\nfiles = [\"prompts/review.md\"]\n",
    );
    std::fs::write(
        fx.work().join("prompts/review.md"),
        "Review what the previous round did, carefully and critically.\n",
    )
    .unwrap();
    for _ in 0..3 {
        fx.run().status(0);
    }
    assert!(fx.round_log(1).contains("phase=build"));
    assert!(fx.round_log(1).contains("Improve the project"));
    assert!(fx.round_log(2).contains("phase=review"));
    assert!(
        fx.round_log(2)
            .contains("Review what the previous round did")
    );
    assert!(fx.round_log(3).contains("phase=build"));
    assert_eq!(fx.event("round_start")["phase"], "build");
}

fn dirty(action: &str) -> Fx {
    let fx = Fx::new(
        &shell("dirty.sh"),
        "",
        &format!("[vcs]\ndirty_action = \"{action}\""),
    );
    // The operator has an uncommitted edit of the config: it must survive every action.
    let toml = fx.work().join("project.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("# operator's uncommitted note\n");
    std::fs::write(&toml, text).unwrap();
    // …and of the prompt, which is the operator's too.
    let prompt = fx.work().join("prompts/main.md");
    let mut text = std::fs::read_to_string(&prompt).unwrap();
    text.push_str("\nOperator's new instruction, not committed yet.\n");
    std::fs::write(&prompt, text).unwrap();
    fx
}

fn prompt_edit_survives(fx: &Fx) {
    let prompt = std::fs::read_to_string(fx.work().join("prompts/main.md")).unwrap();
    assert!(prompt.contains("Operator's new instruction"), "{prompt}");
}

#[test]
fn dirty_action_ignore_leaves_the_tree() {
    let fx = dirty("ignore");
    fx.run().status(0);
    assert!(fx.work().join("new-1.txt").exists());
    let status = git(&fx.work(), &["status", "--porcelain"]);
    assert!(
        status.contains("tracked.txt") && status.contains("project.toml"),
        "{status}"
    );
    assert!(git(&fx.work(), &["stash", "list"]).is_empty());
    assert_eq!(
        git(&fx.work(), &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
}

#[test]
fn dirty_action_stash_records_the_sha_and_never_stashes_the_config() {
    let fx = dirty("stash");
    fx.run().status(0);
    assert!(!fx.work().join("new-1.txt").exists());
    let d = fx.event("dirty_detected");
    let files: Vec<&str> = d["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"new-1.txt") && files.contains(&"tracked.txt"),
        "{files:?}"
    );
    assert!(!files.contains(&"project.toml"), "{files:?}");
    let sha = fx.event("dirty_stashed")["sha"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sha.len(), 40);
    assert_eq!(fx.state()["last_stash"], sha.as_str());
    let stashed = git(
        &fx.work(),
        &["stash", "show", "--include-untracked", "--name-only", &sha],
    );
    assert!(
        stashed.contains("new-1.txt") && stashed.contains("tracked.txt"),
        "{stashed}"
    );
    assert!(!stashed.contains("project.toml"), "{stashed}");
    let toml = std::fs::read_to_string(fx.work().join("project.toml")).unwrap();
    assert!(toml.contains("operator's uncommitted note"));
    assert!(!stashed.contains("prompts/main.md"), "{stashed}");
    prompt_edit_survives(&fx);
}

#[test]
fn dirty_action_commit_commits_only_the_agents_work() {
    let fx = dirty("commit");
    fx.run().status(0);
    let sha = fx.event("dirty_committed")["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let files = git(&fx.work(), &["show", "--name-only", "--format=", &sha]);
    assert!(
        files.contains("new-1.txt") && files.contains("tracked.txt"),
        "{files}"
    );
    assert!(!files.contains("project.toml"), "{files}");
    assert!(!files.contains("prompts/main.md"), "{files}");
    prompt_edit_survives(&fx);
    let status = git(&fx.work(), &["status", "--porcelain"]);
    assert!(
        status.contains("project.toml"),
        "the config edit stays uncommitted: {status}"
    );
}

#[test]
fn unwritable_log_dir_is_a_config_error() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    std::fs::write(fx.dir.path().join("logs"), "a file, not a directory").unwrap();
    let out = fx.run();
    out.status(78);
    assert!(out.stderr.contains("log_dir"), "{}", out.stderr);
    assert!(out.stderr.lines().count() <= 4, "{}", out.stderr);
    let req = std::fs::read_to_string(fx.state_dir().join("halt-request")).unwrap();
    assert!(req.contains("config_broken"), "{req}");
}

#[test]
fn broken_battery_is_config_broken() {
    let fx = Fx::new("command = [\"no-such-agent-binary\"]", "", "");
    let out = fx.run();
    out.status(78);
    assert!(out.stderr.contains("agent_cli_in_path"), "{}", out.stderr);
    assert!(fx.kinds().contains(&"config_broken".to_string()));
}

#[test]
fn explicit_checkin_counts_and_silence_fails_then_goes_offline() {
    let fx = Fx::new(
        &shell("silent.sh"),
        "checkin_timeout_s = 2\ncheckin_attempts = 2",
        "",
    );
    let mut fx = fx;
    fx.env.push(("CHECKIN".into(), "1".into()));
    fx.run().status(0);
    assert_eq!(fx.event("agent_checkin")["via"], "checkin");
    fx.env.pop();
    fx.run().status(1);
    assert_eq!(fx.event("round_end")["outcome"], "no_checkin");
    assert!(fx.kinds().contains(&"checkin_failed".to_string()));
    fx.run().status(1);
    assert!(fx.kinds().contains(&"project_offline".to_string()));
    let st = fx.state();
    assert_eq!(st["consecutive_checkin_failures"], 2);
    assert!(
        st["last_error"]
            .as_str()
            .unwrap()
            .contains("did not check in")
    );
    let req = std::fs::read_to_string(fx.state_dir().join("halt-request")).unwrap();
    assert!(req.contains("offline"), "{req}");
}

#[test]
fn checkin_outside_a_round_is_a_usage_error() {
    let out = Command::new(binary())
        .arg("checkin")
        .env_remove("AGENT_RUNNER_CHECKIN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only works inside a round"));
}

#[test]
fn stop_file_present_skips_the_round() {
    let fx = Fx::new(&shell("ok.sh"), "stop_file = \"../STOP\"", "");
    std::fs::write(fx.dir.path().join("STOP"), "").unwrap();
    fx.run().status(0);
    assert!(fx.kinds().contains(&"round_skipped".to_string()));
    assert!(!fx.logs().join("rounds/round-1.log").exists());
}

#[test]
fn max_rounds_halts_the_loop() {
    let fx = Fx::new(&shell("ok.sh"), "max_rounds = 2", "");
    fx.run().status(0);
    assert!(!fx.state_dir().join("halt-request").exists());
    fx.run().status(0);
    assert_eq!(fx.event("max_rounds_reached")["max_rounds"], 2);
    assert!(
        std::fs::read_to_string(fx.state_dir().join("halt-request"))
            .unwrap()
            .contains("max_rounds")
    );
}

#[test]
fn prompt_delivery_argv_and_file() {
    let fx = Fx::new(
        &format!(
            "{}\nprompt_delivery = \"argv\"\nprompt_arg_template = [\"-p\", \"{{prompt}}\"]",
            shell("args.sh")
        ),
        "",
        "",
    );
    fx.run().status(0);
    let log = fx.round_log(1);
    assert!(log.contains("argc=2"), "{log}");
    assert!(
        log.contains("arg: Improve the project step by step"),
        "{log}"
    );

    let fx = Fx::new(
        &format!(
            "{}\nprompt_delivery = \"file\"\nprompt_arg_template = [\"--file\", \"{{prompt_file}}\"]",
            shell("args.sh")
        ),
        "",
        "",
    );
    fx.run().status(0);
    let log = fx.round_log(1);
    assert!(log.contains("file mode 600"), "{log}");
    assert!(log.contains("Improve the project step by step"), "{log}");
    let left: Vec<_> = std::fs::read_dir(fx.state_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("prompt"))
        .collect();
    assert!(left.is_empty(), "prompt file left behind: {left:?}");
}

/// The sd_notify protocol as a service manager sees it: READY=1 at check-in, STATUS= lines,
/// WATCHDOG=1 pings, EXTEND_TIMEOUT_USEC= before a kill — and a silent agent is ended by the
/// runner before the manager's watchdog would fire. tests/system/scenarios/48-watchdog.sh runs the
/// same against systemd's own watchdog.
#[test]
fn notify_protocol_and_watchdog() {
    let mut fx = Fx::new(&shell("quiet-after-hello.sh"), "watchdog_s = 20", "");
    let sock_path = fx.dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_nonblocking(true).unwrap();
    fx.env
        .push(("NOTIFY_SOCKET".into(), sock_path.display().to_string()));
    fx.env.push(("WATCHDOG_USEC".into(), "2000000".into()));
    let out = fx.run();
    out.status(124);
    let mut messages = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = sock.recv(&mut buf) {
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let all = messages.join("|");
    assert!(all.contains("READY=1"), "{all}");
    assert!(all.contains("WATCHDOG=1"), "{all}");
    assert!(
        all.contains("STATUS=round 1: agent checked in (output)"),
        "{all}"
    );
    assert!(all.contains("EXTEND_TIMEOUT_USEC="), "{all}");
    assert!(all.contains("STATUS=round 1 ended: timeout"), "{all}");
    // systemd's 2 s watchdog, not watchdog_s = 20, bounded the silence: the runner says so, and
    // the agent was stopped before its second line, 10 s after its first.
    let kill = fx.event("round_timeout_kill");
    assert_eq!(kill["reason"], "watchdog_s");
    assert_eq!(kill["service_watchdog_ms"], 2000);
    let log = fx.round_log(1);
    assert!(
        log.contains("hello") && !log.contains("still here"),
        "{log}"
    );
    fx.assert_no_orphans();
}

/// What systemd hands the round runner is not the agent's: the notify socket, the watchdog, socket
/// activation, the journal stream and the credentials directory are taken out of the agent's
/// environment; everything else is inherited.
#[test]
fn systemd_variables_never_reach_the_agent() {
    let mut fx = Fx::new(&shell("env.sh"), "", "");
    let sock_path = fx.dir.path().join("notify.sock");
    let _sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    let creds = fx.dir.path().join("creds");
    std::fs::create_dir_all(&creds).unwrap();
    let systemds = [
        ("NOTIFY_SOCKET", sock_path.display().to_string()),
        ("WATCHDOG_USEC", "600000000".into()),
        // Another process's watchdog, so that the runner itself does not act on it here.
        ("WATCHDOG_PID", "1".into()),
        ("JOURNAL_STREAM", "8:12345".into()),
        ("LISTEN_FDS", "1".into()),
        ("LISTEN_PID", "1".into()),
        ("LISTEN_FDNAMES", "activation".into()),
        ("CREDENTIALS_DIRECTORY", creds.display().to_string()),
    ];
    for (k, v) in &systemds {
        fx.env.push(((*k).into(), v.clone()));
    }
    fx.env
        .push(("AGENT_RUNNER_TEST_INHERITED".into(), "kept".into()));
    fx.run().status(0);
    let log = fx.round_log(1);
    let env: Vec<&str> = log
        .lines()
        .skip_while(|l| *l != "--- env")
        .take_while(|l| *l != "--- end")
        .collect();
    assert!(
        env.contains(&"AGENT_RUNNER_TEST_INHERITED=kept"),
        "the agent inherits the runner's environment: {log}"
    );
    assert!(env.contains(&"AGENT_RUNNER_ROUND=1"), "{log}");
    // The runner's own state directory is not the agent's business either (Fx sets it).
    for name in systemds
        .iter()
        .map(|(k, _)| *k)
        .chain(["AGENT_RUNNER_STATE_DIR"])
    {
        let prefix = format!("{name}=");
        assert!(
            !env.iter().any(|l| l.starts_with(&prefix)),
            "{name} reached the agent: {log}"
        );
    }
}

/// Under systemd a credential comes from `$CREDENTIALS_DIRECTORY`, where LoadCredential= put it:
/// the configured file may sit where the round's user cannot even look, and the round runs.
#[test]
fn a_credential_is_looked_for_where_systemd_loaded_it() {
    let agent = format!(
        "{}\n[agent.credentials]\nAPI_TOKEN = \"/nonexistent/root-only/token\"",
        shell("env.sh")
    );
    let mut fx = Fx::new(&agent, "", "");
    let creds = fx.dir.path().join("creds");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("API_TOKEN"), "tok-loaded-by-systemd\n").unwrap();
    fx.env
        .push(("CREDENTIALS_DIRECTORY".into(), creds.display().to_string()));
    fx.run().status(0);
    let log = fx.round_log(1);
    assert!(
        log.lines().any(|l| l.starts_with("API_TOKEN=")),
        "the agent got no API_TOKEN: {log}"
    );
    assert!(!log.contains("tok-loaded-by-systemd"), "{log}");
}

#[test]
fn a_round_log_the_agent_planted_as_a_link_never_truncates_its_target() {
    let fx = Fx::new(&shell("plant-log-link.sh"), "", "");
    let secret = fx.dir.path().join("secret");
    std::fs::write(&secret, "not the runner's to truncate\n").unwrap();
    fx.run().status(0);
    let planted = fx.logs().join("rounds/round-2.log");
    assert!(planted.is_symlink(), "the agent planted its link");
    let out = fx.run();
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "not the runner's to truncate\n",
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(planted.is_symlink(), "the link is left as it was");
    assert!(
        out.stderr.contains("round-2.log") && out.stderr.contains("is a symbolic link"),
        "{}",
        out.stderr
    );
}

/// Runs a round that must end within 20 s (it would block forever on a FIFO, say).
fn run_within_20s(fx: &Fx, what: &str) -> Out {
    let mut child = fx.spawn();
    wait_within_20s(&mut child, &format!("the round blocked on {what}"));
    let out = child.wait_with_output().unwrap();
    Out {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One round ran; then `plant` (what the agent's user can do between rounds) puts something in
/// place of state.json, and the next round runs.
fn state_planted(plant: impl FnOnce(&Path)) -> (Fx, Out) {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    fx.run().status(0);
    let state = fx.state_dir().join("state.json");
    std::fs::remove_file(&state).unwrap();
    plant(&state);
    let out = run_within_20s(&fx, "the planted state.json");
    (fx, out)
}

#[test]
fn a_state_file_the_agent_linked_elsewhere_is_not_believed() {
    let (fx, out) = state_planted(|state| {
        let elsewhere = state.parent().unwrap().parent().unwrap().join("other.json");
        std::fs::write(&elsewhere, r#"{"round": 41}"#).unwrap();
        std::os::unix::fs::symlink(&elsewhere, state).unwrap();
    });
    out.status(0);
    assert_ne!(fx.state()["round"], 42, "the linked file was believed");
    assert!(out.stderr.contains("is a symbolic link"), "{}", out.stderr);
}

#[test]
fn a_state_file_the_agent_made_a_fifo_never_blocks_the_round() {
    let (_, out) = state_planted(|state| {
        nix::unistd::mkfifo(state, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    });
    out.status(0);
    assert!(
        out.stderr.contains("is a FIFO, not a regular file"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_state_file_linked_to_dev_zero_is_refused_unread() {
    let (_, out) = state_planted(|state| std::os::unix::fs::symlink("/dev/zero", state).unwrap());
    out.status(0);
    assert!(out.stderr.contains("is a symbolic link"), "{}", out.stderr);
}

#[test]
fn a_round_lock_the_agent_linked_elsewhere_creates_nothing_there() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    fx.run().status(0);
    let lock = fx.state_dir().join("round.lock");
    let elsewhere = fx.dir.path().join("created-by-the-runner");
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &lock).unwrap();
    let out = fx.run();
    assert!(
        !elsewhere.exists(),
        "the runner created a file through the link"
    );
    assert_ne!(out.status, 0);
    assert!(out.stderr.contains("is a symbolic link"), "{}", out.stderr);
}

#[test]
fn the_after_round_step_never_blocks_on_a_state_file_made_a_fifo() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    fx.run().status(0);
    let state = fx.state_dir().join("state.json");
    std::fs::remove_file(&state).unwrap();
    nix::unistd::mkfifo(&state, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let mut step = Command::new(binary());
    step.args(["halt", "--step", "after-round", "--config"])
        .arg(fx.work().join("project.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in &fx.env {
        step.env(k, v);
    }
    let mut child = step.spawn().unwrap();
    wait_within_20s(
        &mut child,
        "the after-round step blocked on a FIFO at state.json",
    );
}

#[test]
fn a_garbled_state_keeps_no_loop_from_starting_and_the_round_recovers_it() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    fx.run().status(0);
    fx.run().status(0);
    std::fs::write(fx.state_dir().join("state.json"), "7").unwrap();
    let mut step = Command::new(binary());
    step.args(["halt", "--step", "loop-start", "--config"])
        .arg(fx.work().join("project.toml"))
        .stdin(Stdio::null());
    for (k, v) in &fx.env {
        step.env(k, v);
    }
    let out = step.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("the next round recovers the state"),
        "{stdout}"
    );
    fx.run().status(0);
    let recovered = fx.event("state_recovered");
    assert_eq!(recovered["recovered_round"], 2, "{recovered}");
    assert_eq!(fx.event("loop_started")["round"], 3);
}

/// Waits for `child` to end; kills it and fails with `blocked` after 20 s.
fn wait_within_20s(child: &mut Child, blocked: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{blocked}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A project that ran `rounds` rounds; round 1's log then holds a line of its own, so that a
/// round that wrote it again would show.
fn after_rounds(rounds: u64) -> Fx {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    for _ in 0..rounds {
        fx.run().status(0);
    }
    std::fs::write(fx.logs().join("rounds/round-1.log"), "round one, kept\n").unwrap();
    fx
}

/// The round after `lie` was written over state.json: it runs round `next`, and no log of an
/// earlier round was written again.
#[track_caller]
fn recovers_to(fx: &Fx, lie: &str, next: u64) -> Value {
    std::fs::write(fx.state_dir().join("state.json"), lie).unwrap();
    let out = run_within_20s(fx, "a lying state.json");
    out.status(0);
    assert_eq!(fx.state()["round"], next, "stderr:\n{}", out.stderr);
    assert!(fx.round_log(next).contains(&format!("round={next} ")));
    assert_eq!(
        fx.round_log(1),
        "round one, kept\n",
        "round 1's log was overwritten"
    );
    assert!(
        out.stderr.contains("state.json"),
        "the recovery is told: {}",
        out.stderr
    );
    fx.event("state_recovered")
}

#[test]
fn a_garbage_state_file_is_recovered_from_the_round_logs() {
    let fx = after_rounds(3);
    let event = recovers_to(&fx, "{garbage", 4);
    assert_eq!(event["recovered_round"], 3);
    assert_eq!(event["source"], "round_logs");
    let problem = event["problem"].as_str().unwrap();
    assert!(problem.contains("is not a valid state file"), "{problem}");
    // Recovered once: the next round counts on from the saved state, without another recovery.
    fx.run().status(0);
    assert_eq!(fx.state()["round"], 5);
    let recoveries = fx
        .kinds()
        .iter()
        .filter(|k| *k == "state_recovered")
        .count();
    assert_eq!(recoveries, 1);
}

#[test]
fn a_round_counter_that_cannot_advance_is_recovered_not_frozen() {
    let fx = after_rounds(2);
    let event = recovers_to(&fx, r#"{"round": 18446744073709551615}"#, 3);
    assert!(
        event["problem"]
            .as_str()
            .unwrap()
            .contains("cannot advance"),
        "{event}"
    );
    // 2^53, past what a JSON reader keeps exact, is as absurd.
    let event = recovers_to(&fx, r#"{"round": 9007199254740992}"#, 4);
    assert_eq!(event["recovered_round"], 3);
    fx.run().status(0);
    assert_eq!(fx.state()["round"], 5);
}

#[test]
fn a_round_counter_behind_the_round_logs_never_overwrites_one() {
    let fx = after_rounds(2);
    let event = recovers_to(&fx, r#"{"round": 0}"#, 3);
    assert!(
        event["problem"]
            .as_str()
            .unwrap()
            .contains("round-1.log exists"),
        "{event}"
    );
    // A state file deleted outright is as good as a counter at 0.
    std::fs::remove_file(fx.state_dir().join("state.json")).unwrap();
    fx.run().status(0);
    assert_eq!(fx.state()["round"], 4);
    assert_eq!(fx.round_log(1), "round one, kept\n");
}

#[test]
fn without_round_logs_the_counter_comes_back_from_the_events_mirror() {
    let fx = after_rounds(3);
    for n in 1..=3 {
        std::fs::remove_file(fx.logs().join(format!("rounds/round-{n}.log"))).unwrap();
    }
    std::fs::write(fx.state_dir().join("state.json"), "null").unwrap();
    fx.run().status(0);
    assert_eq!(fx.state()["round"], 4);
    let event = fx.event("state_recovered");
    assert_eq!(event["source"], "events_mirror");
    assert_eq!(event["recovered_round"], 3);
}

#[test]
fn a_round_log_cut_short_by_a_full_disk_is_said_to_be_incomplete() {
    // The runner may write no file past 1 MiB (2 MiB where the shell counts in KiB), and ignores
    // SIGXFSZ as a program that checks its writes does: the agent's 4 MiB do not fit in the log,
    // as on a full disk.
    let fx = Fx::new(
        r#"command = ["/bin/sh", "-c", "yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | head -c 4194304"]"#,
        "",
        "",
    );
    let plain = fx.command();
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "trap '' XFSZ; ulimit -f 2048; exec \"$0\" \"$@\""])
        .arg(plain.get_program())
        .args(plain.get_args())
        .current_dir(fx.dir.path())
        .stdin(Stdio::null());
    for (k, v) in plain.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "the round goes on: {stderr}");
    let end = fx.event("round_end");
    assert_eq!(end["outcome"], "ok");
    assert_eq!(end["output_bytes"], 4_194_304);
    assert_eq!(end["log_complete"], false, "{end}");
    let logged = std::fs::metadata(fx.logs().join("rounds/round-1.log"))
        .unwrap()
        .len();
    assert!(logged < 4_194_304, "{logged}");
    let last = &fx.state()["last_outcome"];
    assert_eq!(last["log_complete"], false, "{last}");
    assert!(
        last["log_error"].as_str().unwrap().contains("too large"),
        "{last}"
    );
    // A round whose log took everything says so as plainly.
    let fine = Fx::new(&shell("ok.sh"), "", "");
    fine.run().status(0);
    assert_eq!(fine.event("round_end")["log_complete"], true);
    assert_eq!(fine.state()["last_outcome"]["log_complete"], true);
}

/// The step after a round as systemd runs it (agent-runner-after@ / -after-failure@), with the
/// round's result.
fn after_round(fx: &Fx, service_result: &str) -> Out {
    after_round_told(fx, "MONITOR_SERVICE_RESULT", service_result)
}

/// The step after a round, told the round's result in the variable `var`.
fn after_round_told(fx: &Fx, var: &str, service_result: &str) -> Out {
    let mut step = Command::new(binary());
    step.args(["halt", "--step", "after-round", "--config"])
        .arg(fx.work().join("project.toml"))
        .env(var, service_result)
        .stdin(Stdio::null());
    for (k, v) in &fx.env {
        step.env(k, v);
    }
    let out = step.output().unwrap();
    Out {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn what_the_agent_wrote_reaches_root_s_stderr_escaped() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    fx.run().status(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    fx.set_state(|s| {
        s["throttle_until"] = Value::from(now + 600);
        s["throttle_class"] = Value::from("rate\u{1b}]0;PWNED\u{7}\nREADY=1");
    });
    let out = fx.run();
    out.status(75);
    assert!(
        out.stderr
            .contains(r"backing off (rate\u001b]0;PWNED\u0007\u000aREADY=1)"),
        "{}",
        out.stderr
    );
    fx.set_state(|s| s["verdict"]["action"] = Value::from("\u{1b}]0;PWNED\u{7}"));
    let out = after_round(&fx, "oom-kill");
    out.status(0);
    assert!(
        out.stderr.contains(r"\u001b]0;PWNED\u0007"),
        "{}",
        out.stderr
    );
    for text in [&fx.run().stderr, &out.stderr] {
        assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
    }
}

#[test]
fn the_step_as_an_older_drop_ins_exec_stop_post_leaves_the_work_to_the_after_unit() {
    let fx = Fx::new(&shell("ok.sh"), "", "[limits]\noom_rounds = 2\n");
    fx.run().status(0);
    let out = after_round_told(&fx, "SERVICE_RESULT", "oom-kill");
    out.status(0);
    assert!(
        out.stderr.contains("run `agent-runner generate`"),
        "{}",
        out.stderr
    );
    assert_eq!(fx.state()["last_outcome"]["outcome"], "ok");
}

#[test]
fn a_round_systemd_ended_for_memory_is_recorded_oom_and_the_streak_halts_the_loop() {
    let fx = Fx::new(&shell("ok.sh"), "", "[limits]\noom_rounds = 2\n");
    fx.run().status(0);
    after_round(&fx, "oom-kill").status(0);
    let state = fx.state();
    assert_eq!(state["last_outcome"]["outcome"], "oom", "{state}");
    assert_eq!(state["last_outcome"]["round"], 1);
    let oom = fx.event("round_oom");
    assert_eq!(oom["round"], 1);
    assert_eq!(oom["recorded"], "ok", "{oom}");
    assert_eq!(
        (oom["consecutive"].as_u64(), oom["limit"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(!fx.state_dir().join("halt-request").exists());

    // A round that ended otherwise breaks the streak.
    fx.run().status(0);
    after_round(&fx, "success").status(0);
    assert_eq!(fx.state()["last_outcome"]["outcome"], "ok");
    fx.run().status(0);
    after_round(&fx, "oom-kill").status(0);
    assert_eq!(fx.event("round_oom")["consecutive"], 1);
    assert!(!fx.state_dir().join("halt-request").exists());

    fx.run().status(0);
    after_round(&fx, "oom-kill").status(0);
    assert_eq!(fx.event("round_oom")["consecutive"], 2);
    assert_eq!(fx.event("mem_loop")["round"], 4);
    let request = std::fs::read_to_string(fx.state_dir().join("halt-request")).unwrap();
    assert!(request.contains("\"reason\":\"mem_loop\""), "{request}");
    assert_eq!(fx.state()["verdict"]["reason"], "mem_loop");
    // Run twice for one round, the step counts it once.
    after_round(&fx, "oom-kill").status(0);
    assert_eq!(
        fx.kinds().iter().filter(|k| *k == "round_oom").count(),
        3,
        "{:?}",
        fx.kinds()
    );
}

#[test]
fn the_default_halts_at_three_rounds_killed_for_memory() {
    let fx = Fx::new(&shell("ok.sh"), "", "");
    for _ in 0..2 {
        fx.run().status(0);
        after_round(&fx, "oom-kill").status(0);
    }
    assert!(!fx.state_dir().join("halt-request").exists());
    fx.run().status(0);
    after_round(&fx, "oom-kill").status(0);
    assert_eq!(fx.event("mem_loop")["consecutive"], 3);
    assert!(fx.state_dir().join("halt-request").exists());
}
