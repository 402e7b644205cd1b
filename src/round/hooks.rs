//! The operator's `[hooks]`: commands a round runs before its agent (`pre_round`) and after it
//! (`post_round`), one after the other, as the round's user, in work_dir, with the agent's
//! environment. Each is started like the agent (own process group, clean signal mask) and bounded
//! like a goal check: its process group is killed at `timeout_s`, the first 64 KiB of its output
//! go to the round log through the credential masking, the rest is counted. A failed hook is told
//! by `hook_failed`; the first failed `pre_round` hook skips the round's agent (the rest do not
//! run), a failed `post_round` hook changes nothing. Without hooks nothing here runs.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use nix::sys::signalfd::SignalFd;
use sd_notify::NotifyState;

use super::bounded::{self, Bounds, Ran};
use super::launch::program;
use super::logs::LogWriter;
use super::notify::{EXTEND_SLACK, notify, usec};
use super::report::ms;
use crate::config::Project;
use crate::events::payload::HookFailed;

/// The most of a hook's output the round log gets.
const OUTPUT_KEPT: usize = 64 * 1024;

/// Which list of hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before the agent; a failure skips the round.
    PreRound,
    /// After the agent; a failure is only told.
    PostRound,
}

impl Phase {
    /// The key of `[hooks]`, also the event's `phase` and `$AGENT_RUNNER_HOOK`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Phase::PreRound => "pre_round",
            Phase::PostRound => "post_round",
        }
    }
}

/// What the hooks of one list came to.
#[derive(Debug, Default)]
pub(crate) struct Hooked {
    /// One `hook_failed` per hook that failed: (message, event).
    pub failed: Vec<(String, HookFailed)>,
    /// A stop request ended a hook: the rest did not run.
    pub stopped: bool,
    /// How long they took together.
    pub took: Duration,
}

/// Runs the hooks of `phase` with `env` (the agent's, plus `$AGENT_RUNNER_HOOK`), their output
/// into `log`. `stop` is the runner's signalfd: a stop request ends the running hook and the
/// rest are skipped, as is everything after the first failed `pre_round` hook.
pub(crate) fn run(
    project: &Project,
    phase: Phase,
    mut env: BTreeMap<OsString, OsString>,
    log: &mut LogWriter<'_>,
    stop: &SignalFd,
) -> Hooked {
    let hooks = match phase {
        Phase::PreRound => &project.hooks.pre_round,
        Phase::PostRound => &project.hooks.post_round,
    };
    env.insert("AGENT_RUNNER_HOOK".into(), phase.as_str().into());
    let limit = Duration::from_secs(project.hooks.timeout_s);
    let mut hooked = Hooked::default();
    let all_started = Instant::now();
    for (index, argv) in hooks.iter().enumerate() {
        let what = format!("{} hook {index} ({})", phase.as_str(), shown(&argv[0]));
        log.write(format!("\n[agent-runner] {what}: {}\n", argv.join(" ")).as_bytes());
        // Before the agent, systemd still waits for READY=1: its start timeout must wait too.
        notify(&[
            NotifyState::ExtendTimeoutUsec(usec(limit + EXTEND_SLACK)),
            NotifyState::Status(&format!("running {what}")),
        ]);
        let started = Instant::now();
        let ran = bounded::run_clean(
            &program(project, &argv[0]),
            argv,
            &env,
            Bounds {
                deadline: started + limit,
                keep: OUTPUT_KEPT,
                merge_stderr: true,
                stop: Some(stop),
            },
        );
        let took = started.elapsed();
        if let Ok(r) = &ran {
            log.write(&r.output);
        }
        let failure = failure(phase, index, argv, &ran, took);
        let verdict = verdict(&what, failure.as_ref(), &ran, took, limit);
        log.write(format!("\n[agent-runner] {verdict}\n").as_bytes());
        hooked.stopped = ran.as_ref().is_ok_and(|r| r.stopped);
        if let Some(event) = failure.filter(|_| !hooked.stopped) {
            hooked.failed.push((verdict, event));
        }
        if hooked.stopped || (phase == Phase::PreRound && !hooked.failed.is_empty()) {
            break;
        }
    }
    hooked.took = all_started.elapsed();
    hooked
}

/// The hook's program as a log line or event message may show it: controls escaped.
fn shown(program: &str) -> String {
    program.escape_debug().to_string()
}

/// The `hook_failed` event of a hook that did not exit 0, `None` for one that did.
fn failure(
    phase: Phase,
    index: usize,
    argv: &[String],
    ran: &std::io::Result<Ran>,
    took: Duration,
) -> Option<HookFailed> {
    let mut event = HookFailed {
        hook: phase.as_str().into(),
        index,
        command: argv[0].clone(),
        duration_ms: ms(took),
        round_skipped: phase == Phase::PreRound,
        ..HookFailed::default()
    };
    match ran {
        Ok(r) if r.succeeded() => return None,
        Ok(r) if r.timed_out => event.status = "timeout".into(),
        Ok(r) if r.stopped => event.status = "stopped".into(),
        Ok(r) => {
            use std::os::unix::process::ExitStatusExt;
            event.exit_code = r.status.and_then(|s| s.code());
            event.status = if event.exit_code.is_some() {
                "exit"
            } else {
                "signal"
            }
            .into();
            event.error = r
                .status
                .and_then(|s| s.signal())
                .map(|s| format!("killed by signal {s}"));
        }
        Err(e) => {
            event.status = "spawn_error".into();
            event.error = Some(format!("cannot run {}: {e}", shown(&argv[0])));
        }
    }
    Some(event)
}

/// "pre_round hook 0 (git) passed in 0.3s", "… failed: exit code 1 …", "… timed out after 60s …".
fn verdict(
    what: &str,
    failure: Option<&HookFailed>,
    ran: &std::io::Result<Ran>,
    took: Duration,
    limit: Duration,
) -> String {
    let how = match failure {
        None => "passed".to_string(),
        Some(f) => match (f.status.as_str(), f.exit_code, &f.error) {
            ("timeout", ..) => format!(
                "failed: timed out after {}s, its process group killed",
                limit.as_secs()
            ),
            ("stopped", ..) => "was stopped: the round was told to stop".to_string(),
            (_, Some(code), _) => format!("failed: exit code {code}"),
            (_, None, Some(error)) => format!("failed: {error}"),
            _ => "failed".to_string(),
        },
    };
    let mut line = format!("{what} {how} in {:.1}s", took.as_secs_f64());
    let dropped = ran.as_ref().map_or(0, |r| r.dropped);
    if dropped > 0 {
        let _ = write!(
            line,
            " ({dropped} bytes of output past the first {OUTPUT_KEPT} not kept)"
        );
    }
    line
}

/// `$AGENT_RUNNER_OUTCOME` for the `post_round` hooks: how the round's agent ended.
pub(crate) fn with_outcome(
    mut env: BTreeMap<OsString, OsString>,
    outcome: &str,
) -> BTreeMap<OsString, OsString> {
    env.insert("AGENT_RUNNER_OUTCOME".into(), OsStr::new(outcome).into());
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::SigSet;
    use nix::sys::signalfd::SfdFlags;

    fn project(dir: &std::path::Path, hooks: &str) -> Project {
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"{}\"\n[prompt]\nfiles = [\"/etc/hostname\"]\n[hooks]\n{hooks}",
            dir.display()
        );
        crate::config::load_str(&text, &dir.join("p.toml"), crate::paths::Scope::System).unwrap()
    }

    fn run_hooks(project: &Project, phase: Phase) -> (Hooked, String) {
        let stop = SignalFd::with_flags(&SigSet::empty(), SfdFlags::SFD_NONBLOCK).unwrap();
        let mut out = Vec::new();
        let mut log = LogWriter::new(&mut out, Vec::new());
        let env = BTreeMap::from([("PATH".into(), "/usr/bin:/bin".into())]);
        let hooked = run(project, phase, env, &mut log, &stop);
        log.finish();
        (hooked, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn hooks_run_in_order_with_their_output_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(
            dir.path(),
            "post_round = [[\"sh\", \"-c\", \"echo first $AGENT_RUNNER_HOOK\"], [\"sh\", \"-c\", \"echo second >&2\"]]\n",
        );
        let (hooked, log) = run_hooks(&p, Phase::PostRound);
        assert!(hooked.failed.is_empty() && !hooked.stopped, "{log}");
        let first = log.find("first post_round").unwrap();
        assert!(log.find("second").unwrap() > first, "{log}");
        assert!(log.contains("post_round hook 1 (sh) passed in"), "{log}");
    }

    #[test]
    fn a_failed_pre_round_hook_ends_the_list_and_a_post_round_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let lists = "[[\"sh\", \"-c\", \"exit 3\"], [\"sh\", \"-c\", \"echo ran\"]]";
        let pre = project(dir.path(), &format!("pre_round = {lists}\n"));
        let (hooked, log) = run_hooks(&pre, Phase::PreRound);
        assert_eq!(hooked.failed.len(), 1, "{log}");
        let event = &hooked.failed[0].1;
        assert_eq!((event.index, event.exit_code), (0, Some(3)));
        assert_eq!(
            (event.hook.as_str(), event.status.as_str()),
            ("pre_round", "exit")
        );
        assert!(event.round_skipped);
        assert!(
            log.contains("pre_round hook 0 (sh) failed: exit code 3"),
            "{log}"
        );
        assert!(!log.contains("\nran\n"), "{log}");

        let post = project(
            dir.path(),
            &format!(
                "post_round = [[\"/no/such/hook\"], {}]\n",
                &lists[1..lists.len() - 1]
            ),
        );
        let (hooked, log) = run_hooks(&post, Phase::PostRound);
        assert_eq!(hooked.failed.len(), 2, "{log}");
        assert_eq!(hooked.failed[0].1.status, "spawn_error");
        assert!(!hooked.failed[0].1.round_skipped);
        assert!(log.contains("\nran\n"), "{log}");
    }

    #[test]
    fn a_hook_past_its_time_is_killed_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let p = project(
            dir.path(),
            &format!(
                "timeout_s = 1\npre_round = [[\"sh\", \"-c\", \"(sleep 2; touch {}) & sleep 30\"]]\n",
                marker.display()
            ),
        );
        let (hooked, log) = run_hooks(&p, Phase::PreRound);
        assert_eq!(hooked.failed[0].1.status, "timeout");
        assert!(
            log.contains("timed out after 1s, its process group killed"),
            "{log}"
        );
        std::thread::sleep(Duration::from_millis(2500));
        assert!(
            !marker.exists(),
            "a process of the hook's group outlived the kill"
        );
    }

    #[test]
    fn a_hook_s_output_is_bounded_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(
            dir.path(),
            "post_round = [[\"sh\", \"-c\", \"head -c 200000 /dev/zero | tr '\\\\0' x\"]]\n",
        );
        let (hooked, log) = run_hooks(&p, Phase::PostRound);
        assert!(hooked.failed.is_empty(), "{log}");
        assert!(log.len() < OUTPUT_KEPT + 1024, "{}", log.len());
        assert!(
            log.contains(&format!(
                "({} bytes of output past the first {OUTPUT_KEPT} not kept)",
                200_000 - OUTPUT_KEPT
            )),
            "{}",
            &log[log.len() - 300..]
        );
    }
}
