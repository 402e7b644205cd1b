//! agent-runner: a declarative systemd unit generator and a oneshot round runner for autonomous
//! CLI coding agents.
//!
//! Data flows config → render → units on disk → systemd → round → events → observe/control;
//! docs/architecture.md draws it. The binaries' `main`s only call [`run`] and [`run_round`].

mod alerts;
mod cli;
mod config;
mod context;
mod control;
mod error;
mod events;
mod fsutil;
mod memory;
mod notify;
mod observe;
mod output;
mod paths;
mod redact;
mod render;
mod round;
mod systemd;
mod time;
mod units;
mod url;
mod web;

use std::ffi::OsString;
use std::process::ExitCode;

/// Parses `args`, runs the command, prints any error once, and returns the exit status.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    cli::run(args)
}

/// Runs one round as `agent-runner-round [--user] NAME|--config FILE` asks, and returns the exit
/// status: the round service's binary, without the other commands' code.
pub fn run_round(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    cli::round_runner::run(args)
}
