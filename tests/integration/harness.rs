//! A small builder around the built binary: a temporary directory, files in it, arguments,
//! environment, then assertions on status, stdout and stderr.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The binary under test.
pub(crate) fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agent-runner"))
}

/// `agent-runner round` as a test runs it: none of the variables systemd gives a service (a test
/// run under a service manager must not talk to it), its own environment added by the caller.
pub(crate) fn round_command() -> Command {
    let mut cmd = Command::new(binary());
    cmd.arg("round");
    without_service_env(cmd)
}

/// `agent-runner-round`, the round service's binary, as [`round_command`] runs the round.
pub(crate) fn round_runner_command() -> Command {
    without_service_env(Command::new(env!("CARGO_BIN_EXE_agent-runner-round")))
}

fn without_service_env(mut cmd: Command) -> Command {
    for var in [
        "NOTIFY_SOCKET",
        "CREDENTIALS_DIRECTORY",
        "STATE_DIRECTORY",
        "LOGS_DIRECTORY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A test case: a scratch directory plus a command line.
pub(crate) struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    /// Run as this uid and gid (through setpriv) instead of the test's own user.
    as_uid: Option<u32>,
}

/// The uid (and gid) of `nobody`, which unprivileged runs use.
pub(crate) const NOBODY: u32 = 65534;

/// What a run produced.
#[derive(Debug)]
pub(crate) struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Where setpriv is (the tests' PATH may leave it out).
fn setpriv() -> Option<&'static str> {
    ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Whether this process can run the binary as another user: it is root and has setpriv.
pub(crate) fn can_switch_user() -> bool {
    nix::unistd::geteuid().is_root() && setpriv().is_some()
}

impl Test {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_dir = dir.path().join("etc");
        let unit_dir = dir.path().join("units");
        Self {
            args: Vec::new(),
            env: vec![
                (
                    "AGENT_RUNNER_CONFIG_DIR".into(),
                    config_dir.display().to_string(),
                ),
                (
                    "AGENT_RUNNER_UNIT_DIR".into(),
                    unit_dir.display().to_string(),
                ),
                ("NO_COLOR".into(), "1".into()),
            ],
            dir,
            stdin: None,
            as_uid: None,
        }
    }

    /// Runs the binary as `uid` (its own group, no supplementary groups); see
    /// [`can_switch_user`].
    pub(crate) fn run_as(mut self, uid: u32) -> Self {
        self.as_uid = Some(uid);
        self
    }

    /// The scratch directory.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `rel` inside the scratch directory (parents created).
    pub(crate) fn file(self, rel: &str, contents: &str) -> Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        self
    }

    /// Makes `rel` a git repository (a `.git` directory is enough for the battery).
    pub(crate) fn git_repo(self, rel: &str) -> Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(&path).unwrap();
        let ok = Command::new("git")
            .args(["init", "-q"])
            .current_dir(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            std::fs::create_dir_all(path.join(".git")).unwrap();
        }
        self
    }

    /// Appends arguments; `{dir}` is replaced by the scratch directory.
    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        let dir = self.dir.path().display().to_string();
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().replace("{dir}", &dir)));
        self
    }

    /// Sets an environment variable for the run.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Feeds stdin.
    pub(crate) fn stdin(mut self, data: &[u8]) -> Self {
        self.stdin = Some(data.to_vec());
        self
    }

    /// Runs the binary and returns what it did.
    pub(crate) fn run(&self) -> Run {
        self.run_with(&[])
    }

    /// Runs the binary with `extra` arguments after the configured ones.
    pub(crate) fn run_with(&self, extra: &[&str]) -> Run {
        let mut child = self.spawn(extra);
        if let Some(data) = &self.stdin {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            // The command may exit without reading its stdin: a broken pipe is not a failure.
            let _ = stdin.write_all(data);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Run {
            status: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Runs the binary with `extra` arguments and a reader that takes the first `keep` bytes of
    /// its output and then closes the pipe, as `| head -c KEEP` does; `stdout` is what was read.
    pub(crate) fn run_into_closed_pipe(&self, extra: &[&str], keep: usize) -> Run {
        use std::io::Read;
        let mut child = self.spawn(extra);
        let mut stdout = vec![0; keep];
        child
            .stdout
            .take()
            .unwrap()
            .read_exact(&mut stdout)
            .expect("the command writes at least `keep` bytes");
        // Dropping the pipe above closed it: every further write of the command fails.
        let Output { status, stderr, .. } = child.wait_with_output().unwrap();
        Run {
            status: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Runs the binary with `extra` arguments after the configured ones and ends it after
    /// `limit` if it has not ended by then (the status is then -1). At most 1 MiB of each output
    /// is kept, the rest is read and dropped, so that a command that writes without end neither
    /// blocks on its pipe nor fills the test's memory.
    pub(crate) fn run_within(&self, extra: &[&str], limit: std::time::Duration) -> Run {
        use std::io::Read;
        fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    let room = (1_usize << 20).saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
                String::from_utf8_lossy(&kept).into_owned()
            })
        }
        let mut child = self.spawn(extra);
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        Run {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    fn spawn(&self, extra: &[&str]) -> Child {
        let mut cmd = match self.as_uid {
            Some(uid) => {
                let mut c = Command::new(setpriv().expect("setpriv, see can_switch_user"));
                c.args([
                    format!("--reuid={uid}"),
                    format!("--regid={uid}"),
                    "--clear-groups".into(),
                    "--".into(),
                ])
                .arg(binary());
                c
            }
            None => Command::new(binary()),
        };
        cmd.args(&self.args)
            .args(extra)
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.spawn().expect("spawn agent-runner")
    }
}

impl Run {
    /// Asserts the exit status, printing the output when it differs.
    #[track_caller]
    pub(crate) fn status(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status, expected,
            "unexpected exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that stdout or stderr contains `needle`.
    #[track_caller]
    pub(crate) fn output_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "output lacks {needle:?}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that nothing looks like a Rust panic or backtrace.
    #[track_caller]
    pub(crate) fn no_panic(&self) -> &Self {
        for text in [&self.stdout, &self.stderr] {
            assert!(
                !text.contains("panicked at") && !text.contains("RUST_BACKTRACE"),
                "panic:\n{text}"
            );
        }
        self
    }
}
