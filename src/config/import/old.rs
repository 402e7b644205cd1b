//! Reading the old runner's values: its tables as `toml` parsed them, with the lenient shapes it
//! (or its `migrate`) accepted, such as a bare string where a list belongs.

use toml::{Table, Value};

/// The table at `key` of `table`; a missing key or a non-table value reads as an empty table
/// (the old runner refused a table given as a scalar, so there is nothing to carry over).
pub(super) fn table<'t>(table: &'t Table, key: &str) -> Option<&'t Table> {
    table.get(key).and_then(Value::as_table)
}

/// A list of strings; a bare string is a one-element list, as the old `migrate` rewrote it.
pub(super) fn str_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(ToString::to_string))
            .collect(),
        _ => None,
    }
}

/// A list of strings as a TOML array.
pub(super) fn array(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

/// A string, or a number or boolean as the text the old runner made of it (`[agent.env]` values
/// were cast with `str()`, which spells booleans `True`/`False`).
pub(super) fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(true) => Some("True".to_string()),
        Value::Boolean(false) => Some("False".to_string()),
        _ => None,
    }
}

/// `text` as a TOML string value.
pub(super) fn string(text: &str) -> Value {
    Value::String(text.to_string())
}

/// A value as the report shows it: short, on one line.
pub(super) fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}
