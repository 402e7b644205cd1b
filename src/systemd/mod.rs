//! Everything that talks to systemd: unit names (`units`), the one D-Bus client (`bus`, over
//! the typed `proxy` interfaces, reaching a remote manager through `host`), its version,
//! writing unit files (`generate`) and generator mode.

pub(crate) mod bus;
pub(crate) mod concurrent;
pub(crate) mod errors;
pub(crate) mod generate;
pub(crate) mod generator;
pub(crate) mod host;
pub(crate) mod proxy;
pub(crate) mod target;
pub(crate) mod unit_info;
pub(crate) mod version;
