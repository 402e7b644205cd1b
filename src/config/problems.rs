//! The problems of one project file, listed up to a cap and only counted beyond it.
//!
//! Positioning a problem (its line and column, the span of its key) walks the file, so a file
//! with tens of thousands of mistakes would cost tens of thousands of walks. Only the first
//! [`MAX_LISTED`] are built; the rest are counted and reported as one closing line. Nobody reads
//! the fiftieth problem before fixing the first ones.

use std::path::Path;

use super::controls::escaped;
use crate::error::ConfigProblem;

/// How many problems of one file are listed; the rest are counted.
pub(super) const MAX_LISTED: usize = 20;

/// The longest name or value (a key, a dotted key path, a preset name) a problem echoes in full.
const MAX_ECHOED_CHARS: usize = 80;

/// `text` from the file as a problem echoes it: control characters spelt as escapes, so that a
/// problem stays on its line, and cut to [`MAX_ECHOED_CHARS`], since a key may be as long as the
/// file.
pub(super) fn echoed(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHOED_CHARS) {
        None => escaped(text),
        Some((cut, _)) => format!("{}…", escaped(&text[..cut])),
    }
}

/// Problems in the order they were found, the first [`MAX_LISTED`] of them built.
#[derive(Default)]
pub(super) struct Problems {
    listed: Vec<ConfigProblem>,
    unlisted: usize,
}

impl Problems {
    /// Records a problem; `make` (which positions it) only runs while the list has room.
    pub(super) fn add(&mut self, make: impl FnOnce() -> ConfigProblem) {
        if self.listed.len() < MAX_LISTED {
            self.listed.push(make());
        } else {
            self.unlisted += 1;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// The listed problems of `file`, closed by a line counting the others when there are any.
    pub(super) fn into_vec(self, file: &Path) -> Vec<ConfigProblem> {
        let mut problems = self.listed;
        if self.unlisted > 0 {
            let n = self.unlisted;
            let s = if n == 1 { "" } else { "s" };
            problems.push(
                ConfigProblem::new(
                    file,
                    format!(
                        "and {n} more problem{s}, not listed (only the first {MAX_LISTED} are)"
                    ),
                )
                .hint("fix the ones above and check the file again"),
            );
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_first_problems_and_counts_the_rest() {
        let mut problems = Problems::default();
        let mut built = 0;
        for i in 0..MAX_LISTED + 5 {
            problems.add(|| {
                built += 1;
                ConfigProblem::new("x.toml", format!("problem {i}"))
            });
        }
        assert_eq!(built, MAX_LISTED, "problems past the cap are not built");
        let list = problems.into_vec(Path::new("x.toml"));
        assert_eq!(list.len(), MAX_LISTED + 1);
        assert_eq!(list[0].message, "problem 0");
        assert!(
            list[MAX_LISTED].message.starts_with("and 5 more problems"),
            "{}",
            list[MAX_LISTED]
        );
    }

    #[test]
    fn long_names_are_cut() {
        assert_eq!(echoed("runtime.work_dir"), "runtime.work_dir");
        let long = "ä".repeat(1000);
        assert_eq!(echoed(&long).chars().count(), MAX_ECHOED_CHARS + 1);
        assert_eq!(echoed("a\nb\u{7f}"), "a\\nb\\u{7f}");
    }

    #[test]
    fn no_closing_line_when_everything_is_listed() {
        let mut problems = Problems::default();
        problems.add(|| ConfigProblem::new("x.toml", "one"));
        assert_eq!(problems.into_vec(Path::new("x.toml")).len(), 1);
    }
}
