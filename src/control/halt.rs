//! `agent-runner halt`: the loop's helper steps, each run by a unit (docs/architecture.md, "The
//! loop on systemd"). None of them is for interactive use.
//!
//! * `trigger` (agent-runner-halt@.service, the project's user): a stop trigger fired. The unit
//!   itself ends the loop (`Conflicts=` with agent-runner-loop@.service); this step records why:
//!   `stop_file_detected` / `agent_self_terminated` for the triggers no round reported, then
//!   `loop_halted`.
//! * `loop-start` (agent-runner-loop@.service, the project's user): a new loop begins. Clears the
//!   previous loop's `.agent-done` and `halt-request`, and marks the state so that the next round
//!   starts fresh loop counters.
//! * `after-round` (ExecStopPost=+ of the round service, privileged, read-only on the project's
//!   files): when the round left a back-off longer than the timer's delay, parks the periodic
//!   timer and wakes the loop at the not-before time with a transient timer instead, so systemd
//!   does not start a round every restart_delay_s only for it to exit at once. A round that
//!   exited 78 (configuration broken) halts the loop even when it could not say so itself.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use zbus::{OwnedObjectPath, Variant as Value};

use crate::cli::args::HaltStep;
use crate::config::Project;
use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::Emitter;
use crate::events::payload::{AgentSelfTerminated, LoopHalted, StopFileDetected};
use crate::paths::Scope;
use crate::round::state::{self, State};

/// `.agent-done` content kept as the reason, in characters.
const REASON_MAX_CHARS: usize = 200;

/// Runs one helper step.
pub(crate) fn run(ctx: &Context, project: &ProjectRef, step: HaltStep) -> Result<u8> {
    match step {
        HaltStep::Trigger => {
            trigger(&crate::config::load_project(project, ctx.scope)?);
            Ok(exit::OK)
        }
        HaltStep::LoopStart => loop_start(&crate::config::load_project(project, ctx.scope)?),
        HaltStep::AfterRound => {
            // Never fail: a failing ExecStopPost= would mark a good round failed.
            if let Err(e) = after_round(ctx.scope, project) {
                eprintln!("agent-runner: after round: {e}");
            }
            Ok(exit::OK)
        }
    }
}

/// What `trigger` found, in the order it reports them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Triggers {
    stop_file: bool,
    agent_done: Option<String>,
    halt_request: Option<(String, String)>,
}

impl Triggers {
    /// The reason `loop_halted` carries, and its sentence.
    fn reason(&self) -> (String, String) {
        if let Some((reason, message)) = &self.halt_request {
            (reason.clone(), message.clone())
        } else if let Some(text) = &self.agent_done {
            (
                "agent_done".into(),
                format!("the agent wrote .agent-done: {text}"),
            )
        } else if self.stop_file {
            ("stop_file".into(), "the stop file exists".into())
        } else {
            ("requested".into(), "a halt was requested".into())
        }
    }
}

fn trigger(project: &Project) {
    let dir = state::dir(project);
    let emitter = Emitter::new(&project.name, Some(&project.runtime.log_dir));
    let round = State::load(&dir).ok().map(|s| s.round).filter(|r| *r > 0);
    let mut found = Triggers::default();
    if let Some(stop) = &project.runtime.stop_file
        && stop.symlink_metadata().is_ok()
    {
        found.stop_file = true;
        emitter.emit(
            round,
            None,
            &format!(
                "stop file {} found: the loop of {} stops after the current round",
                stop.display(),
                project.name
            ),
            StopFileDetected { path: stop.clone() },
        );
    }
    let done = project.agent_done_file();
    if let Some(text) = read_sentinel(&done) {
        emitter.emit(
            round,
            None,
            &format!("the agent declared its work done: {text}"),
            AgentSelfTerminated {
                reason: text.clone(),
            },
        );
        found.agent_done = Some(text);
    }
    match state::read_halt_request(&dir) {
        Ok(Some(request)) => {
            found.halt_request = Some((request.reason.as_str().to_string(), request.message));
        }
        Ok(None) => {}
        // A malformed request still means "halt"; say so instead of failing the step.
        Err(e) => found.halt_request = Some(("invalid_request".into(), e.to_string())),
    }
    let (reason, message) = found.reason();
    if let Err(e) = State::end_loop(&dir) {
        eprintln!("agent-runner: {e}");
    }
    emitter.emit(
        round,
        None,
        &format!("loop of {} halted: {message}", project.name),
        LoopHalted { reason },
    );
}

/// The first [`REASON_MAX_CHARS`] characters of the sentinel, if it is a regular file. It is never
/// followed through a symlink: the agent controls the log directory.
fn read_sentinel(path: &Path) -> Option<String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path);
    let file = match file {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => f,
        // A symlink or other non-file still counts as the sentinel, without a reason.
        Ok(_) => return Some(String::new()),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => return Some(String::new()),
        Err(_) => return None,
    };
    let mut bytes = Vec::new();
    let _ = file
        .take(4 * REASON_MAX_CHARS as u64)
        .read_to_end(&mut bytes);
    Some(sentinel_reason(&bytes))
}

/// The reason text of a sentinel: lossy UTF-8, whitespace collapsed, at most 200 characters.
fn sentinel_reason(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(REASON_MAX_CHARS).collect()
}

fn loop_start(project: &Project) -> Result<u8> {
    let dir = state::dir(project);
    for path in [
        project.agent_done_file(),
        dir.join(state::HALT_REQUEST_FILE),
    ] {
        match std::fs::remove_file(&path) {
            Ok(()) => println!("cleared {} left by the previous loop", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot remove", &path, e)),
        }
    }
    // The next round sees the mark, starts fresh loop counters and emits `loop_started`.
    State::end_loop(&dir)?;
    println!("loop of {} starting", project.name);
    Ok(exit::OK)
}

fn after_round(scope: Scope, reference: &ProjectRef) -> Result<()> {
    let project = crate::config::load_project(reference, scope);
    let name = match (&project, reference) {
        (Ok(p), _) => p.name.clone(),
        (Err(_), ProjectRef::Name(n)) => n.clone(),
        // A broken TOML may set a `name` other than its file name: systemd's own
        // $STATE_DIRECTORY (…/agent-runner/NAME) still names the instance.
        (Err(_), ProjectRef::File(f)) => std::env::var_os("STATE_DIRECTORY")
            .and_then(|d| {
                let first = d.to_string_lossy().split(':').next().map(str::to_string)?;
                Path::new(&first)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .or_else(|| f.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    };
    let exit_status = std::env::var("EXIT_STATUS").unwrap_or_default();
    // A round that exited 78 and wrote its halt request is halted by the path unit already.
    let state_dir = match &project {
        Ok(p) => Some(state::dir(p)),
        Err(_) => std::env::var_os("STATE_DIRECTORY").and_then(|d| {
            d.to_string_lossy()
                .split(':')
                .next()
                .map(std::path::PathBuf::from)
        }),
    };
    let requested = state_dir.is_some_and(|d| d.join(state::HALT_REQUEST_FILE).exists());
    let config_broken = std::env::var("EXIT_CODE").is_ok_and(|c| c == "exited")
        && exit_status == "78"
        && !requested;
    let wake_at = match &project {
        Ok(p) => back_off_until(p),
        Err(_) => None,
    };
    if !config_broken && wake_at.is_none() {
        return Ok(());
    }
    zbus::block_on(async {
        let bus = Bus::connect(scope).await?;
        if !bus.loop_running(&name).await? {
            return Ok(()); // stopped or halted meanwhile: nothing to reschedule
        }
        if config_broken {
            println!("round exited 78 (configuration broken): halting the loop of {name}");
            return bus
                .start(&format!("agent-runner-halt@{name}.service"))
                .await;
        }
        if let Some(at) = wake_at {
            bus.park_until(scope, &name, at).await?;
        }
        Ok(())
    })
}

/// The not-before time the round left, when it lies beyond the periodic timer's next firing.
fn back_off_until(project: &Project) -> Option<u64> {
    let state = State::load(&state::dir(project)).ok()?;
    let now = state::now_epoch();
    let at = state.not_before(now)?;
    (at > now + project.runtime.restart_delay_s + 1).then_some(at)
}

// crate::systemd::bus::Bus has no StartTransientUnit nor a unit's queued job; these few calls are ours.
#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait LoopManager {
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    #[allow(clippy::type_complexity)]
    fn start_transient_unit(
        &self,
        name: &str,
        mode: &str,
        properties: &[(&str, Value<'_>)],
        aux: &[(&str, Vec<(&str, Value<'_>)>)],
    ) -> zbus::Result<OwnedObjectPath>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1"
)]
trait LoopUnit {
    #[zbus(property)]
    fn active_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn job(&self) -> zbus::Result<(u32, OwnedObjectPath)>;
}

/// The few manager calls the helper steps make.
struct Bus {
    scope: Scope,
    connection: zbus::Connection,
    manager: LoopManagerProxy<'static>,
}

impl Bus {
    async fn connect(scope: Scope) -> Result<Self> {
        let unreachable =
            |e: zbus::Error| crate::systemd::bus::unreachable_error(scope, None, &e.to_string());
        let connection = match scope {
            Scope::System => zbus::Connection::system().await,
            Scope::User => zbus::Connection::session().await,
        }
        .map_err(unreachable)?;
        let manager = LoopManagerProxy::new(&connection)
            .await
            .map_err(unreachable)?;
        Ok(Self {
            scope,
            connection,
            manager,
        })
    }

    fn fail(&self, what: &str, e: &zbus::Error) -> Error {
        crate::systemd::bus::call_error(self.scope, what, e)
    }

    /// `(ActiveState, has a queued job)` of `unit`.
    async fn unit_state(&self, unit: &str) -> Result<(String, bool)> {
        let path = self
            .manager
            .load_unit(unit)
            .await
            .map_err(|e| self.fail(&format!("loading {unit}"), &e))?;
        let proxy = LoopUnitProxy::builder(&self.connection)
            .path(path)
            .build()
            .await
            .map_err(|e| self.fail(unit, &e))?;
        let state = proxy
            .active_state()
            .await
            .map_err(|e| self.fail(unit, &e))?;
        let job = proxy.job().await.map_err(|e| self.fail(unit, &e))?;
        Ok((state, job.0 != 0))
    }

    /// Whether the loop is running and nothing is stopping it.
    async fn loop_running(&self, name: &str) -> Result<bool> {
        let (state, queued) = self
            .unit_state(&format!("agent-runner-loop@{name}.service"))
            .await?;
        Ok(state == "active" && !queued)
    }

    async fn start(&self, unit: &str) -> Result<()> {
        self.manager
            .start_unit(unit, "replace")
            .await
            .map(drop)
            .map_err(|e| self.fail(&format!("starting {unit}"), &e))
    }

    async fn stop(&self, unit: &str) -> Result<()> {
        self.manager
            .stop_unit(unit, "replace")
            .await
            .map(drop)
            .map_err(|e| self.fail(&format!("stopping {unit}"), &e))
    }

    /// Parks the periodic timer of `name` and wakes the loop at epoch second `at` with a transient
    /// timer, PartOf= the loop so that a stop or a halt removes it too. Its service starts the
    /// round service, whose Wants= brings the periodic timer back.
    async fn park_until(&self, scope: Scope, name: &str, at: u64) -> Result<()> {
        let timer = format!("agent-runner-backoff@{name}.timer");
        let service = format!("agent-runner-backoff@{name}.service");
        let loop_unit = format!("agent-runner-loop@{name}.service");
        let delay = (crate::round::state::epoch_time(at))
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        let Some(systemctl) = ["/usr/bin/systemctl", "/bin/systemctl"]
            .into_iter()
            .find(|p| Path::new(p).exists())
        else {
            return Err(Error::Failed("systemctl not found".into()));
        };
        let mut argv = vec![systemctl.to_string()];
        if scope == Scope::User {
            argv.push("--user".into());
        }
        argv.extend(["start", "--no-block"].map(String::from));
        argv.push(format!("agent-runner@{name}.service"));

        self.stop(&format!("agent-runner@{name}.timer")).await?;
        if self.unit_state(&timer).await?.0 != "inactive" {
            self.stop(&timer).await?;
        }
        let usec = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        let description = format!("agent-runner: {name} backs off until epoch {at}");
        let timer_props = [
            ("Description", Value::from(description.as_str())),
            ("OnActiveSec", Value::from(usec)),
            ("AccuracySec", Value::from(100_000_u64)),
            ("RemainAfterElapse", Value::from(false)),
            ("PartOf", Value::from(vec![loop_unit.as_str()])),
        ];
        let service_props = vec![
            ("Description", Value::from(description.as_str())),
            (
                "ExecStart",
                Value::from(vec![(argv[0].clone(), argv.clone(), false)]),
            ),
            ("PartOf", Value::from(vec![loop_unit.as_str()])),
        ];
        let aux = [(service.as_str(), service_props)];
        // A previous back-off timer that was just stopped may linger until the manager collects it.
        let mut attempt = 0;
        loop {
            match self
                .manager
                .start_transient_unit(&timer, "replace", &timer_props, &aux)
                .await
            {
                Ok(_) => break,
                Err(zbus::Error::MethodError(e, _, _))
                    if e.as_str() == "org.freedesktop.systemd1.UnitExists" && attempt < 20 =>
                {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(self.fail(&format!("starting {timer}"), &e)),
            }
        }
        println!(
            "backing off: the next round of {name} runs in {}s ({timer})",
            delay.as_secs()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_reason_is_collapsed_and_capped() {
        assert_eq!(sentinel_reason(b"  all\n done \t now\n"), "all done now");
        let long = "x".repeat(500);
        assert_eq!(sentinel_reason(long.as_bytes()).chars().count(), 200);
        assert_eq!(sentinel_reason(b"caf\xc3\xa9 \xff"), "café \u{fffd}");
    }

    #[test]
    fn halt_request_outranks_other_triggers() {
        let mut t = Triggers {
            stop_file: true,
            agent_done: Some("done".into()),
            halt_request: None,
        };
        assert_eq!(t.reason().0, "agent_done");
        t.halt_request = Some(("max_rounds".into(), "3 rounds".into()));
        assert_eq!(t.reason(), ("max_rounds".into(), "3 rounds".into()));
        t.halt_request = None;
        t.agent_done = None;
        assert_eq!(t.reason().0, "stop_file");
        assert_eq!(Triggers::default().reason().0, "requested");
    }

    #[test]
    fn sentinel_is_never_followed_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "do not leak").unwrap();
        let done = dir.path().join(".agent-done");
        std::os::unix::fs::symlink(&secret, &done).unwrap();
        assert_eq!(read_sentinel(&done).as_deref(), Some(""));
        std::fs::remove_file(&done).unwrap();
        assert_eq!(read_sentinel(&done), None);
        std::fs::write(&done, "finished the migration\n").unwrap();
        assert_eq!(
            read_sentinel(&done).as_deref(),
            Some("finished the migration")
        );
    }
}
