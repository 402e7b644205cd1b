//! `agent-runner web`: the status page, the JSON API and the metrics over HTTP. A reader like
//! the read commands: every answer comes from the same observe functions as `status`, `peek`
//! and `events`, so the page can show nothing those could not.
//!
//! systemd starts it on the first connection to `agent-runner-web.socket` and it exits after a
//! while without requests, so nothing of ours stays resident while nobody looks; `--listen ADDR`
//! runs it in the foreground instead. A small blocking server on std threads is enough for an
//! operator's browser and a scraper: one request per connection, a few connections at once.

mod chart;
mod escape;
mod http;
mod listen;
mod page;
mod routes;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::paths::Scope;

/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 8;
/// How long a client may take to send its request or read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle exit under socket activation unless `--idle-exit` says otherwise.
const DEFAULT_IDLE_EXIT_S: u64 = 60;

/// What every connection's thread shares.
pub(crate) struct Server {
    pub scope: Scope,
    /// The bearer token every request must carry (only when not bound to loopback).
    pub token: Option<String>,
    active: AtomicUsize,
    last_request: Mutex<Instant>,
}

/// `agent-runner web [--listen ADDR] [--idle-exit SECS]`: on `listen`, else on the socket systemd
/// passed; exits after `idle_exit_s` without a request (0: never; default 60 s under socket
/// activation, never in the foreground).
pub(crate) fn run(ctx: &Context, listen: Option<&str>, idle_exit_s: Option<u64>) -> Result<u8> {
    let (listener, activated) = listen::listener(listen)?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::Failed(format!("cannot read the listening address: {e}")))?;
    let token = listen::token_for(&address)?;
    let idle = match idle_exit_s {
        Some(s) => s,
        None if activated => DEFAULT_IDLE_EXIT_S,
        None => 0,
    };
    if !activated {
        crate::output::line(format_args!("serving http://{address}/"))?;
    }
    let server = Arc::new(Server {
        scope: ctx.scope,
        token,
        active: AtomicUsize::new(0),
        last_request: Mutex::new(Instant::now()),
    });
    serve(&listener, &server, Duration::from_secs(idle))?;
    Ok(exit::OK)
}

/// Accepts connections until nothing was asked for `idle` (never when zero).
fn serve(listener: &TcpListener, server: &Arc<Server>, idle: Duration) -> Result<()> {
    let io = |e: std::io::Error| Error::Failed(format!("cannot accept connections: {e}"));
    listener.set_nonblocking(true).map_err(io)?;
    loop {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        // Waking once a second is what notices the idle time running out.
        let ready = poll(&mut fds, PollTimeout::from(1000u16)).unwrap_or(0);
        if ready > 0 {
            match listener.accept() {
                Ok((stream, _)) => admit(stream, server),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        if idle.is_zero() || server.active.load(Ordering::SeqCst) > 0 {
            continue;
        }
        let quiet = server
            .last_request
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        if quiet >= idle {
            return Ok(());
        }
    }
}

/// Serves `stream` on a thread of its own, or says "busy" when too many are served already.
fn admit(mut stream: TcpStream, server: &Arc<Server>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    if server.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
        server.active.fetch_sub(1, Ordering::SeqCst);
        let _ = http::Response::text(503, "busy, try again").write_to(&mut stream, true);
        return;
    }
    let worker = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name("web-connection".into())
        .spawn(move || {
            routes::handle(&mut stream, &worker);
            let _ = stream.flush();
            if let Ok(mut t) = worker.last_request.lock() {
                *t = Instant::now();
            }
            worker.active.fetch_sub(1, Ordering::SeqCst);
        });
    if spawned.is_err() {
        // The closure (and its count) never ran.
        server.active.fetch_sub(1, Ordering::SeqCst);
    }
}
