//! The shape of src/ that docs/architecture.md promises, checked on the source text: the module
//! graph has no cycle, one D-Bus proxy per interface, unit names spelt in one module, short
//! functions and files. Each check names the place that breaks it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest function body a reader should have to hold in their head.
const MAX_FUNCTION_LINES: usize = 120;
/// The longest source file, its tests excluded.
const MAX_FILE_LINES: usize = 600;
/// The one module that may spell a unit name.
const UNIT_NAME_MODULE: &str = "units.rs";

/// One source file: its module path (`["observe", "status"]`) and its text without tests.
struct Source {
    module: Vec<String>,
    relative: String,
    code: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn sources() -> Vec<Source> {
    let mut files = Vec::new();
    collect_rs(&src_dir(), &mut files);
    files.sort();
    let test_only = test_only_files(&files);
    files
        .into_iter()
        .filter(|path| !test_only.contains(path))
        .map(|path| {
            let relative = path
                .strip_prefix(src_dir())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            Source {
                module: module_path(&relative),
                relative,
                code: without_tests(&text),
            }
        })
        .collect()
}

/// Files that only exist for tests: declared as `#[cfg(test)] mod name;` by their parent.
fn test_only_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        let dir = match path.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => path.parent().unwrap().to_path_buf(),
            _ => path.with_extension(""),
        };
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            let declared = pair[1]
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'));
            if let (["#[cfg(test)]", _], Some(name)) = (pair, declared) {
                found.insert(dir.join(format!("{name}.rs")));
                found.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    found
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `observe/status.rs` → `[observe, status]`; `round/mod.rs` → `[round]`; lib.rs → `[]`.
fn module_path(relative: &str) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The file without its unit-test modules (tests may reach anywhere; the shape is about the
/// code). rustfmt puts a top-level module's closing brace alone at the start of a line.
fn without_tests(text: &str) -> String {
    let mut kept = String::new();
    let mut in_tests = false;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !in_tests
            && line == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("mod ") && next.ends_with('{'))
        {
            in_tests = true;
            continue;
        }
        if in_tests {
            in_tests = line != "}";
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// The text with `//` comments blanked, so that prose naming a module is not an import.
fn without_comments(code: &str) -> String {
    code.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Module paths named in `code`: `crate::a::b`, `super::x`, `self::y`, including the members of
/// a `use crate::a::{b, c::d}` group.
fn referenced_paths(source: &Source) -> Vec<Vec<String>> {
    let code = without_comments(&source.code);
    // In `a/b.rs` and in `a/b/mod.rs` alike, `self` is `a::b` and `super` is `a`.
    let parent = source.module[..source.module.len().saturating_sub(1)].to_vec();
    let mut paths = Vec::new();
    for (anchor, base) in [
        ("crate::", Vec::new()),
        ("super::", parent),
        ("self::", source.module.clone()),
    ] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(anchor) {
            let preceded_by_ident = rest[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            rest = &rest[i + anchor.len()..];
            if preceded_by_ident {
                continue;
            }
            let (head, group) = path_and_group(rest);
            let mut path = base.clone();
            path.extend(head.iter().cloned());
            for member in group {
                let mut full = path.clone();
                full.extend(member);
                paths.push(full);
            }
            paths.push(path);
        }
    }
    paths
}

/// Splits `a::b::{c, d::e}…` into `[a, b]` and the group members `[[c], [d, e]]`.
fn path_and_group(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut head = Vec::new();
    let mut rest = text;
    loop {
        let ident_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if ident_len == 0 {
            break;
        }
        head.push(rest[..ident_len].to_string());
        rest = &rest[ident_len..];
        match rest.strip_prefix("::") {
            Some(after) => rest = after,
            None => break,
        }
    }
    let mut group = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let end = inner.find(';').unwrap_or(inner.len());
        for member in inner[..end].split([',', '{', '}']) {
            let segments: Vec<String> = member
                .split("::")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty() && s != "self")
                .collect();
            if !segments.is_empty() {
                group.push(segments);
            }
        }
    }
    (head, group)
}

/// The file a path lands in: the longest prefix that is a module of ours.
fn resolve<'a>(path: &[String], modules: &'a BTreeSet<Vec<String>>) -> Option<&'a Vec<String>> {
    (0..=path.len()).rev().find_map(|n| modules.get(&path[..n]))
}

fn import_graph(sources: &[Source]) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    sources
        .iter()
        .map(|source| {
            let targets = referenced_paths(source)
                .iter()
                .filter_map(|path| resolve(path, &modules))
                .filter(|target| **target != source.module)
                .cloned()
                .collect();
            (source.module.clone(), targets)
        })
        .collect()
}

/// Strongly connected components with more than one member (Tarjan).
fn cycles<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    struct Walk<'g, N> {
        graph: &'g BTreeMap<N, BTreeSet<N>>,
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        found: Vec<Vec<N>>,
    }
    impl<N: Ord + Clone> Walk<'_, N> {
        fn visit(&mut self, node: &N) {
            let i = self.index.len();
            self.index.insert(node.clone(), i);
            self.low.insert(node.clone(), i);
            self.stack.push(node.clone());
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node.clone(), low);
                } else if self.stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node.clone(), low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self.stack.iter().position(|n| n == node).unwrap();
                let component = self.stack.split_off(at);
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.found
}

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

#[test]
fn no_import_cycle_between_files() {
    let graph = import_graph(&sources());
    let found: Vec<String> = cycles(&graph)
        .iter()
        .map(|c| c.iter().map(|m| show(m)).collect::<Vec<_>>().join(" ↔ "))
        .collect();
    assert!(found.is_empty(), "import cycles:\n  {}", found.join("\n  "));
}

#[test]
fn no_import_cycle_between_folders() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in import_graph(&sources()) {
        let top = |m: &[String]| m.first().cloned().unwrap_or_else(|| "crate".into());
        let entry = graph.entry(top(&from)).or_default();
        entry.extend(targets.iter().map(|t| top(t)).filter(|t| *t != top(&from)));
    }
    let found: Vec<String> = cycles(&graph).iter().map(|c| c.join(" ↔ ")).collect();
    assert!(found.is_empty(), "folder cycles:\n  {}", found.join("\n  "));
}

#[test]
fn only_main_uses_the_crate_root() {
    for source in sources() {
        if source.module.is_empty() {
            continue;
        }
        for path in referenced_paths(&source) {
            let reaches_root_item =
                path.len() == 1 && !sources().iter().any(|s| s.module.first() == path.first());
            assert!(
                !reaches_root_item,
                "{} imports crate::{} from the crate root",
                source.relative,
                path.join("::")
            );
        }
    }
}

#[test]
fn one_proxy_per_dbus_interface() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for source in sources() {
        let attributes = source
            .code
            .match_indices("#[proxy(")
            .chain(source.code.match_indices("#[zbus::proxy("));
        for (i, _) in attributes {
            let attribute = &source.code[i..source.code[i..].find(")]").map_or(i, |e| i + e)];
            let interface = attribute
                .split("interface = \"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("?")
                .to_string();
            if let Some(first) = seen.insert(interface.clone(), source.relative.clone()) {
                panic!(
                    "{interface} has a proxy in {first} and in {}",
                    source.relative
                );
            }
        }
    }
    assert!(
        !seen.is_empty(),
        "no #[proxy] found: the check reads the wrong files"
    );
}

#[test]
fn unit_names_are_spelt_in_one_module() {
    let spellings = [
        "format!(\"agent-runner@",
        "format!(\"agent-runner-loop@",
        "format!(\"agent-runner-halt@",
        "format!(\"agent-runner-backoff",
        "format!(\"{}@",
    ];
    for source in sources() {
        if source.relative == UNIT_NAME_MODULE {
            continue;
        }
        for spelling in spellings {
            assert!(
                !source.code.contains(spelling),
                "{} spells a unit name with {spelling}…; ask {UNIT_NAME_MODULE} for it",
                source.relative
            );
        }
    }
    assert!(
        src_dir().join(UNIT_NAME_MODULE).exists(),
        "{UNIT_NAME_MODULE} is missing"
    );
}

#[test]
fn functions_are_short() {
    let mut long = Vec::new();
    for source in sources() {
        let lines: Vec<&str> = source.code.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let Some(indent) = function_start(line) else {
                continue;
            };
            if line.trim_end().ends_with(';') {
                continue;
            }
            let closing = " ".repeat(indent) + "}";
            let Some(length) = lines[start..].iter().position(|l| *l == closing) else {
                continue;
            };
            if length + 1 > MAX_FUNCTION_LINES {
                long.push(format!(
                    "{}:{} is {} lines: {}",
                    source.relative,
                    start + 1,
                    length + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n  {}",
        long.join("\n  ")
    );
}

/// The indentation of a line that starts a function definition.
fn function_start(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let mut rest = trimmed;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    rest.starts_with("fn ").then_some(indent)
}

#[test]
fn files_are_short() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|s| s.code.lines().count() > MAX_FILE_LINES)
        .map(|s| format!("{} has {} lines", s.relative, s.code.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines (tests excluded):\n  {}",
        long.join("\n  ")
    );
}
