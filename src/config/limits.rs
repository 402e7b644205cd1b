//! `[limits]`: the resource limits systemd puts on the round service. Validated in
//! `validate/limits.rs`; the round service's drop-in carries them (templates/limits.conf.j2).

use serde::Serialize;

/// `[limits]`, each value already in the words systemd reads (checked to hold only letters,
/// digits and `%`, so none can end its line or start another setting).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Limits {
    /// `MemoryMax=`: past it the kernel's OOM killer ends the round.
    pub memory_max: Option<String>,
    /// `MemoryHigh=`: past it the round is throttled and its memory reclaimed.
    pub memory_high: Option<String>,
    /// `CPUQuota=`, a percentage of one CPU.
    pub cpu_quota: Option<String>,
    /// `TasksMax=`: processes and threads of the round together.
    pub tasks_max: Option<String>,
    /// `IOWeight=`, 1 to 10000.
    pub io_weight: Option<u16>,
    /// `Nice=`, -20 to 19.
    pub nice: Option<i8>,
}
