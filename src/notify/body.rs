//! What a webhook receives, in each `format`: the event object for a plain JSON receiver, ntfy's
//! plain publish (the message as the body, title, priority and tags as headers), or a
//! Slack-compatible incoming hook's `{"text": …}`. The command receiver always gets the event
//! object on stdin.

use serde_json::{Value, json};

use crate::config::notify::Format;

/// The most of an event's message sent as text (ntfy and Slack cut longer ones anyway).
const MAX_TEXT_CHARS: usize = 2000;

/// One request body with its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Body {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Further headers (names and values free of control characters).
    pub headers: Vec<(&'static str, String)>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The event as the receivers see it: the stored object without the journal's cursor.
pub(crate) fn event_json(event: &Value) -> Vec<u8> {
    let mut event = event.clone();
    if let Value::Object(fields) = &mut event {
        fields.remove("__cursor");
    }
    serde_json::to_vec(&event).unwrap_or_default()
}

/// The webhook body of `event` in `format`.
pub(crate) fn webhook(format: Format, event: &Value) -> Body {
    match format {
        Format::Json => Body {
            content_type: "application/json",
            headers: Vec::new(),
            bytes: event_json(event),
        },
        Format::Ntfy => ntfy(event),
        Format::Slack => Body {
            content_type: "application/json",
            headers: Vec::new(),
            bytes: serde_json::to_vec(&json!({ "text": slack_text(event) })).unwrap_or_default(),
        },
    }
}

fn text_field<'v>(event: &'v Value, key: &str) -> &'v str {
    event.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `agent-runner NAME: KIND`, for titles.
fn title(event: &Value) -> String {
    header_safe(&format!(
        "agent-runner {}: {}",
        text_field(event, "project"),
        text_field(event, "event")
    ))
}

fn message(event: &Value) -> String {
    text_field(event, "message")
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect()
}

fn ntfy(event: &Value) -> Body {
    // Journal priorities: 3 error, 4 warning, 6 info; ntfy's: 4 high, 3 default, 2 low.
    let (priority, tag) = match event.get("priority").and_then(Value::as_u64) {
        Some(p) if p <= 3 => ("4", "rotating_light"),
        Some(4) => ("3", "warning"),
        _ => ("2", "information_source"),
    };
    Body {
        content_type: "text/plain; charset=utf-8",
        headers: vec![
            ("Title", title(event)),
            ("Priority", priority.into()),
            ("Tags", tag.into()),
        ],
        bytes: message(event).into_bytes(),
    }
}

/// The Slack text: the project and kind, then the message, with `&`, `<` and `>` escaped as
/// Slack asks, so that a message cannot mention `<!channel>` or link anywhere.
fn slack_text(event: &Value) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "*agent-runner {}*: `{}`\n{}",
        escape(text_field(event, "project")),
        escape(text_field(event, "event")),
        escape(&message(event))
    )
}

/// A header value: control characters (a line break would end the header) become spaces.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Value {
        json!({
            "ts": "2026-11-28T03:00:00.000000Z", "event": "loop_halted", "project": "demo",
            "round": 3, "message": "loop of demo halted: <!channel> & more\r\nX-Evil: 1",
            "priority": 4, "reason": "max_rounds", "__cursor": "s=1",
        })
    }

    #[test]
    fn json_is_the_event_without_its_cursor() {
        let body = webhook(Format::Json, &event());
        assert_eq!(body.content_type, "application/json");
        let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
        assert_eq!(sent["reason"], "max_rounds");
        assert_eq!(sent["round"], 3);
        assert!(sent.get("__cursor").is_none());
    }

    #[test]
    fn ntfy_gets_the_message_as_text_and_a_safe_title() {
        let body = webhook(Format::Ntfy, &event());
        assert!(body.content_type.starts_with("text/plain"));
        assert!(
            String::from_utf8(body.bytes)
                .unwrap()
                .starts_with("loop of demo halted")
        );
        let title = &body.headers.iter().find(|(n, _)| *n == "Title").unwrap().1;
        assert_eq!(title, "agent-runner demo: loop_halted");
        assert!(body.headers.contains(&("Priority", "3".into())));
        let mut evil = event();
        evil["project"] = json!("a\r\nX-Evil: 1");
        let body = webhook(Format::Ntfy, &evil);
        assert!(body.headers.iter().all(|(_, v)| !v.contains(['\r', '\n'])));
    }

    #[test]
    fn slack_text_is_escaped() {
        let body = webhook(Format::Slack, &event());
        let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
        let text = sent["text"].as_str().unwrap();
        assert!(
            text.starts_with("*agent-runner demo*: `loop_halted`\n"),
            "{text}"
        );
        assert!(text.contains("&lt;!channel&gt; &amp; more"), "{text}");
        assert!(!text.contains("<!channel>"));
    }
}
