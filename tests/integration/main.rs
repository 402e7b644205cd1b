//! Integration tests of the `agent-runner` binary without systemd. One binary, one module per
//! area; `harness` is the small builder every test uses.

mod harness;

mod account;
mod architecture;
mod cli;
mod config_bounds;
mod config_corpus;
mod generator;
mod hooks;
mod hostile_reads;
mod import;
mod notify;
mod observe;
mod progress;
mod render_snapshots;
mod replay;
mod round;
mod spend;
mod terminal;
mod web;
