//! Structured events: what a round and the loop's helpers report, and reading it back.
//!
//! * [`alert`]: what an alert is made of (detector, severity, evidence).
//! * [`kind`]: the one list of event kinds with their names, MESSAGE_IDs, priorities and catalog text.
//! * [`payload`]: the typed payload each kind carries, and [`Event`], a kind with its payload.
//! * [`emit`]: the [`Emitter`], to the journal, the JSON mirror `LOG_DIR/events.jsonl` and a
//!   watching terminal.
//! * [`read`]: events back from the journal or the mirror, as [`read::Record`]s.
//! * `schedule`: the payloads of the schedule windows' pause and resume, re-exported by [`payload`].
//! * `brakes`: the payloads of the progress brakes and goal checks, re-exported by [`payload`].
//! * `oom`: the payloads of rounds killed for memory and the halt they lead to.
//! * [`catalog`]: the journal catalog, rendered from the kinds.

pub(crate) mod alert;
mod brakes;
pub(crate) mod catalog;
pub(crate) mod emit;
mod hooks;
pub(crate) mod kind;
mod notified;
mod oom;
pub(crate) mod payload;
pub(crate) mod read;
mod record;
mod schedule;
pub(crate) mod spend;

pub(crate) use emit::Emitter;
pub(crate) use kind::{Kind, KindName, Priority};
pub(crate) use payload::Event;
