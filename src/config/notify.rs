//! `[notify]`: who is told when something happens to a project, and how. The keys come from the
//! project file and from the host's shared /etc/agent-runner/notify.toml (same `[notify]` table);
//! a key the project sets overrides the shared one. This file holds what the keys are;
//! [`super::notify_load`] reads the shared file and merges.

use serde::{Deserialize, Serialize};

/// The shared file's name in the scope's config directory (never a project: `discover` skips it).
pub(crate) const SHARED_FILE: &str = "notify.toml";
/// The event kinds delivered when `on` is not set: the loop stopped, a detector fired, money.
pub(crate) const DEFAULT_ON: &[&str] = &[
    "loop_halted",
    "alert_raised",
    "budget_exhausted",
    "cost_spike",
];
/// Kinds the notifier emits itself: delivering them would feed its own failures back into it.
pub(crate) const OWN_KINDS: &[&str] = &["notify_sent", "notify_failed"];
/// Default `dedup_window_s`.
pub(crate) const DEFAULT_DEDUP_WINDOW_S: u64 = 600;
/// Default `timeout_s`.
pub(crate) const DEFAULT_TIMEOUT_S: u64 = 10;

/// The webhook's body format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// The event object as `events --json` prints it.
    Json,
    /// ntfy's plain publish: the message as the body, title, priority and tags as headers.
    Ntfy,
    /// A Slack-compatible incoming hook: `{"text": …}`.
    Slack,
}

/// Where the webhook's URL comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) enum Webhook {
    /// Written in the file.
    Url(String),
    /// A systemd credential of the notifier's unit (`LoadCredential=NAME:…`), read at delivery.
    Credential(String),
}

/// The `[notify]` keys one file sets, each checked; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct NotifyKeys {
    /// `command`: argv; the event as one JSON object on stdin.
    pub command: Option<Vec<String>>,
    /// `webhook` or `webhook_credential`.
    pub webhook: Option<Webhook>,
    /// `format`.
    pub format: Option<Format>,
    /// `on`: the event kinds delivered.
    pub on: Option<Vec<String>>,
    /// `dedup_window_s`.
    pub dedup_window_s: Option<u64>,
    /// `timeout_s`: each delivery's bound.
    pub timeout_s: Option<u64>,
}

impl NotifyKeys {
    /// Whether the file has a `[notify]` table with anything in it.
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These keys over `shared`'s: a key set here wins.
    pub(super) fn over(&self, shared: &NotifyKeys) -> NotifyKeys {
        NotifyKeys {
            command: self.command.clone().or_else(|| shared.command.clone()),
            webhook: self.webhook.clone().or_else(|| shared.webhook.clone()),
            format: self.format.or(shared.format),
            on: self.on.clone().or_else(|| shared.on.clone()),
            dedup_window_s: self.dedup_window_s.or(shared.dedup_window_s),
            timeout_s: self.timeout_s.or(shared.timeout_s),
        }
    }
}

/// What the notifier of a project does, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Notify {
    /// The receiver command, if any.
    pub command: Option<Vec<String>>,
    /// The webhook, if any.
    pub webhook: Option<Webhook>,
    /// The webhook's body format.
    pub format: Format,
    /// The kinds delivered.
    pub on: Vec<String>,
    /// Seconds within which a second event of one kind is not delivered.
    pub dedup_window_s: u64,
    /// Seconds each delivery may take.
    pub timeout_s: u64,
}
