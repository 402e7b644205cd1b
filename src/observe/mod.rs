//! Reading back what happened: status, peek, events, logs, diagnose.

pub(crate) mod diagnose;
pub(crate) mod events;
pub(crate) mod logs;
mod loop_state;
pub(crate) mod peek;
mod snapshot;
mod state_file;
pub(crate) mod status;
mod unit_states;
