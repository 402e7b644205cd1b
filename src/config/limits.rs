//! `[limits]`: the resource limits systemd puts on the round service. Validated in
//! `validate/limits.rs`; the round service's drop-in carries them (templates/limits.conf.j2).

use serde::Serialize;

/// `[limits]`, each value already in the words systemd reads (checked to hold only letters,
/// digits and `%`, so none can end its line or start another setting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Rounds in a row that systemd ends with the result oom-kill before the loop halts
    /// (`mem_loop`); no unit setting, the after-round step counts them.
    pub oom_rounds: u32,
}

/// `[limits] oom_rounds` when the file leaves it out: a round killed once may have met a busy
/// host; three in a row are the same wall met again.
pub(crate) const DEFAULT_OOM_ROUNDS: u32 = 3;

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_max: None,
            memory_high: None,
            cpu_quota: None,
            tasks_max: None,
            io_weight: None,
            nice: None,
            oom_rounds: DEFAULT_OOM_ROUNDS,
        }
    }
}
