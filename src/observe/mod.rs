//! Reading back what happened: status, peek, events, logs, diagnose.

pub(crate) mod diagnose;
pub(crate) mod events;
pub(crate) mod peek;
pub(crate) mod status;
