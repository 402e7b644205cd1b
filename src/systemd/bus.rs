//! The one D-Bus client of agent-runner: every call to a systemd manager goes through [`Bus`].
//!
//! zbus 6 is async-only. [`Bus`] keeps one connection and wraps every call in [`zbus::block_on`],
//! so the rest of the crate stays synchronous. The connection goes to the system bus, the user's
//! session bus (`--user`), or — with `--host` — to a remote bus through `ssh HOST
//! systemd-stdio-bridge` ([`crate::systemd::host`]).

use std::pin::Pin;
use std::process::Child;
use std::time::Duration;

use zbus::{OwnedObjectPath, Variant};

use crate::error::{Error, Result};
use crate::paths::Scope;
use crate::systemd::errors::{call_error, error_name, unreachable_error};
use crate::systemd::proxy::{
    self, ManagerProxy, PATH_IFACE, SERVICE_IFACE, TIMER_IFACE, UNIT_IFACE, UnitFileChange,
};
pub(crate) use crate::systemd::unit_info::{ListedUnit, UnitInfo};

/// The most calls [`Bus::listed_units`] leaves unanswered at once: dbus-daemon refuses a
/// connection more than `max_replies_per_connection` pending calls (128 on a stock system bus),
/// and with 200 projects a status would ask about 400 units.
const MAX_CALLS_IN_FLIGHT: usize = 64;

/// How a job ended (`JobRemoved`'s result string: done, failed, canceled, timeout, dependency, …).
#[derive(Debug, Clone)]
pub(crate) struct JobResult {
    /// The unit the job was for.
    pub unit: String,
    /// systemd's result word.
    pub result: String,
}

/// A transient timer that fires once and starts its transient service; both are `PartOf=`
/// another unit, so stopping that unit removes them too.
pub(crate) struct TransientTimer<'a> {
    /// The timer's name.
    pub timer: &'a str,
    /// The service it starts.
    pub service: &'a str,
    /// `Description=` of both.
    pub description: &'a str,
    /// When the timer fires, from now.
    pub fires_in: Duration,
    /// The unit both are part of.
    pub part_of: &'a str,
    /// The service's command line (the program first, as an absolute path).
    pub exec_start: &'a [String],
}

/// A connection to one systemd manager.
pub(crate) struct Bus {
    scope: Scope,
    host: Option<String>,
    conn: zbus::Connection,
    manager: ManagerProxy<'static>,
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
        let (conn, bridge) = match host {
            None => zbus::block_on(async {
                match scope {
                    Scope::System => zbus::Connection::system().await,
                    Scope::User => zbus::Connection::session().await,
                }
            })
            .map(|conn| (conn, None))
            .map_err(|e| unreachable_error(scope, None, &e.to_string()))?,
            Some(host) => crate::systemd::host::connect_bridge(scope, host)
                .map(|(conn, child)| (conn, Some(child)))?,
        };
        Self::over(scope, host, conn, bridge)
    }

    /// A client on an established connection (and the bridge process carrying it, if any).
    fn over(
        scope: Scope,
        host: Option<&str>,
        conn: zbus::Connection,
        bridge: Option<Child>,
    ) -> Result<Self> {
        // No property cache: it would cost a match rule and a GetAll of the whole manager for
        // the one property (Version) we read.
        let manager = zbus::block_on(
            ManagerProxy::builder(&conn)
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build(),
        )
        .map_err(|e| unreachable_error(scope, host, &e.to_string()))?;
        Ok(Self {
            scope,
            host: host.map(str::to_string),
            conn,
            manager,
            bridge,
        })
    }

    /// The scope this bus serves.
    pub(crate) fn scope(&self) -> Scope {
        self.scope
    }

    fn unreachable(&self, err: &zbus::Error) -> Error {
        unreachable_error(self.scope, self.host.as_deref(), &err.to_string())
    }

    /// The manager's version string; the cheapest proof that systemd answers.
    pub(crate) fn version(&self) -> Result<String> {
        zbus::block_on(self.manager.version()).map_err(|e| self.unreachable(&e))
    }

    /// `daemon-reload`.
    pub(crate) fn reload(&self) -> Result<()> {
        zbus::block_on(self.manager.reload())
            .map_err(|e| call_error(self.scope, "reloading systemd", &e))
    }

    /// Everything [`UnitInfo`] holds about `unit`, loading the unit when systemd has not yet.
    pub(crate) fn unit(&self, unit: &str) -> Result<UnitInfo> {
        zbus::block_on(async {
            let path = self.load(unit).await?;
            self.unit_at(unit, &path).await
        })
    }

    /// The `ActiveState` of `unit`, and whether a job is queued for it.
    pub(crate) fn activity(&self, unit: &str) -> Result<(String, bool)> {
        zbus::block_on(async {
            let path = self.load(unit).await?;
            let what = format!("reading {unit}");
            let object = proxy::unit_object(&self.conn, &path)
                .await
                .map_err(|e| call_error(self.scope, &what, &e))?;
            let props = object
                .unit_properties(UNIT_IFACE)
                .await
                .map_err(|e| call_error(self.scope, &what, &e))?;
            let queued = props.job.is_some_and(|(id, _)| id != 0);
            Ok((props.active_state.unwrap_or_default(), queued))
        })
    }

    async fn load(&self, unit: &str) -> Result<OwnedObjectPath> {
        self.manager
            .load_unit(unit)
            .await
            .map_err(|e| call_error(self.scope, &format!("loading {unit}"), &e))
    }

    /// The loaded units matching `patterns`, with their states and object paths (one call).
    pub(crate) fn list(&self, patterns: &[&str]) -> Result<Vec<ListedUnit>> {
        let rows = zbus::block_on(self.manager.list_units_by_patterns(&[], patterns))
            .map_err(|e| call_error(self.scope, "listing units", &e))?;
        Ok(rows.into_iter().map(ListedUnit::from_row).collect())
    }

    /// The full [`UnitInfo`] of a unit [`Bus::list`] returned (no LoadUnit round trip).
    pub(crate) fn listed_unit(&self, listed: &ListedUnit) -> Result<UnitInfo> {
        zbus::block_on(self.unit_at(&listed.info.name, &listed.path))
    }

    /// [`Bus::listed_unit`] for many units at once: the calls of up to
    /// [`MAX_CALLS_IN_FLIGHT`] units are sent before the first reply is awaited, so N units cost
    /// about N / that many round trips, not N.
    pub(crate) fn listed_units(&self, listed: &[&ListedUnit]) -> Result<Vec<UnitInfo>> {
        let mut infos = Vec::with_capacity(listed.len());
        for batch in listed.chunks(MAX_CALLS_IN_FLIGHT) {
            infos.extend(self.listed_units_at_once(batch)?);
        }
        Ok(infos)
    }

    /// Every unit of `listed` read concurrently (one call of each pending at a time).
    fn listed_units_at_once(&self, listed: &[&ListedUnit]) -> Result<Vec<UnitInfo>> {
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

    /// One GetAll of the Unit interface, and for a loaded service, timer or path unit one of
    /// its type's interface.
    async fn unit_at(&self, unit: &str, path: &OwnedObjectPath) -> Result<UnitInfo> {
        let what = format!("reading {unit}");
        let failed = |e: zbus::Error| call_error(self.scope, &what, &e);
        let object = proxy::unit_object(&self.conn, path).await.map_err(failed)?;
        let props = object.unit_properties(UNIT_IFACE).await.map_err(failed)?;
        let mut info = UnitInfo::from_unit(unit, props);
        if info.load_state != "loaded" {
            return Ok(info);
        }
        match unit.rsplit('.').next() {
            Some("service") => {
                info.add_service(
                    object
                        .service_properties(SERVICE_IFACE)
                        .await
                        .map_err(failed)?,
                );
            }
            Some("timer") => {
                info.add_timer(object.timer_properties(TIMER_IFACE).await.map_err(failed)?);
            }
            Some("path") => {
                info.add_path(object.path_properties(PATH_IFACE).await.map_err(failed)?);
            }
            _ => {}
        }
        Ok(info)
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

    /// Enqueues a start job without waiting for it.
    pub(crate) fn start_nowait(&self, unit: &str) -> Result<()> {
        zbus::block_on(self.manager.start_unit(unit, "replace"))
            .map(drop)
            .map_err(|e| call_error(self.scope, &format!("starting {unit}"), &e))
    }

    /// Enqueues a stop job without waiting for it.
    pub(crate) fn stop_nowait(&self, unit: &str) -> Result<()> {
        zbus::block_on(self.manager.stop_unit(unit, "replace"))
            .map(drop)
            .map_err(|e| call_error(self.scope, &format!("stopping {unit}"), &e))
    }

    /// Sends `signal` to every process of `unit`.
    pub(crate) fn kill(&self, unit: &str, signal: i32) -> Result<()> {
        match zbus::block_on(self.manager.kill_unit(unit, "all", signal)) {
            Ok(()) => Ok(()),
            // Killing a unit with no processes is not an error for us.
            Err(e) if error_name(&e).is_some_and(|n| n.ends_with("NoSuchProcess")) => Ok(()),
            Err(e) => Err(call_error(self.scope, &format!("killing {unit}"), &e)),
        }
    }

    /// Clears the failed state (and start-limit counter) of `unit`; a unit that is not loaded or
    /// not failed is fine.
    pub(crate) fn reset_failed(&self, unit: &str) -> Result<()> {
        match zbus::block_on(self.manager.reset_failed_unit(unit)) {
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
        let (_, changes) = zbus::block_on(self.manager.enable_unit_files(units, false, false))
            .map_err(|e| call_error(self.scope, "enabling units", &e))?;
        Ok(describe_changes(&changes))
    }

    /// `systemctl disable UNIT…`; returns the changes.
    pub(crate) fn disable(&self, units: &[&str]) -> Result<Vec<String>> {
        let changes = zbus::block_on(self.manager.disable_unit_files(units, false))
            .map_err(|e| call_error(self.scope, "disabling units", &e))?;
        Ok(describe_changes(&changes))
    }

    /// Creates and starts `spec`'s timer and service.
    pub(crate) fn start_transient_timer(&self, spec: &TransientTimer<'_>) -> Result<()> {
        let usec = u64::try_from(spec.fires_in.as_micros()).unwrap_or(u64::MAX);
        let timer_props = [
            ("Description", Variant::from(spec.description)),
            ("OnActiveSec", Variant::from(usec)),
            ("AccuracySec", Variant::from(100_000_u64)),
            ("RemainAfterElapse", Variant::from(false)),
            ("PartOf", Variant::from(vec![spec.part_of])),
        ];
        let program = spec.exec_start.first().cloned().unwrap_or_default();
        let service_props = vec![
            ("Description", Variant::from(spec.description)),
            (
                "ExecStart",
                Variant::from(vec![(program, spec.exec_start.to_vec(), false)]),
            ),
            ("PartOf", Variant::from(vec![spec.part_of])),
        ];
        let aux = [(spec.service, service_props)];
        // A unit of the same name that was just stopped may linger until the manager collects it.
        let mut attempt = 0;
        loop {
            let started = zbus::block_on(self.manager.start_transient_unit(
                spec.timer,
                "replace",
                &timer_props,
                &aux,
            ));
            match started {
                Ok(_) => return Ok(()),
                Err(zbus::Error::MethodError(e, _, _))
                    if e.as_str() == "org.freedesktop.systemd1.UnitExists" && attempt < 20 =>
                {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(call_error(
                        self.scope,
                        &format!("starting {}", spec.timer),
                        &e,
                    ));
                }
            }
        }
    }

    /// Enqueues a job and waits for its `JobRemoved` signal. The subscription is made before
    /// the job exists, so a job that finishes at once is not missed.
    fn job(&self, unit: &str, kind: JobKind) -> Result<JobResult> {
        let manager = &self.manager;
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

fn describe_changes(changes: &[UnitFileChange]) -> Vec<String> {
    changes
        .iter()
        .map(|change| {
            let (dest, src) = (&change.destination, &change.source);
            match change.kind.as_str() {
                "symlink" => format!("created symlink {dest} → {src}"),
                "unlink" => format!("removed {dest}"),
                other => format!("{other} {dest} {src}"),
            }
        })
        .collect()
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
mod tests;
