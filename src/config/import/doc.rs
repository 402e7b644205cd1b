//! The project file `import` writes, built table by table and rendered as TOML text in a fixed,
//! readable order (the order agent-runner.toml(5) documents the tables in).

use std::fmt::Write as _;

use toml::Value;

/// A TOML document: tables in the order they were first touched, keys in the order they were set.
#[derive(Debug, Default)]
pub(super) struct Doc {
    tables: Vec<Table>,
}

#[derive(Debug)]
struct Table {
    /// The dotted path of the table (empty for the top level).
    path: Vec<String>,
    entries: Vec<(String, Value)>,
}

/// The tables every imported file has, in the order they are written.
const ORDER: &[&[&str]] = &[
    &[],
    &["agent"],
    &["agent", "env"],
    &["runtime"],
    &["prompt"],
    &["phases"],
    &["vcs"],
    &["alerts"],
    &["goal"],
];

impl Doc {
    /// An empty document with its tables in their documented order.
    pub(super) fn new() -> Self {
        let tables = ORDER
            .iter()
            .map(|path| Table {
                path: path.iter().map(ToString::to_string).collect(),
                entries: Vec::new(),
            })
            .collect();
        Self { tables }
    }

    /// Sets `key` in the table at `path` (replacing an earlier value of the same key).
    pub(super) fn set(&mut self, path: &[&str], key: &str, value: Value) {
        let table = self.table(path);
        match table.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => table.entries.push((key.to_string(), value)),
        }
    }

    /// The value of `key` in the table at `path`, if set.
    pub(super) fn get(&self, path: &[&str], key: &str) -> Option<&Value> {
        self.tables
            .iter()
            .find(|t| t.path == path)
            .and_then(|t| t.entries.iter().find(|(k, _)| k == key))
            .map(|(_, v)| v)
    }

    fn table(&mut self, path: &[&str]) -> &mut Table {
        let at = if let Some(at) = self.tables.iter().position(|t| t.path == path) {
            at
        } else {
            self.tables.push(Table {
                path: path.iter().map(ToString::to_string).collect(),
                entries: Vec::new(),
            });
            self.tables.len() - 1
        };
        &mut self.tables[at]
    }

    /// The TOML text, `header` (comment lines) first; tables with no keys are left out.
    pub(super) fn render(&self, header: &str) -> String {
        let mut text = String::from(header);
        for table in self.tables.iter().filter(|t| !t.entries.is_empty()) {
            if !table.path.is_empty() {
                let path: Vec<String> = table.path.iter().map(|p| key(p)).collect();
                let _ = writeln!(text, "\n[{}]", path.join("."));
            }
            for (k, v) in &table.entries {
                let _ = writeln!(text, "{} = {v}", key(k));
            }
        }
        text
    }
}

/// `name` as a TOML key: bare when it may be, quoted otherwise.
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        name.to_string()
    } else {
        Value::String(name.to_string()).to_string()
    }
}
