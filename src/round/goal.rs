//! The operator's goal checks (`[[goal.checks]]`), run after a round in work_dir as the user the
//! round runs as (the agent's; never root's, unless the agent's is root): one after the other,
//! each in its own process group killed at its `timeout_s`, its output (the first 64 KiB) added
//! to the round log through the same credential masking as the agent's. The first check that
//! fails ends the run: the loop is done only when every check passes, and the rest need not
//! cost their time.

use nix::sys::signalfd::SignalFd;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use super::bounded::{self, Bounds, Ran};
use super::launch::{RUNNER_ONLY_ENV, program};
use super::logs::LogWriter;
use crate::config::{GoalCheck, Project};
use crate::events::Event;
use crate::events::payload::GoalCheckResult;

/// The most of a check's output the round log gets.
const OUTPUT_KEPT: usize = 64 * 1024;

/// How the checks went.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Checks that passed.
    pub passed: usize,
    /// Checks configured.
    pub total: usize,
    /// One `goal_check_result` per check run: (message, event).
    pub events: Vec<(String, Event)>,
}

impl Checked {
    /// Whether every check passed.
    pub(crate) fn all_passed(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

/// Runs `project`'s checks after round `round`, writing their output into `log`. `stop` is the
/// runner's signalfd: a stop request ends the running check and the rest are skipped.
pub(crate) fn run(
    project: &Project,
    round: u64,
    log: &mut LogWriter<'_>,
    stop: &SignalFd,
) -> Checked {
    let mut checked = Checked {
        total: project.goal.checks.len(),
        ..Checked::default()
    };
    for check in &project.goal.checks {
        log.write(
            format!(
                "\n[agent-runner] goal check {}: {}\n",
                check.name,
                check.cmd.join(" ")
            )
            .as_bytes(),
        );
        let started = Instant::now();
        let ran = bounded::run(
            command(project, check, round),
            Bounds {
                deadline: started + Duration::from_secs(check.timeout_s),
                keep: OUTPUT_KEPT,
                merge_stderr: true,
                stop: Some(stop),
            },
        );
        let result = result(check, &ran, started.elapsed());
        log.write(&ran.as_ref().map(|r| r.output.clone()).unwrap_or_default());
        let verdict = verdict(check, &result, ran.as_ref().map_or(0, |r| r.dropped));
        log.write(format!("\n[agent-runner] {verdict}\n").as_bytes());
        let (passed, stopped) = (result.passed, ran.as_ref().is_ok_and(|r| r.stopped));
        checked
            .events
            .push((format!("round {round}: {verdict}"), result.into()));
        if !passed || stopped {
            break;
        }
        checked.passed += 1;
    }
    checked
}

/// The check's command: its program looked up like the agent's, in work_dir, with the runner's
/// environment minus systemd's own variables, plus `[agent.env]` (not the credentials: a check
/// is the operator's test, not the agent's work).
fn command(project: &Project, check: &GoalCheck, round: u64) -> Command {
    let mut cmd = Command::new(program(project, &check.cmd[0]));
    cmd.args(&check.cmd[1..])
        .current_dir(&project.runtime.work_dir);
    for var in RUNNER_ONLY_ENV {
        cmd.env_remove(var);
    }
    cmd.envs(&project.agent.env)
        .env("AGENT_RUNNER_PROJECT", &project.name)
        .env("AGENT_RUNNER_ROUND", OsStr::new(&round.to_string()))
        .env("AGENT_RUNNER_GOAL_CHECK", &check.name);
    cmd
}

fn result(check: &GoalCheck, ran: &std::io::Result<Ran>, took: Duration) -> GoalCheckResult {
    let duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    match ran {
        Ok(r) => GoalCheckResult {
            name: check.name.clone(),
            passed: r.succeeded(),
            exit_code: r.status.and_then(|s| s.code()),
            timed_out: r.timed_out,
            error: r.stopped.then(|| "the round was told to stop".into()),
            duration_ms,
            output_bytes: r.output.len() as u64 + r.dropped,
        },
        Err(e) => GoalCheckResult {
            name: check.name.clone(),
            error: Some(format!("cannot run {}: {e}", check.cmd[0])),
            duration_ms,
            ..GoalCheckResult::default()
        },
    }
}

/// "goal check tests passed in 1.2s", "… failed: exit code 1 …", "… timed out after 30s …".
fn verdict(check: &GoalCheck, r: &GoalCheckResult, dropped: u64) -> String {
    let secs = Duration::from_millis(r.duration_ms).as_secs_f64();
    let how = if r.passed {
        "passed".to_string()
    } else if r.timed_out {
        format!(
            "failed: timed out after {}s, its process group killed",
            check.timeout_s
        )
    } else if let Some(e) = &r.error {
        format!("failed: {e}")
    } else {
        match r.exit_code {
            Some(code) => format!("failed: exit code {code}"),
            None => "failed: killed by a signal".to_string(),
        }
    };
    let mut line = format!("goal check {} {how} in {secs:.1}s", check.name);
    if dropped > 0 {
        let _ = write!(
            line,
            " ({dropped} bytes of output past the first {OUTPUT_KEPT} not kept)"
        );
    }
    line
}
