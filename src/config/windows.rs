//! `[schedule]`: the run and pause windows of local time that decide when rounds may start their
//! agent (the arithmetic is in [`crate::time::schedule`]).

use serde::Serialize;

use crate::time::schedule::{Spec, Windows};
use crate::time::zone::Zone;

/// `[schedule]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Schedule {
    /// Where agents may start; empty: at any time.
    pub run_windows: Vec<Spec>,
    /// Where they may not, even inside a run window.
    pub pause_windows: Vec<Spec>,
    /// The IANA zone the windows are read in (`None`: the host's).
    pub timezone: Option<String>,
}

impl Schedule {
    /// Whether any window is set (the round's gate reads a zone only then).
    pub(crate) fn has_windows(&self) -> bool {
        !(self.run_windows.is_empty() && self.pause_windows.is_empty())
    }

    /// The zone the windows follow: the configured one, else the host's.
    pub(crate) fn zone(&self) -> Zone {
        self.timezone
            .as_deref()
            .and_then(|tz| Zone::named(tz).ok())
            .unwrap_or_else(Zone::host_or_utc)
    }

    /// The zone's name for messages: the configured one, else `host`.
    pub(crate) fn zone_name(&self) -> &str {
        self.timezone.as_deref().unwrap_or("host")
    }

    /// The windows, read in `zone`.
    pub(crate) fn windows<'a>(&'a self, zone: &'a Zone) -> Windows<'a> {
        Windows {
            run: &self.run_windows,
            pause: &self.pause_windows,
            zone,
        }
    }
}
