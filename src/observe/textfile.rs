//! The metrics of every project for node-exporter's textfile collector, so that a Prometheus that
//! already scrapes node-exporter sees every project with no process of ours.
//!
//! The file is written by a oneshot unit of its own (agent-runner-metrics.service), which the
//! after-round step of every round only starts, without waiting. Writing it from the after-round
//! step itself would have to open the round's sandbox (read-only system, no capability) onto the
//! textfile directory, which usually belongs to the prometheus user, and would make every round
//! wait for a read of every project.

use std::path::Path;

use crate::context::Context;
use crate::error::{Result, exit};
use crate::fsutil;
use crate::paths::Scope;
use crate::systemd::bus::Bus;
use crate::units::METRICS_TEXTFILE_SERVICE;

/// Where node-exporter's textfile collector looks on Debian (prometheus-node-exporter).
pub(crate) const TEXTFILE_DIR: &str = "/var/lib/prometheus/node-exporter";

/// `agent-runner metrics`: the metrics of every project on standard output, or, with `textfile`,
/// replacing that file atomically (written, fsynced, renamed), readable by every user so that
/// node-exporter can read it.
pub(crate) fn run(ctx: &Context, textfile: Option<&Path>) -> Result<u8> {
    let text = super::metrics::collect(ctx.scope)?;
    match textfile {
        Some(path) => fsutil::write_atomic(path, text.as_bytes(), 0o644)?,
        None => crate::output::to_stdout(|out| out.write_all(text.as_bytes()))?,
    }
    Ok(exit::OK)
}

/// After a round of the system manager, when node-exporter's textfile directory exists: starts
/// the unit that rewrites the file, without waiting for it. A failure is only said: the round is
/// over and its outcome must not depend on the metrics.
pub(crate) fn refresh_after_round(scope: Scope) {
    if scope != Scope::System || !Path::new(TEXTFILE_DIR).is_dir() {
        return;
    }
    let started =
        Bus::connect(scope, None).and_then(|bus| bus.start_nowait(METRICS_TEXTFILE_SERVICE));
    if let Err(e) = started {
        crate::output::stderr_line(format_args!(
            "agent-runner: cannot refresh the node-exporter textfile: {e}"
        ));
    }
}
