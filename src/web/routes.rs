//! Which request gets which answer, and the data behind each, read through the same functions as
//! `status`, `peek` and `events`.

use std::fmt::Write as _;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Server;
use super::http::{self, Request, Response, bearer_matches};
use super::page::{self, ProjectPage};
use crate::config::{self, ProjectRef};
use crate::error::{Error, Result, exit};
use crate::events::Kind;
use crate::events::read::{self, Query, Record};
use crate::observe::events::human_line;
use crate::observe::loop_state::stop_triggers;
use crate::observe::{metrics, peek, status};
use crate::output::visible;
use crate::systemd::bus::Bus;

/// How many rounds the timeline of a project shows.
const TIMELINE_ROUNDS: usize = 100;
/// How many recent events a project's page lists.
const PAGE_EVENTS: usize = 30;
/// How long one stream of live events lasts; the browser reconnects after it.
const STREAM_FOR: Duration = Duration::from_secs(120);
/// How often a stream looks for new events.
const STREAM_EVERY: Duration = Duration::from_secs(2);
/// The script of the live parts: our own file, never another site's.
const LIVE_JS: &str = include_str!("live.js");

/// Reads one request from `stream` and answers it.
pub(crate) fn handle(stream: &mut TcpStream, server: &Server) {
    let request = match http::read_request(stream) {
        Ok(r) => r,
        Err(response) => {
            let _ = response.write_to(stream, true);
            return;
        }
    };
    if let Some(token) = &server.token
        && !bearer_matches(request.authorization.as_deref(), token)
    {
        let mut r = Response::text(401, "a bearer token is required");
        r.headers.push(("WWW-Authenticate", "Bearer".into()));
        let _ = r.write_to(stream, !request.head_only);
        return;
    }
    if let Some(name) = request
        .path
        .strip_prefix("/p/")
        .and_then(|r| r.strip_suffix("/events"))
    {
        stream_events(stream, server, name);
        return;
    }
    let response = route(&request, server).unwrap_or_else(|e| error_response(&e));
    let _ = response.write_to(stream, !request.head_only);
}

/// The answer to `request`.
fn route(request: &Request, server: &Server) -> Result<Response> {
    let path = request.path.as_str();
    let html = "text/html; charset=utf-8";
    let json = "application/json";
    Ok(match path {
        "/" => {
            let (projects, broken) = status::every_project(server.scope)?;
            let snaps: Vec<_> = projects.into_iter().map(|(_, s)| s).collect();
            Response::new(200, html, page::index(&snaps, &broken))
        }
        "/api/v1/projects" => {
            let (projects, broken) = status::every_project(server.scope)?;
            let snaps: Vec<_> = projects.into_iter().map(|(_, s)| s).collect();
            Response::new(200, json, to_json(&status::json_rows(&snaps, &broken)))
        }
        "/metrics" => Response::new(
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics::collect(server.scope)?,
        ),
        "/live.js" => Response::new(200, "text/javascript; charset=utf-8", LIVE_JS),
        _ => {
            if let Some(name) = path.strip_prefix("/api/v1/projects/") {
                let (doc, _) = project_document(name, server, 10)?;
                Response::new(200, json, to_json(&doc))
            } else if let Some(name) = path.strip_prefix("/p/") {
                Response::new(200, html, project_page(name, server)?)
            } else {
                Response::text(404, "no such page")
            }
        }
    })
}

fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    body
}

/// `peek --json --log` of the project `name`, with its last `rounds` rounds.
fn project_document(
    name: &str,
    server: &Server,
    rounds: usize,
) -> Result<(Value, config::Project)> {
    let project = config::load_project(&ProjectRef::Name(name.to_string()), server.scope)?;
    let bus = Bus::connect(server.scope, None)?;
    let (doc, _) = peek::document(&project, &bus, server.scope, rounds)?;
    Ok((doc, project))
}

/// The page of one project: peek's document, the newest events (usage included, for the
/// timeline) and the stop triggers on disk.
fn project_page(name: &str, server: &Server) -> Result<String> {
    let (doc, project) = project_document(name, server, TIMELINE_ROUNDS)?;
    let usage_query = Query {
        kinds: vec![Kind::AgentUsageRecorded.into()],
        limit: Some(TIMELINE_ROUNDS * 2),
        ..Query::default()
    };
    let usage = read::read(&project, &usage_query)
        .map(|(e, _)| e)
        .unwrap_or_default();
    let recent_query = Query {
        limit: Some(PAGE_EVENTS),
        ..Query::default()
    };
    let events: Option<Vec<String>> = read::read(&project, &recent_query)
        .map(|(e, _)| e.iter().map(human_line).collect())
        .ok();
    let mut unseen = Vec::new();
    let triggers = stop_triggers(&project, &mut unseen);
    Ok(page::project(&ProjectPage {
        doc: &doc,
        usage: &usage,
        events: events.as_deref(),
        triggers: &triggers,
    }))
}

/// An error as the answer: unknown or invalid project 404, systemd unreachable 503, else 500.
fn error_response(e: &Error) -> Response {
    let status = match e.exit_code() {
        exit::CONFIG | exit::USAGE => 404,
        exit::UNAVAILABLE => 503,
        _ => 500,
    };
    Response::text(status, &visible(&e.to_string(), true))
}

/// Server-Sent Events: the project's new events as they are recorded, for [`STREAM_FOR`], then
/// the stream ends and the browser's `EventSource` reconnects (its `retry` says when).
fn stream_events(stream: &mut TcpStream, server: &Server, name: &str) {
    let project = match config::load_project(&ProjectRef::Name(name.to_string()), server.scope) {
        Ok(p) => p,
        Err(e) => {
            let _ = error_response(&e).write_to(stream, true);
            return;
        }
    };
    if http::write_stream_head(stream, "text/event-stream").is_err()
        || stream.write_all(b"retry: 3000\n\n").is_err()
    {
        return;
    }
    let started = Instant::now();
    let mut newest = newest_events(&project).last().and_then(Record::ts_us);
    while started.elapsed() < STREAM_FOR {
        std::thread::sleep(STREAM_EVERY);
        let mut frames = String::from(": alive\n\n");
        for event in newest_events(&project) {
            let ts = event.ts_us();
            if ts.is_some() && ts <= newest {
                continue;
            }
            newest = ts.or(newest);
            let line = human_line(&event);
            let _ = write!(frames, "data: {}\n\n", visible(&line, false));
        }
        if stream
            .write_all(frames.as_bytes())
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
    }
}

/// The newest few events of `project`, oldest first (nothing when they cannot be read).
fn newest_events(project: &config::Project) -> Vec<Record> {
    let query = Query {
        limit: Some(10),
        ..Query::default()
    };
    read::read(project, &query)
        .map(|(e, _)| e)
        .unwrap_or_default()
}
