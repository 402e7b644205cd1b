//! The D-Bus interfaces of systemd that agent-runner calls, as typed proxies (after podlet: a few
//! lines of proxy beat a generated crate). One `#[proxy]` per interface, in this file only;
//! [`crate::systemd::bus::Bus`] is the client the rest of the crate uses.
//!
//! Unit properties are read with one `GetAll` per interface, decoded straight into the typed
//! sets below, where a property-caching proxy would add a match rule and its removal around each;
//! a loaded service's few properties are read one `Get` each instead (see [`service_properties`]).

use zbus::{DeserializeDict, OwnedObjectPath, OwnedVariant, Type, Variant};

use crate::systemd::concurrent::{Pending, all};

/// The interface every unit object has.
pub(crate) const UNIT_IFACE: &str = "org.freedesktop.systemd1.Unit";
/// The interface of service units.
pub(crate) const SERVICE_IFACE: &str = "org.freedesktop.systemd1.Service";
/// The interface of timer units.
pub(crate) const TIMER_IFACE: &str = "org.freedesktop.systemd1.Timer";
/// The interface of path units.
pub(crate) const PATH_IFACE: &str = "org.freedesktop.systemd1.Path";

/// One row of `ListUnitsByPatterns`.
#[derive(Debug, serde::Deserialize, Type)]
#[allow(
    dead_code,
    reason = "the row is decoded by position: every field of the wire signature is here, read or not"
)]
pub(crate) struct ListedUnitRow {
    /// The unit name.
    pub name: String,
    /// Its `Description=`.
    pub description: String,
    /// loaded, not-found, …
    pub load_state: String,
    /// active, inactive, …
    pub active_state: String,
    /// The type-specific sub-state.
    pub sub_state: String,
    /// The unit this one follows, if any.
    pub following: String,
    /// The unit's object path.
    pub path: OwnedObjectPath,
    /// The queued job's id, 0 if none.
    pub job_id: u32,
    /// The queued job's type.
    pub job_type: String,
    /// The queued job's object path.
    pub job_path: OwnedObjectPath,
}

/// One change `EnableUnitFiles`/`DisableUnitFiles` made.
#[derive(Debug, serde::Deserialize, Type)]
pub(crate) struct UnitFileChange {
    /// symlink, unlink, …
    pub kind: String,
    /// The file changed.
    pub destination: String,
    /// What a symlink points to.
    pub source: String,
}

/// A row of `ListJobs`: (id, unit, job type, job state, job path, unit path).
pub(crate) type JobRow = (
    u32,
    String,
    String,
    String,
    OwnedObjectPath,
    OwnedObjectPath,
);

/// A property of a transient unit: (name, value).
pub(crate) type TransientProperty<'a> = (&'a str, Variant<'a>);

/// `org.freedesktop.systemd1.Manager`, reduced to what we call.
#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
pub(crate) trait Manager {
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
    ) -> zbus::Result<(bool, Vec<UnitFileChange>)>;

    /// `systemctl disable`: returns the changes.
    fn disable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
    ) -> zbus::Result<Vec<UnitFileChange>>;

    /// The object path of a unit, loading it from disk when needed.
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    /// Loaded units matching glob patterns, in any state when `states` is empty.
    fn list_units_by_patterns(
        &self,
        states: &[&str],
        patterns: &[&str],
    ) -> zbus::Result<Vec<ListedUnitRow>>;

    /// Creates and starts a unit that exists only at runtime, with its auxiliary units.
    fn start_transient_unit(
        &self,
        name: &str,
        mode: &str,
        properties: &[TransientProperty<'_>],
        aux: &[(&str, Vec<TransientProperty<'_>>)],
    ) -> zbus::Result<OwnedObjectPath>;

    /// The jobs in the manager's queue.
    fn list_jobs(&self) -> zbus::Result<Vec<JobRow>>;

    /// Cancels a queued job by its id.
    fn cancel_job(&self, id: u32) -> zbus::Result<()>;

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

/// `org.freedesktop.DBus.Properties` of a unit object, with `GetAll` typed per interface: pass
/// the matching `*_IFACE` constant.
#[zbus::proxy(
    interface = "org.freedesktop.DBus.Properties",
    default_service = "org.freedesktop.systemd1"
)]
pub(crate) trait UnitObject {
    /// `GetAll(UNIT_IFACE)`.
    #[zbus(name = "GetAll")]
    fn unit_properties(&self, interface: &str) -> zbus::Result<UnitProperties>;

    /// `GetAll(SERVICE_IFACE)`.
    #[zbus(name = "GetAll")]
    fn service_properties(&self, interface: &str) -> zbus::Result<ServiceProperties>;

    /// `GetAll(TIMER_IFACE)`.
    #[zbus(name = "GetAll")]
    fn timer_properties(&self, interface: &str) -> zbus::Result<TimerProperties>;

    /// `GetAll(PATH_IFACE)`.
    #[zbus(name = "GetAll")]
    fn path_properties(&self, interface: &str) -> zbus::Result<PathProperties>;

    /// `Get(interface, name)`: one property.
    #[zbus(name = "Get")]
    fn property(&self, interface: &str, name: &str) -> zbus::Result<OwnedVariant>;
}

/// The object path systemd gives `unit`, as `systemctl show` computes it: every byte other than
/// an ASCII letter or digit (and a leading digit) as `_` and two hex digits.
pub(crate) fn unit_path(unit: &str) -> zbus::Result<OwnedObjectPath> {
    use std::fmt::Write as _;
    let mut path = String::from("/org/freedesktop/systemd1/unit/");
    if unit.is_empty() {
        path.push('_');
    }
    for (i, byte) in unit.bytes().enumerate() {
        if byte.is_ascii_alphabetic() || (byte.is_ascii_digit() && i > 0) {
            path.push(char::from(byte));
        } else {
            let _ = write!(path, "_{byte:02x}");
        }
    }
    OwnedObjectPath::try_from(path)
}

/// The `org.freedesktop.systemd1.Unit` properties we read (every unit has them).
#[derive(Debug, Default, DeserializeDict, Type)]
#[zbus(signature = "a{sv}", rename_all = "PascalCase")]
pub(crate) struct UnitProperties {
    /// loaded, not-found, bad-setting, masked, …
    pub load_state: Option<String>,
    /// active, inactive, activating, deactivating, failed, reloading.
    pub active_state: Option<String>,
    /// The type-specific sub-state.
    pub sub_state: Option<String>,
    /// The unit file's enablement state.
    pub unit_file_state: Option<String>,
    /// The unit file changed on disk since the last daemon-reload.
    pub need_daemon_reload: Option<bool>,
    /// The drop-ins systemd loaded for the unit.
    pub drop_in_paths: Option<Vec<String>>,
    /// The invocation ID of the current or last run (16 bytes, empty if none).
    #[zbus(rename = "InvocationID")]
    pub invocation_id: Option<Vec<u8>>,
    /// µs since the epoch.
    pub active_enter_timestamp: Option<u64>,
    /// µs since the epoch.
    pub inactive_enter_timestamp: Option<u64>,
    /// µs since the epoch.
    pub state_change_timestamp: Option<u64>,
    /// The queued job: (id, path), id 0 when none.
    pub job: Option<(u32, OwnedObjectPath)>,
}

/// The `org.freedesktop.systemd1.Service` properties we read.
#[derive(Debug, Default, DeserializeDict, Type)]
#[zbus(signature = "a{sv}", rename_all = "PascalCase")]
pub(crate) struct ServiceProperties {
    /// success, exit-code, start-limit-hit, …
    pub result: Option<String>,
    /// The main process's exit status (or signal number).
    pub exec_main_status: Option<i32>,
    /// How the main process ended (1 exited, 2 killed, 3 dumped).
    pub exec_main_code: Option<i32>,
    /// The running main process, 0 if none.
    #[zbus(rename = "MainPID")]
    pub main_pid: Option<u32>,
    /// Automatic restarts since the last manual start.
    #[zbus(rename = "NRestarts")]
    pub n_restarts: Option<u32>,
}

/// The `org.freedesktop.systemd1.Timer` properties we read.
#[derive(Debug, Default, DeserializeDict, Type)]
#[zbus(signature = "a{sv}", rename_all = "PascalCase")]
pub(crate) struct TimerProperties {
    /// success, …
    pub result: Option<String>,
    /// µs since the epoch, 0 or `u64::MAX` when not scheduled.
    #[zbus(rename = "NextElapseUSecRealtime")]
    pub next_elapse_realtime: Option<u64>,
    /// µs on CLOCK_MONOTONIC, 0 or `u64::MAX` when not scheduled.
    #[zbus(rename = "NextElapseUSecMonotonic")]
    pub next_elapse_monotonic: Option<u64>,
    /// µs since the epoch, 0 if never.
    #[zbus(rename = "LastTriggerUSec")]
    pub last_trigger: Option<u64>,
}

/// The `org.freedesktop.systemd1.Path` properties we read.
#[derive(Debug, Default, DeserializeDict, Type)]
#[zbus(signature = "a{sv}", rename_all = "PascalCase")]
pub(crate) struct PathProperties {
    /// success, …
    pub result: Option<String>,
}

/// The [`ServiceProperties`] of a service, one `Get` each, all sent at once. `GetAll` of the Service interface
/// would have systemd compute and send some 300 properties (every exec and cgroup setting, and
/// counters it reads from the cgroup's files) for these five: at 200 projects that was most of
/// `status`'s time, in systemd, dbus-daemon and here. Only for a unit known to stay loaded: systemd
/// loads an unreferenced inactive unit again for each call, and collects it after each.
pub(crate) async fn few_service_properties(
    object: &UnitObjectProxy<'_>,
) -> zbus::Result<ServiceProperties> {
    const NAMES: [&str; 5] = [
        "Result",
        "ExecMainStatus",
        "ExecMainCode",
        "MainPID",
        "NRestarts",
    ];
    let calls = NAMES
        .iter()
        .map(|name| {
            Box::pin(object.property(SERVICE_IFACE, name))
                as Pending<'_, zbus::Result<OwnedVariant>>
        })
        .collect();
    let mut answers = all(calls).await.into_iter();
    let mut next = || {
        answers
            .next()
            .unwrap_or_else(|| Err(zbus::Error::Failure("a property went unanswered".into())))
    };
    Ok(ServiceProperties {
        result: Some(String::try_from(next()?)?),
        exec_main_status: Some(i32::try_from(next()?)?),
        exec_main_code: Some(i32::try_from(next()?)?),
        main_pid: Some(u32::try_from(next()?)?),
        n_restarts: Some(u32::try_from(next()?)?),
    })
}

/// `Ref()` of the unit object at `path` (`pin`), which keeps systemd from collecting the unit
/// until `Unref()` (not `pin`) or until this client goes.
pub(crate) async fn pin_unit(
    conn: &zbus::Connection,
    path: &OwnedObjectPath,
    pin: bool,
) -> zbus::Result<()> {
    let method = if pin { "Ref" } else { "Unref" };
    conn.call_method(
        Some("org.freedesktop.systemd1"),
        path,
        Some(UNIT_IFACE),
        method,
        &(),
    )
    .await
    .map(drop)
}

/// A proxy for the properties of the unit object at `path`.
pub(crate) async fn unit_object(
    conn: &zbus::Connection,
    path: &OwnedObjectPath,
) -> zbus::Result<UnitObjectProxy<'static>> {
    UnitObjectProxy::builder(conn)
        .path(path.clone())
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use zbus::wire::serialized::{Context, Data};
    use zbus::wire::{LE, to_bytes};

    use super::*;

    fn decode<T: for<'d> serde::Deserialize<'d> + Type>(dict: &HashMap<&str, Variant<'_>>) -> T {
        let ctxt = Context::new(LE, 0);
        let bytes = to_bytes(ctxt, dict).unwrap();
        let data = Data::new(bytes.bytes().to_vec(), ctxt);
        data.deserialize().unwrap().0
    }

    #[test]
    fn get_all_decodes_into_typed_properties_and_skips_the_rest() {
        let mut dict: HashMap<&str, Variant<'_>> = HashMap::new();
        dict.insert("LoadState", Variant::from("loaded"));
        dict.insert("ActiveState", Variant::from("active"));
        dict.insert("NeedDaemonReload", Variant::from(true));
        dict.insert("DropInPaths", Variant::from(vec!["/a.conf", "/b.conf"]));
        dict.insert("InvocationID", Variant::from(vec![0xab_u8, 0x01]));
        dict.insert("ActiveEnterTimestamp", Variant::from(42_u64));
        let job = OwnedObjectPath::try_from("/org/freedesktop/systemd1/job/7").unwrap();
        dict.insert("Job", Variant::from((7_u32, job.clone())));
        // Properties we do not read, of other shapes, are skipped.
        dict.insert("Names", Variant::from(vec!["x.service"]));
        dict.insert(
            "Conditions",
            Variant::from(vec![("ConditionPathExists", false, false, "/x", 0_i32)]),
        );
        let unit: UnitProperties = decode(&dict);
        assert_eq!(unit.load_state.as_deref(), Some("loaded"));
        assert_eq!(unit.active_state.as_deref(), Some("active"));
        assert_eq!(unit.sub_state, None);
        assert_eq!(unit.need_daemon_reload, Some(true));
        assert_eq!(unit.drop_in_paths.unwrap(), ["/a.conf", "/b.conf"]);
        assert_eq!(unit.invocation_id.unwrap(), [0xab, 0x01]);
        assert_eq!(unit.active_enter_timestamp, Some(42));
        assert_eq!(unit.job, Some((7, job)));

        let mut dict: HashMap<&str, Variant<'_>> = HashMap::new();
        dict.insert("Result", Variant::from("exit-code"));
        dict.insert("ExecMainStatus", Variant::from(3_i32));
        dict.insert("MainPID", Variant::from(0_u32));
        dict.insert("NRestarts", Variant::from(2_u32));
        let service: ServiceProperties = decode(&dict);
        assert_eq!(service.result.as_deref(), Some("exit-code"));
        assert_eq!(service.exec_main_status, Some(3));
        assert_eq!(service.exec_main_code, None);
        assert_eq!(service.main_pid, Some(0));
        assert_eq!(service.n_restarts, Some(2));

        let mut dict: HashMap<&str, Variant<'_>> = HashMap::new();
        dict.insert("NextElapseUSecRealtime", Variant::from(5_u64));
        dict.insert("LastTriggerUSec", Variant::from(0_u64));
        let timer: TimerProperties = decode(&dict);
        assert_eq!(timer.next_elapse_realtime, Some(5));
        assert_eq!(timer.next_elapse_monotonic, None);
        assert_eq!(timer.last_trigger, Some(0));
    }

    #[test]
    fn unit_paths_are_escaped_as_systemd_escapes_them() {
        let path = |unit: &str| unit_path(unit).unwrap().to_string();
        assert_eq!(
            path("agent-runner@p001.service"),
            "/org/freedesktop/systemd1/unit/agent_2drunner_40p001_2eservice"
        );
        assert_eq!(
            path("1x_y.timer"),
            "/org/freedesktop/systemd1/unit/_31x_5fy_2etimer"
        );
        assert_eq!(path("é"), "/org/freedesktop/systemd1/unit/_c3_a9");
    }
}
