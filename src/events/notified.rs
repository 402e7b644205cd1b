//! The payloads of the notifier's own events: a notification delivered, or not.

use serde::{Deserialize, Serialize};

/// `notify_sent`: an event was delivered to every receiver of the project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct NotifySent {
    /// The kind of the event delivered.
    pub notified: String,
    /// Its journal cursor.
    pub cursor: String,
    /// The receivers, as shown: `command PROGRAM`, a webhook's scheme, host and port.
    pub targets: Vec<String>,
}

/// `notify_failed`: a receiver could not be reached or refused the event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct NotifyFailed {
    /// The kind of the event that was not delivered.
    pub notified: String,
    /// The receiver that failed, as shown (no path, query or credential of a URL).
    pub target: String,
    /// Why, in one line.
    pub error: String,
    /// How many times it was tried in this run.
    pub attempts: u32,
}
