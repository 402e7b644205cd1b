//! Changing what runs: start, stop, restart, kill, enable, disable, and the halt steps.

pub(crate) mod halt;
pub(crate) mod lifecycle;
mod notifier;
mod oom;
mod shared_account;
pub(crate) mod watch;
