//! `agent-runner notify NAME`: delivers a project's notifications (agent-runner-notify@.service,
//! started without waiting by the end of every round and by the halt unit). It reads the
//! project's events of the kinds `[notify] on` names from the journal after its cursor, skips
//! one whose kind was delivered within `dedup_window_s`, hands each other one to every receiver
//! (a command, a webhook), and moves its cursor past it. A receiver that fails is retried a few
//! times; then the run reports `notify_failed` and exits non-zero, keeping its cursor before the
//! event, so that systemd's Restart=on-failure (and the next round) tries again from there.
//!
//! * [`journal`]: the events to deliver, trusted fields only.
//! * [`store`]: the cursor and the dedup times.
//! * [`body`]: the webhook body of each format.
//! * [`deliver`]: HTTP, HTTPS (curl) and the command receiver.

mod body;
mod deliver;
mod journal;
mod store;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::config::notify::{Notify, Webhook};
use crate::config::{Project, ProjectRef};
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::Emitter;
use crate::events::payload::{NotifyFailed, NotifySent};
use crate::fsutil::Dir;
use crate::url::HttpUrl;

/// Pauses between the tries of one receiver within a run; systemd's restart takes over after.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];
/// The largest credential file holding a webhook URL.
const MAX_CREDENTIAL_BYTES: u64 = 4096;

/// One receiver, resolved.
#[derive(Debug)]
enum Receiver {
    Command(Vec<String>),
    Webhook(HttpUrl),
}

impl Receiver {
    /// How it is named in events and messages: never a URL's path, query or credential.
    fn shown(&self) -> String {
        match self {
            Receiver::Command(argv) => format!("command {}", argv[0]),
            Receiver::Webhook(url) => format!("webhook {}", url.redacted()),
        }
    }
}

/// Runs the notifier of one project; with `test`, sends a made-up event to every receiver
/// instead and says how each went (nothing is remembered, no event emitted).
pub(crate) fn run(ctx: &Context, reference: &ProjectRef, test: bool) -> Result<u8> {
    let project = crate::config::load_project(reference, ctx.scope)?;
    let Some(settings) = crate::config::notify_load::settings(&project)? else {
        crate::output::line(format_args!(
            "{}: no [notify] here nor in the shared notify.toml: nothing to deliver",
            project.name
        ))?;
        return Ok(exit::OK);
    };
    let receivers = receivers(&settings)?;
    if test {
        return send_test(&project, &settings, &receivers);
    }
    deliver_new(ctx, &project, &settings, &receivers)
}

fn receivers(settings: &Notify) -> Result<Vec<Receiver>> {
    let mut found = Vec::new();
    if let Some(argv) = &settings.command {
        found.push(Receiver::Command(argv.clone()));
    }
    if let Some(webhook) = &settings.webhook {
        let text = match webhook {
            Webhook::Url(url) => url.clone(),
            Webhook::Credential(name) => read_credential(name)?,
        };
        let url =
            HttpUrl::parse(&text).map_err(|why| Error::Failed(format!("the webhook URL {why}")))?;
        found.push(Receiver::Webhook(url));
    }
    Ok(found)
}

/// The webhook URL systemd hands the unit as credential `name` (`LoadCredential=`).
fn read_credential(name: &str) -> Result<String> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
        Error::Failed(format!(
            "webhook_credential {name}: no credentials here: run as agent-runner-notify@PROJECT.service with LoadCredential={name}:FILE"
        ))
    })?;
    let text = Dir::open(Path::new(&dir))?.read_text(Path::new(name), MAX_CREDENTIAL_BYTES)?;
    Ok(text.trim().to_string())
}

/// Hands `event` to every receiver, each tried up to three times; the targets on success, the
/// failing one with its error and tries otherwise.
fn send(
    receivers: &[Receiver],
    settings: &Notify,
    event: &Value,
    pauses: &[Duration],
) -> std::result::Result<Vec<String>, (String, String, u32)> {
    let timeout = Duration::from_secs(settings.timeout_s);
    let mut shown = Vec::new();
    for receiver in receivers {
        let attempt = || match receiver {
            Receiver::Command(argv) => deliver::command(argv, &body::event_json(event), timeout),
            Receiver::Webhook(url) => {
                deliver::post(url, &body::webhook(settings.format, event), timeout)
            }
        };
        let mut tries = 1;
        let mut outcome = attempt();
        for pause in pauses {
            if outcome.is_ok() {
                break;
            }
            std::thread::sleep(*pause);
            tries += 1;
            outcome = attempt();
        }
        if let Err(error) = outcome {
            return Err((receiver.shown(), error, tries));
        }
        shown.push(receiver.shown());
    }
    Ok(shown)
}

/// Passes over the journal one run makes at most.
const MAX_PASSES: usize = 5;
/// How long a run that found nothing waits before looking once more: the halt unit starts the
/// notifier the moment its event is sent, which journald may not have stored yet.
const SETTLE: Duration = Duration::from_secs(1);

/// Delivers what is new, pass after pass while passes find events: a start request that came
/// while this run was busy was merged into it by systemd, and its events must not wait for the
/// next round.
fn deliver_new(
    ctx: &Context,
    project: &Project,
    settings: &Notify,
    receivers: &[Receiver],
) -> Result<u8> {
    let (mut read, mut delivered) = (0, 0);
    for pass in 0..MAX_PASSES {
        let (seen, sent) = deliver_pass(ctx, project, settings, receivers)?;
        read += seen;
        delivered += sent;
        match (seen, pass) {
            (0, 0) => std::thread::sleep(SETTLE),
            (0, _) => break,
            _ => {}
        }
    }
    crate::output::line(format_args!(
        "{}: {read} event(s) read, {delivered} delivered",
        project.name
    ))?;
    Ok(exit::OK)
}

/// One pass: the events after the cursor, each delivered (or skipped), the cursor moved past it.
/// How many were read and how many delivered; an error after a failed delivery.
fn deliver_pass(
    ctx: &Context,
    project: &Project,
    settings: &Notify,
    receivers: &[Receiver],
) -> Result<(usize, usize)> {
    let name = &project.name;
    let mut memory = store::load(ctx.scope, name)?;
    let events = journal::events_after(name, memory.cursor.as_deref(), &settings.on)?;
    let emitter = Emitter::new(name, None);
    let mut delivered = 0usize;
    for record in &events {
        let kind = record.name().unwrap_or_default().to_string();
        let ts = record.ts_us().unwrap_or_default();
        let wanted =
            settings.on.contains(&kind) && !memory.is_duplicate(&kind, ts, settings.dedup_window_s);
        if wanted {
            let cursor = record.cursor().unwrap_or_default().to_string();
            match send(receivers, settings, &record.to_json(), &RETRY_PAUSES) {
                Ok(targets) => {
                    emitter.emit(
                        record.round(),
                        None,
                        &format!("{name}: {kind} delivered to {}", targets.join(", ")),
                        NotifySent {
                            notified: kind.clone(),
                            cursor,
                            targets,
                        },
                    );
                    memory.sent_us.insert(kind, ts);
                    delivered += 1;
                }
                Err((target, error, attempts)) => {
                    emitter.emit(
                        record.round(),
                        None,
                        &format!("{name}: {kind} not delivered to {target}: {error}"),
                        NotifyFailed {
                            notified: kind.clone(),
                            target: target.clone(),
                            error: error.clone(),
                            attempts,
                        },
                    );
                    store::save(ctx.scope, name, &memory)?;
                    return Err(Error::Failed(format!(
                        "{name}: {kind} not delivered to {target} after {attempts} tries: {error}"
                    )));
                }
            }
        }
        memory.cursor = record.cursor().map(ToString::to_string).or(memory.cursor);
        store::save(ctx.scope, name, &memory)?;
    }
    Ok((events.len(), delivered))
}

/// The made-up event of `--test`.
fn test_event(project: &Project) -> Value {
    serde_json::json!({
        "ts": crate::time::iso_utc_us(crate::time::now_us()),
        "event": "notify_test",
        "project": project.name,
        "message": format!("test notification of {} from agent-runner", project.name),
        "priority": 6,
    })
}

fn send_test(project: &Project, settings: &Notify, receivers: &[Receiver]) -> Result<u8> {
    let event = test_event(project);
    let mut failed = false;
    for receiver in receivers {
        match send(std::slice::from_ref(receiver), settings, &event, &[]) {
            Ok(_) => crate::output::line(format_args!("{}: delivered", receiver.shown()))?,
            Err((target, error, _)) => {
                failed = true;
                crate::output::line(format_args!("{target}: FAILED: {error}"))?;
            }
        }
    }
    if failed {
        return Err(Error::Failed(format!(
            "{}: a receiver did not take the test notification",
            project.name
        )));
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_kinds_are_kinds_and_the_notifiers_own_are_too() {
        let defaults = crate::config::notify::DEFAULT_ON;
        let own = crate::config::notify::OWN_KINDS;
        for name in defaults.iter().chain(own) {
            assert!(crate::events::Kind::from_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn a_receiver_is_shown_without_its_secret() {
        let url = HttpUrl::parse("https://hooks.example/services/T/B/SECRET?t=1").unwrap();
        assert_eq!(
            Receiver::Webhook(url).shown(),
            "webhook https://hooks.example:443/…"
        );
        let command = Receiver::Command(vec!["/usr/bin/page".into(), "--token=x".into()]);
        assert_eq!(command.shown(), "command /usr/bin/page");
    }
}
