//! What the commands know about one unit, in plain types: the typed property sets of
//! [`crate::systemd::proxy`] turned into one [`UnitInfo`], in this one place.

use zbus::OwnedObjectPath;

use crate::systemd::proxy::{
    ListedUnitRow, PathProperties, ServiceProperties, TimerProperties, UnitProperties,
};

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

impl ListedUnit {
    /// A row of `ListUnitsByPatterns`.
    pub(crate) fn from_row(row: ListedUnitRow) -> Self {
        Self {
            info: UnitInfo {
                name: row.name,
                load_state: row.load_state,
                active_state: row.active_state,
                sub_state: row.sub_state,
                ..UnitInfo::default()
            },
            path: row.path,
            detailed: false,
        }
    }
}

impl UnitInfo {
    /// What every unit has.
    pub(crate) fn from_unit(name: &str, props: UnitProperties) -> Self {
        Self {
            name: name.to_string(),
            load_state: props.load_state.unwrap_or_default(),
            active_state: props.active_state.unwrap_or_default(),
            sub_state: props.sub_state.unwrap_or_default(),
            unit_file_state: props.unit_file_state.unwrap_or_default(),
            need_daemon_reload: props.need_daemon_reload.unwrap_or(false),
            drop_in_paths: props.drop_in_paths.unwrap_or_default(),
            invocation_id: props
                .invocation_id
                .filter(|id| !id.is_empty())
                .map(|id| hex(&id)),
            active_enter_us: props.active_enter_timestamp.unwrap_or(0),
            inactive_enter_us: props.inactive_enter_timestamp.unwrap_or(0),
            state_change_us: props.state_change_timestamp.unwrap_or(0),
            ..Self::default()
        }
    }

    /// Adds what a service has.
    pub(crate) fn add_service(&mut self, props: ServiceProperties) {
        self.result = props.result.unwrap_or_default();
        self.exec_main_status = props.exec_main_status;
        self.exec_main_code = props.exec_main_code;
        self.main_pid = props.main_pid.filter(|p| *p != 0);
        self.n_restarts = props.n_restarts;
    }

    /// Adds what a timer has.
    pub(crate) fn add_timer(&mut self, props: TimerProperties) {
        let scheduled = |t: &u64| *t != 0 && *t != u64::MAX;
        self.result = props.result.unwrap_or_default();
        let realtime = props.next_elapse_realtime.filter(scheduled);
        // A monotonic trigger (OnUnitInactiveSec=) is only given on the monotonic clock.
        let monotonic = props
            .next_elapse_monotonic
            .filter(scheduled)
            .and_then(monotonic_to_realtime);
        self.next_elapse_us = match (realtime, monotonic) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_trigger_us = props.last_trigger.filter(|t| *t != 0);
    }

    /// Adds what a path unit has.
    pub(crate) fn add_path(&mut self, props: PathProperties) {
        self.result = props.result.unwrap_or_default();
    }
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
