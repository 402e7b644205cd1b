//! The problem collector every table's checks write into: validation goes on after a problem, so
//! that one `check` shows every mistake in the file (the first ones listed, the rest counted).

use crate::config::controls::first_control_char;
use crate::config::problems::{Problems, echoed};
use crate::config::spans::Located;
use crate::error::ConfigProblem;

/// Values above this (ten years in seconds) are typos, whatever the key.
const UNREASONABLY_LARGE: i64 = 10 * 365 * 24 * 3600;

/// Positions problems in the file and keeps them in the order they were found.
pub(super) struct Checker<'a, 'b> {
    doc: &'a Located<'b>,
    problems: Problems,
}

impl<'a, 'b> Checker<'a, 'b> {
    pub(super) fn new(doc: &'a Located<'b>) -> Self {
        Self {
            doc,
            problems: Problems::default(),
        }
    }

    /// The file being validated.
    pub(super) fn doc(&self) -> &'a Located<'b> {
        self.doc
    }

    /// Every problem found, or `Ok` when there is none.
    pub(super) fn finish(self) -> Result<(), Vec<ConfigProblem>> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems.into_vec(self.doc.file))
        }
    }

    /// Records a problem; `make` only runs when the problem will be listed.
    pub(super) fn push(&mut self, make: impl FnOnce() -> ConfigProblem) {
        self.problems.add(make);
    }

    pub(super) fn fail(&mut self, path: &[&str], message: impl Into<String>) {
        let doc = self.doc;
        self.problems.add(|| doc.problem(path, message));
    }

    pub(super) fn fail_hint(
        &mut self,
        path: &[&str],
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let doc = self.doc;
        self.problems.add(|| doc.problem(path, message).hint(hint));
    }

    /// Whether `value` (at `path`) is free of control characters; a problem when it is not.
    pub(super) fn free_of_control_chars(&mut self, path: &[&str], value: &str) -> bool {
        let Some(found) = first_control_char(value) else {
            return true;
        };
        self.fail_hint(
            path,
            format!("contains a control character ({found})"),
            "paths, and every value that reaches a systemd unit, must be free of control characters: a unit cannot carry them",
        );
        false
    }

    /// A positive number of seconds (or a positive count) with a default.
    pub(super) fn positive(&mut self, path: &[&str], value: Option<i64>, default: i64) -> u64 {
        self.optional_positive(path, value)
            .unwrap_or(u64::try_from(default).unwrap_or(1))
    }

    pub(super) fn optional_positive(&mut self, path: &[&str], value: Option<i64>) -> Option<u64> {
        let v = value?;
        if v <= 0 {
            let what = if path.last().is_some_and(|k| k.ends_with("_s")) {
                "duration"
            } else {
                "count"
            };
            self.fail(path, format!("must be a positive {what}, got {v}"));
            return None;
        }
        if v > UNREASONABLY_LARGE {
            self.fail(path, format!("{v} is unreasonably large"));
            return None;
        }
        u64::try_from(v).ok()
    }

    /// One of the named `options`; `default` when the key is absent or its value is not one.
    pub(super) fn choice<T: Copy>(
        &mut self,
        path: &[&str],
        value: Option<&str>,
        options: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(v) = value else { return default };
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == v) {
            return *t;
        }
        let names: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        self.fail(
            path,
            format!("\"{}\" is not one of {}", echoed(v), names.join(", ")),
        );
        default
    }
}
