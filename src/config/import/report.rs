//! What `import` did with each key of the old file: mapped onto a new key (its value converted
//! where the meaning changed), written out because the defaults differ, replaced by a systemd
//! setting, dropped, or left for the operator to decide.

use std::io::{self, Write};

use serde::Serialize;

use crate::config::controls::escaped;
use crate::config::problems::echoed;

/// The fate of one old key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// Carried over to a new key, the value converted where its meaning changed.
    Mapped,
    /// Not in the old file, but the old default differs from agent-runner's: written out.
    Default,
    /// The old runner did it itself; under agent-runner a systemd setting does.
    Systemd,
    /// Nothing to carry over (the reason says why).
    Dropped,
    /// A feature agent-runner does not have (yet): the operator decides what to do.
    Decision,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Mapped => "mapped",
            Kind::Default => "default",
            Kind::Systemd => "systemd",
            Kind::Dropped => "dropped",
            Kind::Decision => "DECIDE",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    /// The old key, dotted (`runtime.round_budget_s`).
    pub old: String,
    pub kind: Kind,
    /// The new key (dotted) or, for `systemd`, the unit setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// Why, or how the value was converted.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Every entry, in the order the keys were met.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub(crate) struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub(super) fn add(
        &mut self,
        old: &str,
        kind: Kind,
        new: Option<&str>,
        note: impl Into<String>,
    ) {
        self.entries.push(Entry {
            old: old.to_string(),
            kind,
            new: new.map(ToString::to_string),
            note: note.into(),
        });
    }

    /// How many entries are of `kind`.
    pub(crate) fn count(&self, kind: Kind) -> usize {
        self.entries.iter().filter(|e| e.kind == kind).count()
    }

    /// The report as text for a person: one line per key, then the counts.
    pub(crate) fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        for e in &self.entries {
            let target = e
                .new
                .as_deref()
                .map(|n| format!(" → {}", echoed(n)))
                .unwrap_or_default();
            let note = if e.note.is_empty() {
                String::new()
            } else {
                format!(": {}", escaped(&e.note))
            };
            writeln!(
                out,
                "  {:<8}{}{target}{note}",
                e.kind.label(),
                echoed(&e.old)
            )?;
        }
        writeln!(
            out,
            "{} mapped, {} defaults written out, {} replaced by systemd, {} dropped, {} need a decision",
            self.count(Kind::Mapped),
            self.count(Kind::Default),
            self.count(Kind::Systemd),
            self.count(Kind::Dropped),
            self.count(Kind::Decision),
        )
    }
}
