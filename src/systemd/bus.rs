//! A small hand-written D-Bus proxy for the systemd Manager calls and Unit/Service/Timer
//! properties agent-runner needs (after podlet: a few lines of proxy beat a generated crate).
//!
//! zbus 6 is async-only. [`Bus`] keeps one connection and wraps every call in [`zbus::block_on`],
//! so the rest of the crate stays synchronous. The connection goes to the system bus, the user's
//! session bus (`--user`), or — with `--host` — to a remote bus through `ssh HOST
//! systemd-stdio-bridge`, exactly the transport `systemctl -H` uses.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};

use zbus::OwnedObjectPath;
use zbus::OwnedVariant;

use crate::error::{Error, Result};
use crate::paths::Scope;

const DESTINATION: &str = "org.freedesktop.systemd1";
const UNIT_IFACE: &str = "org.freedesktop.systemd1.Unit";
const SERVICE_IFACE: &str = "org.freedesktop.systemd1.Service";
const TIMER_IFACE: &str = "org.freedesktop.systemd1.Timer";
const PATH_IFACE: &str = "org.freedesktop.systemd1.Path";

/// One row of `ListUnitsByPatterns`.
pub(crate) type ListedUnitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    OwnedObjectPath,
    u32,
    String,
    OwnedObjectPath,
);

/// `org.freedesktop.systemd1.Manager`, reduced to what we call.
#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
pub trait Manager {
    /// Reloads every unit file (`systemctl daemon-reload`).
    fn reload(&self) -> zbus::Result<()>;

    /// Enqueues a start job; returns the job's object path.
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    /// Enqueues a stop job.
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    /// Enqueues a restart job.
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    /// Sends a signal to the unit's processes (`who` = main, control or all).
    fn kill_unit(&self, name: &str, who: &str, signal: i32) -> zbus::Result<()>;

    /// Clears the failed state and the start-rate counter of a unit.
    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;

    /// `systemctl enable`: returns (carries_install_info, changes).
    fn enable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
        force: bool,
    ) -> zbus::Result<(bool, Vec<(String, String, String)>)>;

    /// `systemctl disable`: returns the changes.
    fn disable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
    ) -> zbus::Result<Vec<(String, String, String)>>;

    /// The object path of a loaded unit (fails with NoSuchUnit when it is not loaded).
    fn get_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    /// The object path of a unit, loading it from disk when needed.
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    /// Loaded units matching glob patterns, in any state when `states` is empty.
    fn list_units_by_patterns(
        &self,
        states: &[&str],
        patterns: &[&str],
    ) -> zbus::Result<Vec<ListedUnitRow>>;

    /// Asks the manager to send us its signals.
    fn subscribe(&self) -> zbus::Result<()>;

    /// A job finished: (id, job path, unit, result).
    #[zbus(signal)]
    fn job_removed(
        &self,
        id: u32,
        job: OwnedObjectPath,
        unit: String,
        result: String,
    ) -> zbus::Result<()>;

    /// The manager's version string, e.g. "252.38-1~deb12u1".
    #[zbus(property)]
    fn version(&self) -> zbus::Result<String>;
}

/// What a read command wants to know about one unit, in plain types.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct UnitInfo {
    /// The unit name.
    pub name: String,
    /// loaded, not-found, bad-setting, masked, …
    pub load_state: String,
    /// active, inactive, activating, deactivating, failed, reloading.
    pub active_state: String,
    /// The type-specific sub-state (running, dead, waiting, auto-restart, …).
    pub sub_state: String,
    /// The type-specific result of the last run (success, exit-code, start-limit-hit, …).
    pub result: String,
    /// The unit file's enablement state (enabled, disabled, static, indirect, …).
    pub unit_file_state: String,
    /// The unit file changed on disk since the last daemon-reload.
    pub need_daemon_reload: bool,
    /// The drop-ins systemd loaded for the unit.
    pub drop_in_paths: Vec<String>,
    /// The invocation ID of the current or last run (hex), when any.
    pub invocation_id: Option<String>,
    /// When the unit last entered the active state (µs since the epoch), 0 if never.
    pub active_enter_us: u64,
    /// When the unit last entered the inactive state (µs since the epoch), 0 if never.
    pub inactive_enter_us: u64,
    /// When the state last changed (µs since the epoch).
    pub state_change_us: u64,
    /// Services: the main process's exit status (or signal number).
    pub exec_main_status: Option<i32>,
    /// Services: how the main process ended (1 exited, 2 killed, 3 dumped).
    pub exec_main_code: Option<i32>,
    /// Services: the running main process, if any.
    pub main_pid: Option<u32>,
    /// Services: automatic restarts since the last manual start.
    pub n_restarts: Option<u32>,
    /// Timers: when the timer fires next (µs since the epoch), when scheduled.
    pub next_elapse_us: Option<u64>,
    /// Timers: when the timer last fired (µs since the epoch), when ever.
    pub last_trigger_us: Option<u64>,
}

impl UnitInfo {
    /// The unit is running or about to (`active`, `activating`, `reloading`).
    pub(crate) fn is_up(&self) -> bool {
        matches!(
            self.active_state.as_str(),
            "active" | "activating" | "reloading" | "deactivating"
        )
    }

    /// The unit is failed because its start limit was hit.
    pub(crate) fn start_limit_hit(&self) -> bool {
        self.result == "start-limit-hit"
    }
}

/// A unit as `ListUnitsByPatterns` reports it: name and states filled in, and where to ask more.
#[derive(Debug, Clone)]
pub(crate) struct ListedUnit {
    /// Name, load, active and sub state (the other fields are empty).
    pub info: UnitInfo,
    /// The unit's object path.
    pub path: OwnedObjectPath,
    /// `info` holds every field already (no further call needed).
    pub detailed: bool,
}

/// How a job ended (`JobRemoved`'s result string: done, failed, canceled, timeout, dependency, …).
#[derive(Debug, Clone)]
pub(crate) struct JobResult {
    /// The unit the job was for.
    pub unit: String,
    /// systemd's result word.
    pub result: String,
}

/// A connection to one systemd manager.
pub(crate) struct Bus {
    scope: Scope,
    host: Option<String>,
    conn: zbus::Connection,
    bridge: Option<Child>,
}

impl Drop for Bus {
    fn drop(&mut self) {
        if let Some(child) = &mut self.bridge {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Bus {
    /// Connects to the manager of `scope`, on `host` over SSH when one is given.
    pub(crate) fn connect(scope: Scope, host: Option<&str>) -> Result<Self> {
        match host {
            None => zbus::block_on(async {
                let conn = match scope {
                    Scope::System => zbus::Connection::system().await,
                    Scope::User => zbus::Connection::session().await,
                };
                conn.map(|conn| Self {
                    scope,
                    host: None,
                    conn,
                    bridge: None,
                })
                .map_err(|e| unreachable_error(scope, None, &e.to_string()))
            }),
            Some(host) => connect_ssh(scope, host),
        }
    }

    /// The scope this bus serves.
    pub(crate) fn scope(&self) -> Scope {
        self.scope
    }

    fn manager(&self) -> Result<ManagerProxy<'_>> {
        zbus::block_on(ManagerProxy::new(&self.conn)).map_err(|e| self.unreachable(&e))
    }

    fn unreachable(&self, err: &zbus::Error) -> Error {
        unreachable_error(self.scope, self.host.as_deref(), &err.to_string())
    }

    /// The manager's version string; the cheapest proof that systemd answers.
    pub(crate) fn version(&self) -> Result<String> {
        let manager = self.manager()?;
        zbus::block_on(manager.version()).map_err(|e| self.unreachable(&e))
    }

    /// `daemon-reload`.
    pub(crate) fn reload(&self) -> Result<()> {
        let manager = self.manager()?;
        zbus::block_on(manager.reload())
            .map_err(|e| call_error(self.scope, "reloading systemd", &e))
    }

    /// Everything [`UnitInfo`] holds about `unit`, loading the unit when systemd has not yet.
    pub(crate) fn unit(&self, unit: &str) -> Result<UnitInfo> {
        let manager = self.manager()?;
        zbus::block_on(async {
            let path = manager
                .load_unit(unit)
                .await
                .map_err(|e| call_error(self.scope, &format!("loading {unit}"), &e))?;
            self.unit_at(unit, &path).await
        })
    }

    /// The loaded units matching `patterns`, with their states and object paths (one call).
    pub(crate) fn list(&self, patterns: &[&str]) -> Result<Vec<ListedUnit>> {
        let manager = self.manager()?;
        let rows = zbus::block_on(manager.list_units_by_patterns(&[], patterns))
            .map_err(|e| call_error(self.scope, "listing units", &e))?;
        Ok(rows
            .into_iter()
            .map(|row| ListedUnit {
                info: UnitInfo {
                    name: row.0,
                    load_state: row.2,
                    active_state: row.3,
                    sub_state: row.4,
                    ..UnitInfo::default()
                },
                path: row.6,
                detailed: false,
            })
            .collect())
    }

    /// The full [`UnitInfo`] of a unit [`Bus::list`] returned (no LoadUnit round trip).
    pub(crate) fn listed_unit(&self, listed: &ListedUnit) -> Result<UnitInfo> {
        zbus::block_on(self.unit_at(&listed.info.name, &listed.path))
    }

    /// [`Bus::listed_unit`] for many units at once: every call is sent before the first reply is
    /// awaited, so N units cost about one round trip, not N.
    pub(crate) fn listed_units(&self, listed: &[&ListedUnit]) -> Result<Vec<UnitInfo>> {
        let mut pending: Vec<Pin<Box<dyn Future<Output = Result<UnitInfo>> + '_>>> = listed
            .iter()
            .map(|l| {
                Box::pin(self.unit_at(&l.info.name, &l.path))
                    as Pin<Box<dyn Future<Output = Result<UnitInfo>> + '_>>
            })
            .collect();
        let mut done: Vec<Option<Result<UnitInfo>>> = (0..pending.len()).map(|_| None).collect();
        zbus::block_on(std::future::poll_fn(|cx| {
            let mut all = true;
            for (slot, fut) in done.iter_mut().zip(pending.iter_mut()) {
                if slot.is_none() {
                    match fut.as_mut().poll(cx) {
                        std::task::Poll::Ready(r) => *slot = Some(r),
                        std::task::Poll::Pending => all = false,
                    }
                }
            }
            if all {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        }));
        done.into_iter()
            .map(|r| r.expect("every future completed"))
            .collect()
    }

    async fn unit_at(&self, unit: &str, path: &OwnedObjectPath) -> Result<UnitInfo> {
        let what = format!("reading {unit}");
        let props = self
            .get_all(path, UNIT_IFACE)
            .await
            .map_err(|e| call_error(self.scope, &what, &e))?;
        let mut info = UnitInfo {
            name: unit.to_string(),
            load_state: string(&props, "LoadState"),
            active_state: string(&props, "ActiveState"),
            sub_state: string(&props, "SubState"),
            unit_file_state: string(&props, "UnitFileState"),
            need_daemon_reload: props
                .get("NeedDaemonReload")
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(false),
            drop_in_paths: props
                .get("DropInPaths")
                .and_then(|v| Vec::<String>::try_from(v.clone()).ok())
                .unwrap_or_default(),
            invocation_id: props
                .get("InvocationID")
                .and_then(|v| Vec::<u8>::try_from(v.clone()).ok())
                .filter(|id| !id.is_empty())
                .map(|id| hex(&id)),
            active_enter_us: number(&props, "ActiveEnterTimestamp").unwrap_or(0),
            inactive_enter_us: number(&props, "InactiveEnterTimestamp").unwrap_or(0),
            state_change_us: number(&props, "StateChangeTimestamp").unwrap_or(0),
            ..UnitInfo::default()
        };
        if info.load_state != "loaded" {
            return Ok(info);
        }
        let kind_iface = match unit.rsplit('.').next() {
            Some("service") => SERVICE_IFACE,
            Some("timer") => TIMER_IFACE,
            Some("path") => PATH_IFACE,
            _ => return Ok(info),
        };
        let props = self
            .get_all(path, kind_iface)
            .await
            .map_err(|e| call_error(self.scope, &what, &e))?;
        info.result = string(&props, "Result");
        if kind_iface == SERVICE_IFACE {
            info.exec_main_status = props
                .get("ExecMainStatus")
                .and_then(|v| i32::try_from(v).ok());
            info.exec_main_code = props
                .get("ExecMainCode")
                .and_then(|v| i32::try_from(v).ok());
            info.main_pid = props
                .get("MainPID")
                .and_then(|v| u32::try_from(v).ok())
                .filter(|p| *p != 0);
            info.n_restarts = props.get("NRestarts").and_then(|v| u32::try_from(v).ok());
        } else if kind_iface == TIMER_IFACE {
            info.next_elapse_us =
                number(&props, "NextElapseUSecRealtime").filter(|t| *t != 0 && *t != u64::MAX);
            // A monotonic trigger (OnUnitInactiveSec=) is only given on the monotonic clock.
            let monotonic = number(&props, "NextElapseUSecMonotonic")
                .filter(|t| *t != 0 && *t != u64::MAX)
                .and_then(monotonic_to_realtime);
            info.next_elapse_us = match (info.next_elapse_us, monotonic) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            info.last_trigger_us = number(&props, "LastTriggerUSec").filter(|t| *t != 0);
        }
        Ok(info)
    }

    async fn get_all(
        &self,
        path: &OwnedObjectPath,
        iface: &str,
    ) -> zbus::Result<HashMap<String, OwnedVariant>> {
        let reply = self
            .conn
            .call_method(
                Some(DESTINATION),
                path.as_str(),
                Some("org.freedesktop.DBus.Properties"),
                "GetAll",
                &(iface,),
            )
            .await?;
        reply.body().deserialize()
    }

    /// Starts `unit` and waits for the job to finish.
    pub(crate) fn start(&self, unit: &str) -> Result<JobResult> {
        self.job(unit, JobKind::Start)
    }

    /// Stops `unit` and waits for the job to finish.
    pub(crate) fn stop(&self, unit: &str) -> Result<JobResult> {
        self.job(unit, JobKind::Stop)
    }

    /// Restarts `unit` and waits for the job to finish.
    pub(crate) fn restart(&self, unit: &str) -> Result<JobResult> {
        self.job(unit, JobKind::Restart)
    }

    /// Enqueues a stop job without waiting for it.
    pub(crate) fn stop_nowait(&self, unit: &str) -> Result<()> {
        let manager = self.manager()?;
        zbus::block_on(manager.stop_unit(unit, "replace"))
            .map(drop)
            .map_err(|e| call_error(self.scope, &format!("stopping {unit}"), &e))
    }

    /// Sends `signal` to every process of `unit`.
    pub(crate) fn kill(&self, unit: &str, signal: i32) -> Result<()> {
        let manager = self.manager()?;
        match zbus::block_on(manager.kill_unit(unit, "all", signal)) {
            Ok(()) => Ok(()),
            // Killing a unit with no processes is not an error for us.
            Err(e) if error_name(&e).is_some_and(|n| n.ends_with("NoSuchProcess")) => Ok(()),
            Err(e) => Err(call_error(self.scope, &format!("killing {unit}"), &e)),
        }
    }

    /// Clears the failed state (and start-limit counter) of `unit`; a unit that is not loaded or
    /// not failed is fine.
    pub(crate) fn reset_failed(&self, unit: &str) -> Result<()> {
        let manager = self.manager()?;
        match zbus::block_on(manager.reset_failed_unit(unit)) {
            Ok(()) => Ok(()),
            Err(e) if error_name(&e).is_some_and(|n| n.ends_with("NoSuchUnit")) => Ok(()),
            Err(e) => Err(call_error(
                self.scope,
                &format!("resetting the failed state of {unit}"),
                &e,
            )),
        }
    }

    /// `systemctl enable UNIT…`; returns the changes as "symlink DEST → SRC" lines.
    pub(crate) fn enable(&self, units: &[&str]) -> Result<Vec<String>> {
        let manager = self.manager()?;
        let (_, changes) = zbus::block_on(manager.enable_unit_files(units, false, false))
            .map_err(|e| call_error(self.scope, "enabling units", &e))?;
        Ok(describe_changes(&changes))
    }

    /// `systemctl disable UNIT…`; returns the changes.
    pub(crate) fn disable(&self, units: &[&str]) -> Result<Vec<String>> {
        let manager = self.manager()?;
        let changes = zbus::block_on(manager.disable_unit_files(units, false))
            .map_err(|e| call_error(self.scope, "disabling units", &e))?;
        Ok(describe_changes(&changes))
    }

    /// Enqueues a job and waits for its `JobRemoved` signal. The subscription is made before
    /// the job exists, so a job that finishes at once is not missed.
    fn job(&self, unit: &str, kind: JobKind) -> Result<JobResult> {
        let manager = self.manager()?;
        let verb = match kind {
            JobKind::Start => "starting",
            JobKind::Stop => "stopping",
            JobKind::Restart => "restarting",
        };
        let what = format!("{verb} {unit}");
        let failed = |e: zbus::Error| call_error(self.scope, &what, &e);
        zbus::block_on(async {
            match manager.subscribe().await {
                Err(e) if error_name(&e).is_some_and(|n| n.ends_with("AlreadySubscribed")) => {}
                other => other.map_err(failed)?,
            }
            let mut removed = manager.receive_job_removed().await.map_err(failed)?;
            let job = match kind {
                JobKind::Start => manager.start_unit(unit, "replace").await,
                JobKind::Stop => manager.stop_unit(unit, "replace").await,
                JobKind::Restart => manager.restart_unit(unit, "replace").await,
            }
            .map_err(failed)?;
            loop {
                let next = std::future::poll_fn(|cx| {
                    futures_core::Stream::poll_next(Pin::new(&mut removed), cx)
                })
                .await;
                let Some(signal) = next else {
                    return Err(unreachable_error(
                        self.scope,
                        self.host.as_deref(),
                        "the bus connection closed while waiting for a job",
                    ));
                };
                let Ok(args) = signal.args() else { continue };
                if args.job.as_str() == job.as_str() {
                    return Ok(JobResult {
                        unit: args.unit.clone(),
                        result: args.result.clone(),
                    });
                }
            }
        })
    }
}

#[derive(Clone, Copy)]
enum JobKind {
    Start,
    Stop,
    Restart,
}

fn describe_changes(changes: &[(String, String, String)]) -> Vec<String> {
    changes
        .iter()
        .map(|(kind, dest, src)| match kind.as_str() {
            "symlink" => format!("created symlink {dest} → {src}"),
            "unlink" => format!("removed {dest}"),
            other => format!("{other} {dest} {src}"),
        })
        .collect()
}

fn string(props: &HashMap<String, OwnedVariant>, key: &str) -> String {
    props
        .get(key)
        .and_then(|v| String::try_from(&**v).ok())
        .unwrap_or_default()
}

fn number(props: &HashMap<String, OwnedVariant>, key: &str) -> Option<u64> {
    props.get(key).and_then(|v| u64::try_from(v).ok())
}

/// A CLOCK_MONOTONIC time (µs) as µs since the epoch.
fn monotonic_to_realtime(mono_us: u64) -> Option<u64> {
    use nix::time::{ClockId, clock_gettime};
    let to_us = |t: nix::sys::time::TimeSpec| {
        u64::try_from(t.tv_sec())
            .ok()?
            .checked_mul(1_000_000)?
            .checked_add(u64::try_from(t.tv_nsec() / 1000).ok()?)
    };
    let now_mono = to_us(clock_gettime(ClockId::CLOCK_MONOTONIC).ok()?)?;
    let now_real = to_us(clock_gettime(ClockId::CLOCK_REALTIME).ok()?)?;
    Some(now_real.saturating_add(mono_us).saturating_sub(now_mono))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn error_name(err: &zbus::Error) -> Option<String> {
    match err {
        zbus::Error::MethodError(name, _, _) => Some(name.as_str().to_string()),
        // Errors of the org.freedesktop.DBus namespace arrive already decoded.
        zbus::Error::FDO(e) => {
            let text = e.to_string();
            Some(text.split(':').next().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

/// The program `--host` runs to reach a remote machine: `$AGENT_RUNNER_SSH` or `ssh`.
pub(crate) fn ssh_program() -> String {
    std::env::var("AGENT_RUNNER_SSH")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "ssh".into())
}

/// Checks a `--host` value: `[USER@]HOST`, nothing ssh could read as an option.
pub(crate) fn validate_host(host: &str) -> Result<()> {
    let ok = !host.is_empty()
        && !host.starts_with('-')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._-:[]%".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid --host {host:?}: expected [USER@]HOST"
        )))
    }
}

/// `ssh -xT HOST systemd-stdio-bridge [--user]` with its stdio on one end of a socket pair, the
/// other end carrying our D-Bus connection (what sd-bus's `unixexec:` transport does).
fn connect_ssh(scope: Scope, host: &str) -> Result<Bus> {
    validate_host(host)?;
    let fail = |msg: String| unreachable_error(scope, Some(host), &msg);
    let (ours, theirs) = UnixStream::pair().map_err(|e| fail(e.to_string()))?;
    let theirs_out: OwnedFd = theirs.try_clone().map_err(|e| fail(e.to_string()))?.into();
    let mut command = Command::new(ssh_program());
    command.args(["-xT", "--", host, "systemd-stdio-bridge"]);
    if scope == Scope::User {
        command.arg("--user");
    }
    let child = command
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::from(theirs_out))
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", ssh_program())))?;
    // The command still holds the child's ends of the socket pair: without closing them, a
    // dead ssh would never look like an EOF to the handshake.
    drop(command);
    let mut bus = Bus {
        scope,
        host: Some(host.to_string()),
        conn: zbus::block_on(async {
            // The bridge speaks D-Bus as a server on its stdio: its peer credentials are an ssh
            // pipe, so EXTERNAL cannot work and it offers ANONYMOUS, as sd-bus expects.
            zbus::connection::Builder::unix_stream(ours)
                .auth_mechanism(zbus::connection::AuthMechanism::Anonymous)
                .build()
                .await
        })
        .map_err(|e| fail(e.to_string()))?,
        bridge: Some(child),
    };
    bus.host = Some(host.to_string());
    Ok(bus)
}

/// The error for a manager that cannot be reached (exit 69).
pub(crate) fn unreachable_error(scope: Scope, host: Option<&str>, detail: &str) -> Error {
    let which = match scope {
        Scope::System => "the system manager (systemd on the system bus)",
        Scope::User => "your user manager (systemd --user on the session bus)",
    };
    let on = host.map(|h| format!(" on {h}")).unwrap_or_default();
    let hint = match (scope, host) {
        (_, Some(_)) => {
            "check that `ssh HOST systemd-stdio-bridge` works (key-based login, systemd installed there)"
        }
        (Scope::System, None) => {
            "is systemd running here (PID 1)? --user reaches your own manager, --host another machine"
        }
        (Scope::User, None) => {
            "log in as that user, or run `loginctl enable-linger USER` so the user manager runs"
        }
    };
    Error::Unavailable(format!(
        "cannot reach {which}{on}: {detail}\n  hint: {hint}"
    ))
}

/// Maps a failed call to an operator-facing error.
pub(crate) fn call_error(scope: Scope, what: &str, err: &zbus::Error) -> Error {
    if let Some(name) = error_name(err).as_deref() {
        if name == "org.freedesktop.DBus.Error.AccessDenied"
            || name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
        {
            let hint = match scope {
                Scope::System => "run it with sudo, or use --user for your own manager",
                Scope::User => "check that the user manager belongs to you",
            };
            return Error::Failed(format!("{what}: permission denied\n  hint: {hint}"));
        }
        if name.starts_with("org.freedesktop.DBus.Error.ServiceUnknown")
            || name.starts_with("org.freedesktop.DBus.Error.NoReply")
            || name.starts_with("org.freedesktop.DBus.Error.Disconnected")
        {
            return unreachable_error(scope, None, &err.to_string());
        }
    }
    if matches!(err, zbus::Error::InputOutput(_)) {
        return unreachable_error(scope, None, &err.to_string());
    }
    Error::Failed(format!("{what}: {err}"))
}

/// `daemon-reload` over D-Bus.
pub(crate) fn reload(scope: Scope) -> Result<()> {
    Bus::connect(scope, None)?.reload()
}

/// The running manager's major version.
pub(crate) fn manager_version(scope: Scope) -> Result<u32> {
    let version = Bus::connect(scope, None)?.version()?;
    crate::systemd::version::parse_major(&version)
        .ok_or_else(|| Error::Failed(format!("cannot understand systemd version {version:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_are_checked() {
        assert!(validate_host("alice@build-1.example").is_ok());
        assert!(validate_host("-oProxyCommand=x").is_err());
        assert!(validate_host("a b").is_err());
        assert!(validate_host("").is_err());
    }

    #[test]
    fn unreachable_is_exit_69() {
        let e = unreachable_error(Scope::System, None, "No such file");
        assert_eq!(e.exit_code(), crate::error::exit::UNAVAILABLE);
        assert_eq!(e.to_string().lines().count(), 2);
    }
}
