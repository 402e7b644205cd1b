//! An event as read back ([`Record`]), what is asked for ([`Query`]) and where it came from
//! ([`Source`]): what the journal and the mirror readers of [`super::read`] share.

use serde_json::{Map, Value};

use super::{Event, Kind, KindName};
use crate::time::parse_iso_us;

/// Where events were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Source {
    /// The systemd journal.
    Journal,
    /// `LOG_DIR/events.jsonl` (and its rotations).
    Mirror,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    /// Only these kinds (all when empty).
    pub kinds: Vec<KindName>,
    /// Only this round.
    pub round: Option<u64>,
    /// Only events at or after this time (journalctl syntax; the mirror understands a subset).
    pub since: Option<String>,
    /// The newest `limit` events (all when `None`).
    pub limit: Option<usize>,
    /// Look at no more than this many of the newest events of the mirror (all when `None`): a
    /// question about "lately" must not cost the whole history.
    pub scan: Option<usize>,
}

/// One event as read back: the stored object (`{"ts","event","project","round",…payload}`, plus
/// `priority` and `__cursor` from the journal) and the kind it names, when this version knows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    fields: Map<String, Value>,
    kind: Option<Kind>,
}

impl Record {
    /// The record of a stored object.
    pub(crate) fn from_fields(fields: Map<String, Value>) -> Self {
        let kind = fields
            .get("event")
            .and_then(Value::as_str)
            .and_then(Kind::from_name);
        Self { fields, kind }
    }

    /// The kind, when this version knows it.
    pub(crate) fn kind(&self) -> Option<Kind> {
        self.kind
    }

    /// The kind's name as stored, known to this version or not.
    pub(crate) fn name(&self) -> Option<&str> {
        self.fields.get("event").and_then(Value::as_str)
    }

    /// The event with its typed payload; `None` for a kind this version does not know or a
    /// payload of the wrong shape. The journal gives a null back as an empty string, so empty and
    /// null fields count as absent (and take their default).
    pub(crate) fn event(&self) -> Option<Event> {
        let kind = self.kind?;
        let present: Map<String, Value> = self
            .fields
            .iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Event::from_payload(kind, Value::Object(present)).ok()
    }

    /// The round the event belongs to (a number, or a numeric string from the journal).
    pub(crate) fn round(&self) -> Option<u64> {
        match self.fields.get("round")? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// When it happened, in µs since the epoch.
    pub(crate) fn ts_us(&self) -> Option<u64> {
        self.fields
            .get("ts")
            .and_then(Value::as_str)
            .and_then(parse_iso_us)
    }

    /// Its journal priority (the mirror carries none).
    pub(crate) fn priority(&self) -> Option<u64> {
        self.fields.get("priority").and_then(Value::as_u64)
    }

    /// Its journal cursor (the mirror has none).
    pub(crate) fn cursor(&self) -> Option<&str> {
        self.fields.get("__cursor").and_then(Value::as_str)
    }

    /// The stored object, field by field, in its order.
    pub(crate) fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// One stored field.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// The stored object as JSON output shows it: without the journal's cursor.
    pub(crate) fn to_json(&self) -> Value {
        let mut fields = self.fields.clone();
        fields.remove("__cursor");
        Value::Object(fields)
    }

    /// Whether it is one of the events `query` asks for (its kinds and round).
    pub(super) fn matches(&self, query: &Query) -> bool {
        let name = self.name().unwrap_or("");
        if !query.kinds.is_empty() && !query.kinds.iter().any(|k| k.as_str() == name) {
            return false;
        }
        if let Some(round) = query.round
            && self.round() != Some(round)
        {
            return false;
        }
        true
    }
}
