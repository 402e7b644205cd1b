//! Before a round may begin: the config loaded and its startup battery passed, the log and state
//! directories usable, the project's round lock held, the gates open (no stop trigger, no back-off
//! in force) and the credentials read. A configuration failure found on the way is recorded as
//! `config_broken` (event, state, halt request) and ends the round with exit 78.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use sd_notify::NotifyState;

use super::notify::notify;
use super::recover;
use super::state::{self, Action, HaltReason, HaltRequest, State, Verdict};
use crate::config::battery;
use crate::config::{Project, ProjectRef};
use crate::error::{ConfigProblem, Error, Result, exit};
use crate::events::Emitter;
use crate::events::payload::{ConfigBroken, RoundSkipped};
use crate::fsutil::{self, Dir, Existing};
use crate::paths::Scope;
use crate::redact;

/// Where a round keeps its files.
pub(crate) struct Dirs {
    /// The configured (or scope default) log_dir, never $LOGS_DIRECTORY: the path unit, `halt`
    /// and `status` all compute it from the config, and `.agent-done` must be where they look.
    pub log: PathBuf,
    /// `log_dir/rounds`, the round logs.
    pub rounds: PathBuf,
    /// The state directory, absolute: the runner changes into work_dir before spawning the agent.
    pub state: PathBuf,
}

/// Loads the project's config; one that does not even load is reported before the error returns.
pub(crate) fn load(reference: &ProjectRef, scope: Scope) -> Result<Project> {
    match crate::config::load_project(reference, scope) {
        Ok(p) => Ok(p),
        Err(e @ Error::Config(_)) => {
            broken_before_load(reference, &e);
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// The config did not even load: tell the journal and, under systemd, ask for a halt.
fn broken_before_load(reference: &ProjectRef, error: &Error) {
    let name = match reference {
        ProjectRef::Name(n) => n.clone(),
        ProjectRef::File(f) => f
            .file_stem()
            .map_or_else(|| "unknown".into(), |s| s.to_string_lossy().into_owned()),
    };
    let reason = error.to_string();
    let first = reason
        .lines()
        .next()
        .unwrap_or("invalid configuration")
        .to_string();
    let mut emitter = Emitter::new(&name, None);
    emitter.quiet_terminal();
    emitter.emit(
        None,
        None,
        &format!("configuration of {name} is broken: {first}"),
        ConfigBroken {
            reason: Some(reason),
            check: Some("config_valid".into()),
            config: None,
        },
    );
    let from_env = ["AGENT_RUNNER_STATE_DIR", "STATE_DIRECTORY"]
        .iter()
        .find_map(|v| std::env::var_os(v).filter(|d| !d.is_empty()));
    if let Some(dir) = from_env {
        let dir = dir
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_string();
        let _ = state::write_halt_request(
            Path::new(&dir),
            &HaltRequest::new(HaltReason::ConfigBroken, &first),
        );
    }
}

/// Records a configuration failure found after loading: event, state, halt request, exit 78.
pub(crate) fn config_broken(
    project: &Project,
    emitter: &Emitter,
    state_dir: Option<&Path>,
    problems: Vec<ConfigProblem>,
) -> Error {
    let reason = problems
        .iter()
        .map(|p| p.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let message = format!("configuration of {} is broken: {reason}", project.name);
    let mut emitter = emitter.clone();
    emitter.quiet_terminal();
    emitter.emit(
        None,
        None,
        &message,
        ConfigBroken {
            reason: Some(reason),
            check: None,
            config: Some(project.source.display().to_string()),
        },
    );
    if let Some(dir) = state_dir {
        if let Ok(mut st) = State::load(dir) {
            st.last_error = Some(redact::redact(&message).into_owned());
            st.verdict = Verdict {
                action: Action::Halt,
                until: None,
                reason: Some(HaltReason::ConfigBroken.as_str().into()),
            };
            st.running = None;
            let _ = st.save(dir);
        }
        let _ =
            state::write_halt_request(dir, &HaltRequest::new(HaltReason::ConfigBroken, &message));
    }
    Error::Config(problems)
}

/// A problem with the project's config file, and what to do about it.
pub(crate) fn problem(project: &Project, message: String, hint: &str) -> ConfigProblem {
    ConfigProblem::new(&project.source, message).hint(hint)
}

/// Makes the log and state directories, and the emitter (mirroring into the log directory).
pub(crate) fn dirs(project: &Project) -> Result<(Dirs, Emitter)> {
    let log = project.runtime.log_dir.clone();
    let rounds = log.join("rounds");

    // The log directory first: without it there is no mirror and no round log.
    if let Err(e) = fs::create_dir_all(&rounds)
        .map_err(|e| e.to_string())
        .and_then(|()| battery::writable_dir(&rounds))
    {
        let emitter = Emitter::new(&project.name, None);
        let dir = state::dir(project);
        let p = problem(
            project,
            format!("log_dir {} is not writable: {e}", log.display()),
            "fix its permissions, point [runtime] log_dir somewhere writable, or run it under your own manager with --user",
        );
        return Err(config_broken(project, &emitter, Some(&dir), vec![p]));
    }
    let emitter = Emitter::new(&project.name, Some(&log));

    let state = state::dir(project);
    let state = std::path::absolute(&state).unwrap_or(state);
    if let Err(e) = fsutil::create_dir_all(&state)
        .map_err(|e| e.to_string())
        .and_then(|()| battery::writable_dir(&state))
    {
        let p = problem(
            project,
            format!("the state directory is not writable: {e}"),
            "set AGENT_RUNNER_STATE_DIR, run with --user, or run under systemd (StateDirectory=)",
        );
        return Err(config_broken(project, &emitter, None, vec![p]));
    }
    Ok((Dirs { log, rounds, state }, emitter))
}

/// The startup battery: any error is a broken configuration.
pub(crate) fn startup_battery(
    project: &Project,
    state_dir: &Path,
    emitter: &Emitter,
) -> Result<()> {
    let errors: Vec<ConfigProblem> = battery::errors(project)
        .iter()
        .map(|f| {
            let mut p = ConfigProblem::new(&project.source, format!("{}: {}", f.check, f.message));
            p.hint.clone_from(&f.hint);
            p
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(config_broken(project, emitter, Some(state_dir), errors))
    }
}

/// One round at a time per project (a by-hand round next to the service's, say): the lock is
/// held until the returned guard drops. The agent can write in the state directory: the lock is
/// opened there with no link followed (a link would have root create or lock a file elsewhere),
/// and never emptied.
pub(crate) fn lock(project: &Project, state_dir: &Path) -> Result<Flock<File>> {
    let lock_path = state_dir.join("round.lock");
    let lock_file =
        Dir::open(state_dir)?.open_write(Path::new("round.lock"), Existing::Append, 0o644)?;
    Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).map_err(|_| {
        Error::TempFail(format!(
            "another round of {} is running (lock {})",
            project.name,
            lock_path.display()
        ))
    })
}

/// The state the last round left. One that cannot be believed (unreadable, a counter that cannot
/// advance or one behind the round logs) is recovered from the round logs and the mirror: the
/// recovery is reported and the recovered state saved, so it is told once.
pub(crate) fn load_state(project: &Project, dirs: &Dirs, emitter: &Emitter) -> State {
    let rounds = Dir::open(&dirs.log)
        .and_then(|log| log.subdir(Path::new("rounds")))
        .ok();
    let (st, recovery) = recover::check(project, rounds.as_ref(), State::load(&dirs.state));
    if let Some(recovery) = recovery {
        recovery.report(project, emitter);
        if let Err(e) = st.save(&dirs.state) {
            let _ = writeln!(std::io::stderr(), "agent-runner: warning: {e}");
        }
    }
    st
}

/// The gates before the agent may run. Returns the round's exit status when one is closed.
pub(crate) fn closed_gate(
    project: &Project,
    emitter: &Emitter,
    st: &State,
    now: u64,
) -> Option<u8> {
    if stop_triggered(project, emitter) {
        return Some(exit::OK);
    }
    if backing_off(project, st, now) {
        return Some(exit::TEMPFAIL);
    }
    None
}

/// The files whose appearance makes the path unit halt the loop, each with its name.
pub(super) fn stop_triggers(project: &Project) -> impl Iterator<Item = (PathBuf, &'static str)> {
    [
        project.runtime.stop_file.clone().map(|f| (f, "stop_file")),
        Some((project.agent_done_file(), ".agent-done")),
    ]
    .into_iter()
    .flatten()
}

/// Stop triggers: the path unit halts the loop; this round must not start the agent.
fn stop_triggered(project: &Project, emitter: &Emitter) -> bool {
    for (file, what) in stop_triggers(project) {
        if file.exists() {
            let message = format!(
                "round not started: {what} {} exists (delete it and start the loop again)",
                file.display()
            );
            notify(&[NotifyState::Ready, NotifyState::Status(&message)]);
            emitter.emit(
                None,
                None,
                &message,
                RoundSkipped {
                    trigger: what.into(),
                    file: file.display().to_string(),
                },
            );
            return true;
        }
    }
    false
}

/// A back-off in force: do not run the agent, exit quickly with EX_TEMPFAIL.
fn backing_off(project: &Project, st: &State, now: u64) -> bool {
    let Some(message) = back_off_message(&project.name, st, now) else {
        return false;
    };
    notify(&[NotifyState::Ready, NotifyState::Status(&message)]);
    let _ = writeln!(std::io::stderr(), "agent-runner: {message}");
    true
}

/// What a back-off in force says, on stderr and in `STATUS=`. Its reason comes from the state
/// file, which the agent can write: control characters are spelt out, newlines too, as one would
/// start another sd-notify assignment or another journal line.
fn back_off_message(name: &str, st: &State, now: u64) -> Option<String> {
    let until = st.not_before(now)?;
    let reason = st
        .throttle_class
        .as_deref()
        .filter(|_| st.throttle_until.is_some_and(|t| t > now))
        .or(st.verdict.reason.as_deref())
        .unwrap_or("back_off");
    Some(format!(
        "{name}: backing off ({}) until {} (in {}s); no round started",
        crate::output::visible(reason, false),
        crate::time::timestamp(crate::time::epoch_time(until)),
        until - now
    ))
}

/// Credentials: `$CREDENTIALS_DIRECTORY/NAME` under systemd, the configured file by hand. Returns
/// (environment variable, value) pairs; every value is registered with the redactor, as are the
/// values of secret-looking `[agent.env]` names (masked in events, not in the round log, which
/// masks credentials only, as `check` says).
pub(crate) fn credentials(
    project: &Project,
    state_dir: &Path,
    emitter: &Emitter,
) -> Result<Vec<(String, String)>> {
    for (_, value) in project.agent.secret_env() {
        redact::register_secret(value);
    }
    let mut secrets: Vec<(String, String)> = Vec::new();
    for (name, file) in &project.agent.credentials {
        let path = battery::credential_path(name, file);
        match fs::read_to_string(&path) {
            Ok(v) => {
                let v = v.trim_end_matches(['\n', '\r']).to_string();
                redact::register_secret(&v);
                secrets.push((env_name(name), v));
            }
            Err(e) => {
                let p = problem(
                    project,
                    format!(
                        "credential {name} cannot be read from {}: {e}",
                        path.display()
                    ),
                    "create the file or fix [agent.credentials]; under systemd it arrives via LoadCredential=",
                );
                return Err(config_broken(project, emitter, Some(state_dir), vec![p]));
            }
        }
    }
    Ok(secrets)
}

fn env_name(credential: &str) -> String {
    credential
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_become_env_names() {
        assert_eq!(env_name("ANTHROPIC_API_KEY"), "ANTHROPIC_API_KEY");
        assert_eq!(env_name("my-key.v2"), "my_key_v2");
    }

    #[test]
    fn a_back_off_reason_from_the_state_file_is_printed_escaped() {
        let mut st = State {
            throttle_until: Some(1_000),
            throttle_class: Some("rate\u{1b}]0;PWNED\u{7}\nREADY=1".into()),
            ..State::default()
        };
        let message = back_off_message("demo", &st, 400).unwrap();
        assert!(
            message
                .starts_with(r"demo: backing off (rate\u001b]0;PWNED\u0007\u000aREADY=1) until "),
            "{message}"
        );
        assert!(
            message.ends_with(" (in 600s); no round started"),
            "{message}"
        );
        assert!(!message.chars().any(char::is_control), "{message}");
        st.throttle_until = None;
        assert_eq!(back_off_message("demo", &st, 400), None);
    }
}
