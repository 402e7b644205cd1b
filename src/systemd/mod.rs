//! Everything that talks to systemd: the D-Bus client, its version, writing unit files
//! (`generate`) and generator mode.

pub(crate) mod bus;
pub(crate) mod generate;
pub(crate) mod generator;
pub(crate) mod version;
