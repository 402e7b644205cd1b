//! `[notify]`, of a project or of the shared notify.toml: receivers, body format, kinds, dedup.

use super::checker::Checker;
use crate::config::notify::{Format, NotifyKeys, OWN_KINDS, Webhook};
use crate::config::problems::echoed;
use crate::config::raw::RawNotify;
use crate::url::HttpUrl;

/// A dedup window longer than a week is a typo.
const MAX_DEDUP_WINDOW_S: i64 = 7 * 24 * 3600;
/// A delivery that may take longer than this holds the notifier of every later event up.
const MAX_TIMEOUT_S: i64 = 300;
/// An event kind's name is at most this long.
const MAX_KIND_LEN: usize = 64;

pub(super) fn notify(c: &mut Checker<'_, '_>, raw: &RawNotify) -> NotifyKeys {
    NotifyKeys {
        command: command(c, raw.command.as_ref()),
        webhook: webhook(c, raw),
        format: raw.format.as_deref().map(|f| {
            c.choice(
                &["notify", "format"],
                Some(f),
                &[
                    ("json", Format::Json),
                    ("ntfy", Format::Ntfy),
                    ("slack", Format::Slack),
                ],
                Format::Json,
            )
        }),
        on: on(c, raw.on.as_ref()),
        dedup_window_s: raw.dedup_window_s.and_then(|v| {
            bounded(
                c,
                "dedup_window_s",
                v,
                0,
                MAX_DEDUP_WINDOW_S,
                "0 (no dedup)",
            )
        }),
        timeout_s: raw
            .timeout_s
            .and_then(|v| bounded(c, "timeout_s", v, 1, MAX_TIMEOUT_S, "1")),
    }
}

fn command(c: &mut Checker<'_, '_>, argv: Option<&Vec<String>>) -> Option<Vec<String>> {
    let argv = argv?;
    let path = ["notify", "command"];
    if argv.first().is_none_or(String::is_empty) {
        c.fail_hint(
            &path,
            "must name a program: a non-empty list, its first word the program",
            "e.g. command = [\"/usr/local/bin/page-me\", \"--quiet\"]",
        );
        return None;
    }
    argv.iter()
        .all(|word| c.free_of_control_chars(&path, word))
        .then(|| argv.clone())
}

fn webhook(c: &mut Checker<'_, '_>, raw: &RawNotify) -> Option<Webhook> {
    match (&raw.webhook, &raw.webhook_credential) {
        (Some(_), Some(_)) => {
            c.fail_hint(
                &["notify", "webhook_credential"],
                "`webhook` and `webhook_credential` both name the webhook",
                "keep one: webhook_credential keeps a secret URL out of this file",
            );
            None
        }
        (Some(url), None) => match HttpUrl::parse(url) {
            Ok(_) => Some(Webhook::Url(url.clone())),
            Err(why) => {
                c.fail(&["notify", "webhook"], format!("the URL {why}"));
                None
            }
        },
        (None, Some(name)) => {
            let valid = !name.is_empty()
                && name.len() <= 255
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch))
                && name != "."
                && name != "..";
            if valid {
                Some(Webhook::Credential(name.clone()))
            } else {
                c.fail_hint(
                    &["notify", "webhook_credential"],
                    format!("\"{}\" is not a credential name", echoed(name)),
                    "letters, digits, `_`, `.` and `-`, as in LoadCredential=NAME:PATH of agent-runner-notify@PROJECT.service",
                );
                None
            }
        }
        (None, None) => None,
    }
}

fn on(c: &mut Checker<'_, '_>, kinds: Option<&Vec<String>>) -> Option<Vec<String>> {
    let kinds = kinds?;
    let path = ["notify", "on"];
    if kinds.is_empty() {
        c.fail_hint(
            &path,
            "is empty: nothing would ever be delivered",
            "name event kinds, e.g. on = [\"loop_halted\", \"alert_raised\"], or leave `on` out for the default",
        );
        return None;
    }
    let mut ok = true;
    for kind in kinds {
        let well_formed = !kind.is_empty()
            && kind.len() <= MAX_KIND_LEN
            && kind.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_');
        if !well_formed {
            c.fail(&path, format!("\"{}\" is not an event kind", echoed(kind)));
            ok = false;
        } else if OWN_KINDS.contains(&kind.as_str()) {
            c.fail_hint(
                &path,
                format!("\"{kind}\" is the notifier's own event"),
                "it cannot be delivered by the notifier it reports on: watch it with `agent-runner events --kind`",
            );
            ok = false;
        }
    }
    ok.then(|| kinds.clone())
}

fn bounded(
    c: &mut Checker<'_, '_>,
    key: &str,
    value: i64,
    min: i64,
    max: i64,
    least: &str,
) -> Option<u64> {
    if (min..=max).contains(&value) {
        return u64::try_from(value).ok();
    }
    c.fail(
        &["notify", key],
        format!("must be seconds from {least} to {max}, got {value}"),
    );
    None
}
