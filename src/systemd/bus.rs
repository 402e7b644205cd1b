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
use crate::systemd::concurrent::both;
use crate::systemd::errors::{call_error, error_name, unreachable_error};
use crate::systemd::proxy::{
    self, ManagerProxy, PATH_IFACE, SERVICE_IFACE, TIMER_IFACE, UNIT_IFACE, UnitFileChange,
    UnitObjectProxy,
};
pub(crate) use crate::systemd::unit_info::{ListedUnit, UnitInfo};

/// The most units [`Bus::listed_units`] reads at once: dbus-daemon refuses a connection more
/// than `max_replies_per_connection` pending calls (128 on a stock system bus), a service has six
/// pending at once, and with 200 projects a status asks about 400 units.
const MAX_UNITS_IN_FLIGHT: usize = 16;

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
            if let Some(info) = self.pinned_unit(unit).await? {
                return Ok(info);
            }
            let path = self.load(unit).await?;
            self.unit_at(unit, &path, false).await
        })
    }

    /// [`Bus::unit`] with the unit pinned while it is read, or `None` where this client may not
    /// pin it. systemd collects a unit that nothing references after each call and loads it from
    /// disk again for the next (about 8 ms each beside 200 projects): pinned, it is loaded once
    /// and every property is asked at once. Pinning takes the right to manage units: root, or
    /// the owner of a user manager; any other caller would only add a refused call.
    async fn pinned_unit(&self, unit: &str) -> Result<Option<UnitInfo>> {
        if self.host.is_none()
            && self.scope == Scope::System
            && !nix::unistd::Uid::effective().is_root()
        {
            return Ok(None);
        }
        let Ok(path) = proxy::unit_path(unit) else {
            return Ok(None);
        };
        if proxy::pin_unit(&self.conn, &path, true).await.is_err() {
            return Ok(None);
        }
        let info = self.unit_at(unit, &path, true).await;
        // Released anyway when this connection closes.
        let _ = proxy::pin_unit(&self.conn, &path, false).await;
        info.map(Some)
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
        zbus::block_on(self.unit_at(&listed.info.name, &listed.path, is_loaded(listed)))
    }

    /// [`Bus::listed_unit`] for many units at once: up to [`MAX_UNITS_IN_FLIGHT`] units are read
    /// concurrently, and each one answered makes room for the next, so N units cost about N /
    /// that many round trips, not N.
    pub(crate) fn listed_units(&self, listed: &[&ListedUnit]) -> Result<Vec<UnitInfo>> {
        type Reading<'b> = Pin<Box<dyn Future<Output = Result<UnitInfo>> + 'b>>;
        let mut waiting = listed.iter().enumerate();
        let mut reading: Vec<(usize, Reading<'_>)> = Vec::new();
        let mut done: Vec<Option<Result<UnitInfo>>> = (0..listed.len()).map(|_| None).collect();
        zbus::block_on(std::future::poll_fn(|cx| {
            loop {
                while reading.len() < MAX_UNITS_IN_FLIGHT
                    && let Some((i, l)) = waiting.next()
                {
                    reading.push((
                        i,
                        Box::pin(self.unit_at(&l.info.name, &l.path, is_loaded(l))),
                    ));
                }
                if reading.is_empty() {
                    return std::task::Poll::Ready(());
                }
                let before = reading.len();
                reading.retain_mut(|(i, fut)| match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(r) => {
                        done[*i] = Some(r);
                        false
                    }
                    std::task::Poll::Pending => true,
                });
                // Nothing answered: wait for a wake-up; else fill the room made at once.
                if reading.len() == before {
                    return std::task::Poll::Pending;
                }
            }
        }));
        done.into_iter()
            .map(|r| r.expect("every unit was read"))
            .collect()
    }

    /// One GetAll of the Unit interface, and for a loaded unit its type's properties (see
    /// [`typed_properties`]). A unit the listing showed loaded (`listed_loaded`) has all its calls
    /// sent at once; for another, its type's wait for the first to tell whether it is loaded.
    async fn unit_at(
        &self,
        unit: &str,
        path: &OwnedObjectPath,
        listed_loaded: bool,
    ) -> Result<UnitInfo> {
        let what = format!("reading {unit}");
        let failed = |e: zbus::Error| call_error(self.scope, &what, &e);
        let object = proxy::unit_object(&self.conn, path).await.map_err(failed)?;
        let (props, typed) = if listed_loaded {
            let (props, typed) = both(
                object.unit_properties(UNIT_IFACE),
                typed_properties(&object, unit, true),
            )
            .await;
            (props, Some(typed))
        } else {
            (object.unit_properties(UNIT_IFACE).await, None)
        };
        let mut info = UnitInfo::from_unit(unit, props.map_err(failed)?);
        if info.load_state != "loaded" {
            return Ok(info);
        }
        let typed = match typed {
            Some(typed) => typed,
            None => typed_properties(&object, unit, false).await,
        };
        match typed.map_err(failed)? {
            Typed::Service(p) => info.add_service(p),
            Typed::Timer(p) => info.add_timer(p),
            Typed::Path(p) => info.add_path(p),
            Typed::Other => {}
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

    /// Cancels the start jobs of `unit` that still wait in the manager's queue (a round timed to
    /// start while the step after the previous one runs waits for it); stop jobs stay. A job that
    /// ran or went meanwhile is not an error.
    pub(crate) fn cancel_queued_start(&self, unit: &str) -> Result<()> {
        let what = format!("cancelling the start of {unit}");
        let jobs = zbus::block_on(self.manager.list_jobs())
            .map_err(|e| call_error(self.scope, &what, &e))?;
        for (id, _, _, _, _, _) in jobs
            .iter()
            .filter(|(_, name, kind, _, _, _)| name == unit && kind == "start")
        {
            match zbus::block_on(self.manager.cancel_job(*id)) {
                Err(e) if !error_name(&e).is_some_and(|n| n.ends_with("NoSuchJob")) => {
                    return Err(call_error(self.scope, &what, &e));
                }
                _ => {}
            }
        }
        Ok(())
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

/// The properties of a unit's own type.
enum Typed {
    Service(proxy::ServiceProperties),
    Timer(proxy::TimerProperties),
    Path(proxy::PathProperties),
    /// A type whose own properties nothing reads.
    Other,
}

/// The properties of `unit`'s type (told by its name's suffix) from `object`; a service's one by
/// one when it is known to stay loaded (`listed_loaded`), else in one call.
async fn typed_properties(
    object: &UnitObjectProxy<'_>,
    unit: &str,
    listed_loaded: bool,
) -> zbus::Result<Typed> {
    Ok(match unit.rsplit('.').next() {
        Some("service") if listed_loaded => {
            Typed::Service(proxy::few_service_properties(object).await?)
        }
        Some("service") => Typed::Service(object.service_properties(SERVICE_IFACE).await?),
        Some("timer") => Typed::Timer(object.timer_properties(TIMER_IFACE).await?),
        Some("path") => Typed::Path(object.path_properties(PATH_IFACE).await?),
        _ => Typed::Other,
    })
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

/// The listing showed `listed` loaded, so its type's properties can be asked with the rest.
fn is_loaded(listed: &ListedUnit) -> bool {
    listed.info.load_state == "loaded"
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
