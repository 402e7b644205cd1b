//! What an alert is made of, shared by the `alert_raised`/`alert_cleared` payloads, the store of
//! open alerts and `status`: which detector fired, how bad it is, and the evidence it saw.

use serde::{Deserialize, Serialize};

/// `alert_raised`: a detector saw the loop go wrong.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AlertRaised {
    /// Which detector.
    pub detector: Detector,
    /// warn, or halt when the loop is halted for it.
    pub severity: Severity,
    /// What it saw.
    pub evidence: Evidence,
}

/// `alert_cleared`: the detector no longer sees what raised the alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AlertCleared {
    /// Which detector.
    pub detector: Detector,
    /// What it sees now.
    pub evidence: Evidence,
}

/// The detectors, each watching for one way a loop goes wrong while nobody looks.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Detector {
    /// Rounds in a row failed to authenticate (the round halts the loop itself).
    AuthFailureStreak,
    /// Too many rounds of the window failed on the network.
    NetworkFailureRate,
    /// The log or work directory's file system is nearly full.
    DiskUsage,
    /// The loop runs but no round has ended for too long, or its timer is dead.
    StaleLoop,
    /// Too many rounds of the window hit their timeout.
    TimeoutRate,
    /// Rounds in a row left changes that had to be stashed.
    RepeatedStashes,
    /// Rounds in a row ended with the same error.
    RepeatedError,
    /// A detector of a newer version, read back by this one.
    #[default]
    #[serde(other)]
    Other,
}

impl Detector {
    /// Every detector of this version, in the order they are evaluated and shown.
    pub(crate) const ALL: [Detector; 7] = [
        Detector::AuthFailureStreak,
        Detector::DiskUsage,
        Detector::StaleLoop,
        Detector::NetworkFailureRate,
        Detector::TimeoutRate,
        Detector::RepeatedStashes,
        Detector::RepeatedError,
    ];

    /// The name events and the store spell.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Detector::AuthFailureStreak => "auth_failure_streak",
            Detector::NetworkFailureRate => "network_failure_rate",
            Detector::DiskUsage => "disk_usage",
            Detector::StaleLoop => "stale_loop",
            Detector::TimeoutRate => "timeout_rate",
            Detector::RepeatedStashes => "repeated_stashes",
            Detector::RepeatedError => "repeated_error",
            Detector::Other => "other",
        }
    }
}

/// How bad an alert is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Severity {
    /// Someone should look; the loop goes on.
    #[default]
    Warn,
    /// The loop is (or is being) halted.
    Halt,
}

impl Severity {
    /// The name events and the store spell.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Halt => "halt",
        }
    }
}

/// What a detector saw: the fields that apply to it are set, the others absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Evidence {
    /// One sentence: what was seen, with the numbers.
    pub summary: String,
    /// The measured value (a count, a percentage, seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
    /// The threshold it was compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u64>,
    /// The rounds the evidence comes from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<u64>,
    /// The directory measured (disk usage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The error the rounds ended with (redacted, at most 200 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}
