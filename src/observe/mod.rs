//! Reading back what happened: status, peek, events, logs, diagnose.
//!
//! The snapshot of a project ([`snapshot`]) joins its units as systemd reports them
//! ([`unit_states`]), the round's state file ([`state_file`]) and the one-word state decided
//! from both and the newest halt event ([`loop_state`]); the commands show it, each with its
//! presenter writing into a `&mut dyn Write`. What they could not read is said, not guessed
//! around ([`partial`]).

pub(crate) mod diagnose;
pub(crate) mod events;
pub(crate) mod logs;
pub(crate) mod loop_state;
pub(crate) mod metrics;
pub(crate) mod partial;
pub(crate) mod peek;
pub(crate) mod snapshot;
pub(crate) mod spend;
mod state_file;
pub(crate) mod status;
pub(crate) mod textfile;
mod unit_states;
