//! Positions in the project file: every problem names its file, line and column, and the key it
//! is about.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::problems::echoed;
use crate::error::ConfigProblem;

/// A parsed file kept with its source text, so later problems can be positioned.
pub(super) struct Located<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
    pub(super) root: &'a DeTable<'a>,
}

impl Located<'_> {
    /// A problem about the key at `path` (`["runtime", "round_timeout_s"]`), positioned at the key's
    /// value when it is present in the file, else at its table, else unpositioned.
    pub(super) fn problem(&self, path: &[&str], message: impl Into<String>) -> ConfigProblem {
        let span = value_span(self.root, path);
        ConfigProblem {
            file: self.file.to_path_buf(),
            position: span.map(|s| line_col(self.text, s.start)),
            key: Some(echoed(&path.join("."))),
            message: message.into(),
            hint: None,
        }
    }

    /// A problem about the key spelt at `span` (unknown keys: the key itself is the mistake).
    pub(super) fn problem_at(
        &self,
        span: &Range<usize>,
        key: &str,
        message: String,
    ) -> ConfigProblem {
        ConfigProblem {
            file: self.file.to_path_buf(),
            position: Some(line_col(self.text, span.start)),
            key: Some(echoed(key)),
            message,
            hint: None,
        }
    }
}

/// The dotted path of the innermost key whose value contains byte `offset`.
pub(super) fn key_at(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>) -> Option<String> {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        // A [header] table's own span covers only its header, so always look inside tables.
        if let DeValue::Table(inner) = value.get_ref()
            && let Some(found) = key_at(inner, offset, path)
        {
            return Some(found);
        }
        if value.span().contains(&offset) || key.span().contains(&offset) {
            return Some(path.join("."));
        }
        path.pop();
    }
    None
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The table at `path` (`["phases", "build"]`, `["goal", "checks", "0"]`), when every step of it
/// is a table in the file, or an array of tables indexed by number.
fn table_at<'t, 'de>(root: &'t DeTable<'de>, path: &[&str]) -> Option<&'t DeTable<'de>> {
    let mut table = root;
    let mut parts = path.iter();
    while let Some(part) = parts.next() {
        let (_, value) = table.iter().find(|(k, _)| k.get_ref() == part)?;
        table = match value.get_ref() {
            DeValue::Table(t) => t,
            DeValue::Array(items) => {
                let index: usize = parts.next()?.parse().ok()?;
                match items.get(index)?.get_ref() {
                    DeValue::Table(t) => t,
                    _ => return None,
                }
            }
            _ => return None,
        };
    }
    Some(table)
}

/// The span of the key named by the last element of `path`, walking tables.
fn key_span(root: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    let (last, parents) = path.split_last()?;
    table_at(root, parents)?
        .iter()
        .find(|(k, _)| k.get_ref() == last)
        .map(|(k, _)| k.span())
}

/// The span of the value at `path`, falling back to the key, then to the closest parent present.
pub(super) fn value_span(root: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    for len in (1..=path.len()).rev() {
        let prefix = &path[..len];
        let (last, parents) = prefix.split_last()?;
        let found =
            table_at(root, parents).and_then(|t| t.iter().find(|(k, _)| k.get_ref() == last));
        if let Some((_, value)) = found {
            if matches!(value.get_ref(), DeValue::Table(_)) {
                return key_span(root, prefix);
            }
            return Some(value.span());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ä=1", 2), (1, 2));
    }
}
