//! What `diagnose` reports: one verdict per layer, and the whole diagnosis, as text or JSON.

use std::io;

use serde::Serialize;

use crate::error::Unseen;
use crate::output::{Paint, Tone};

/// The verdict of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Nothing wrong here.
    Ok,
    /// Worth knowing; does not make the project unhealthy.
    Warn,
    /// This layer is broken: the diagnosis stops here.
    Fail,
    /// Not run, because a layer above failed.
    Skipped,
}

/// One layer's result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Layer {
    /// Stable identifier: systemd, units, unit_state, battery, events, rounds, disk.
    #[serde(rename = "layer")]
    pub name: &'static str,
    /// ok, warn, fail or skipped.
    pub status: Status,
    /// One sentence.
    pub summary: String,
    /// What was seen (unit states, event lines, file names).
    pub evidence: Vec<String>,
    /// The command (or action) that fixes it.
    pub fix: Option<String>,
}

impl Layer {
    pub(crate) fn new(name: &'static str, status: Status, summary: impl Into<String>) -> Self {
        Self {
            name,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    pub(crate) fn evidence(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(lines);
        self
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// The whole diagnosis.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// The project.
    pub project: String,
    /// No layer failed.
    pub healthy: bool,
    /// The first failing layer, if any.
    pub failed_layer: Option<&'static str>,
    /// Every layer, in order.
    pub layers: Vec<Layer>,
    /// What the layers could not read (the state file, the events, the journal…).
    pub unreadable: Vec<Unseen>,
}

/// The diagnosis as text: one line per layer, its evidence and its fix, then the verdict.
pub(crate) fn present(out: &mut dyn Paint, report: &Report) -> io::Result<()> {
    for layer in &report.layers {
        let (tag, tone) = match layer.status {
            Status::Ok => ("ok  ", Tone::Good),
            Status::Warn => ("warn", Tone::Notice),
            Status::Fail => ("FAIL", Tone::Bad),
            Status::Skipped => ("----", Tone::Plain),
        };
        write!(out, "[")?;
        out.paint(tone, tag)?;
        writeln!(out, "] {:<10} {}", layer.name, layer.summary)?;
        if layer.status == Status::Skipped {
            continue;
        }
        for line in &layer.evidence {
            writeln!(out, "         {line}")?;
        }
        if let Some(fix) = &layer.fix
            && layer.status != Status::Ok
        {
            writeln!(out, "       fix: {fix}")?;
        }
    }
    write!(out, "{}: ", report.project)?;
    match report.failed_layer {
        None => out.paint(Tone::Good, "healthy")?,
        Some(layer) => out.paint(Tone::Bad, &format!("unhealthy (layer {layer})"))?,
    }
    writeln!(out)
}
