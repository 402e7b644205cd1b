//! A seeded fuzz of the project loader, run by `cargo test`: valid project files (the full test
//! project and what `init` writes for each preset) are mutated the ways hand edits and hostile
//! files go wrong, written to disk and loaded. Every case must end in a project whose unit values
//! are clean, or in a configuration or usage error with a short message; never a panic.
//!
//! The seed is fixed so that every run checks the same cases; `AGENT_RUNNER_FUZZ_SEED=N` (decimal
//! or 0x-hex) tries others and `AGENT_RUNNER_FUZZ_CASES=N` more of them. A failure prints the seed
//! and the case, which is all it takes to replay it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super::controls::first_control_char;
use super::load::load;
use super::model::{Project, valid_project_name};
use super::presets;
use super::problems::MAX_LISTED;
use crate::error::Error;
use crate::paths::Scope;
use crate::render::features::Features;
use crate::render::{RenderOptions, render_project};

const DEFAULT_SEED: u64 = 0x5eed_0f11_c0f1_9000;
const DEFAULT_CASES: usize = 1200;

/// xorshift64*: small, fast and good enough to pick mutations; no crate needed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // xorshift never leaves zero.
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The valid files mutations start from.
fn seed_files() -> Vec<String> {
    let full = include_str!("../../tests/corpus/full.toml")
        .replace("@WORK@", "/srv/work")
        .replace("@CREDS@", "/etc/agent-runner/credentials");
    let mut files = vec![full];
    for preset in presets::ALL {
        files.push(super::init::project_toml(
            preset,
            "demo",
            Path::new("/srv/demo"),
            Path::new("/etc/agent-runner/prompts/demo/main.md"),
        ));
    }
    files
}

const CONTROL: &[&str] = &[
    "\n", "\t", "\r", "\0", "\u{1b}", "\u{7f}", "\u{85}", "\u{8}",
];
const ESCAPED_CONTROL: &[&str] = &["\\n", "\\t", "\\r", "\\u0000", "\\u007f", "\\u0085", "\\e"];
const VALUES: &[&str] = &[
    "1",
    "-1",
    "0",
    "1.5",
    "true",
    "\"x\"",
    "\"\"",
    "\" \"",
    "[]",
    "[1, \"a\"]",
    "[[]]",
    "{}",
    "{ a = 1 }",
    "\"~\"",
    "\"{project}\"",
    "\"../../..\"",
    "\"~/x\"",
    "1979-05-27T07:32:00Z",
];
const NUMBERS: &[&str] = &[
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "99999999999999999999999999",
    "315360001",
    "1e308",
    "inf",
    "nan",
    "0x7fffffffffffffff",
    "0",
];
const UNICODE: &[&str] = &[
    "ä", "\u{202e}", "😀", "\u{2028}", "\u{feff}", "\u{301}", "\u{fffd}",
];
const TABLES: &[&str] = &[
    "[agent]",
    "[phases.x]",
    "[[runtime]]",
    "[runtime.work_dir]",
    "[phases]\nlist = [\"a\", \"a\"]",
    "[agent.env]\nAGENT_RUNNER_X = \"1\"",
    "[agent.credentials]\n\"a/b\" = \"x\"",
    "[bogus]\nx = 1",
    "[agent.env]\n\"A\\rB\" = \"1\"",
    "\"k\\u001b[2J\" = 1",
    "[phases.\"a\\rb\"]",
    "preset = \"x\\ry\"",
];

/// A char boundary of `text` at or before byte `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One mutation of `text`.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(ToString::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let line = rng.below(lines.len());
    match rng.below(11) {
        0 => {
            lines.remove(line);
        }
        1 => lines.insert(line, lines[line].clone()),
        2 => {
            let other = rng.below(lines.len());
            lines.swap(line, other);
        }
        3 => {
            if let Some((key, _)) = lines[line].split_once('=') {
                lines[line] = format!("{key}= {}", rng.pick(VALUES));
            }
        }
        4 => {
            let at = rng.below(lines[line].len() + 1);
            let at = boundary(&lines[line], at);
            let set = if rng.below(2) == 0 {
                CONTROL
            } else {
                ESCAPED_CONTROL
            };
            lines[line].insert_str(at, rng.pick(set));
        }
        5 => {
            if let Some(start) = lines[line].find(|c: char| c.is_ascii_digit()) {
                let end = lines[line][start..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(lines[line].len(), |e| start + e);
                lines[line].replace_range(start..end, rng.pick(NUMBERS));
            }
        }
        6 => {
            let at = boundary(&lines[line], rng.below(lines[line].len() + 1));
            lines[line].insert_str(at, rng.pick(UNICODE));
        }
        7 => {
            let joined = lines.join("\n");
            let cut = boundary(&joined, rng.below(joined.len() + 1));
            return joined[..cut].to_string();
        }
        8 => lines.insert(line, rng.pick(TABLES).to_string()),
        9 => {
            let copies = vec![lines[line].clone(); 1 + rng.below(300)];
            lines.splice(line..=line, copies);
        }
        _ => {
            if let Some(open) = lines[line].find('"') {
                lines[line].insert_str(open + 1, rng.pick(&["~/", "{project}/", "../", " "]));
            }
        }
    }
    lines.join("\n")
}

/// The file name a case is written to: now and then one that a unit could not carry.
fn file_name(rng: &mut Rng) -> &'static str {
    rng.pick(&[
        "demo.toml",
        "demo.toml",
        "demo.toml",
        "demo.toml",
        "demo.toml",
        "demo.toml",
        "demo.toml",
        "demo\nExecStopPost=+x.toml",
        "de\tmo.toml",
        "-demo.toml",
    ])
}

/// What a loaded project must promise to the renderer: nothing it puts in a unit holds a control
/// character, and the units keep their own lines (the same `Exec*=` lines as always).
fn check_project(project: &Project) -> Result<(), String> {
    let rt = &project.runtime;
    let mut values: Vec<String> = vec![
        project.source.display().to_string(),
        rt.work_dir.display().to_string(),
        rt.log_dir.display().to_string(),
    ];
    values.extend(rt.stop_file.iter().map(|p| p.display().to_string()));
    values.extend(rt.schedule.clone());
    values.extend(rt.user.clone());
    values.extend(
        project
            .agent
            .credentials
            .iter()
            .map(|(n, p)| format!("{n}:{}", p.display())),
    );
    if let Some(bad) = values.iter().find(|v| first_control_char(v).is_some()) {
        return Err(format!("a unit value holds a control character: {bad:?}"));
    }
    if !valid_project_name(&project.name) {
        return Err(format!("invalid name {:?} accepted", project.name));
    }
    let options = RenderOptions {
        exec: PathBuf::from("/usr/bin/agent-runner"),
        features: Features::of(252),
        source_path: true,
    };
    let units = render_project(project, "", &options).map_err(|e| e.to_string())?;
    let exec_lines = units
        .iter()
        .flat_map(|u| u.contents.lines())
        .filter(|l| l.starts_with("Exec"))
        .count();
    if exec_lines != 10 {
        return Err(format!("{exec_lines} Exec lines rendered, not 10"));
    }
    Ok(())
}

/// What a refusal must look like: exit 78 (or 2), and a message an operator can read.
fn check_error(err: &Error) -> Result<(), String> {
    let code = err.exit_code();
    if code != 78 && code != 2 {
        return Err(format!("exit {code}: {err}"));
    }
    let text = err.to_string();
    if text.trim().is_empty() {
        return Err("an empty message".into());
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!("a control character in the message: {text:?}"));
    }
    let Error::Config(problems) = err else {
        return if text.lines().count() <= 3 {
            Ok(())
        } else {
            Err(format!("a long message: {text}"))
        };
    };
    if problems.len() > MAX_LISTED + 1 {
        return Err(format!("{} problems listed", problems.len()));
    }
    match problems.iter().find(|p| p.to_string().lines().count() > 2) {
        Some(p) => Err(format!("a problem of more than two lines: {p}")),
        None => Ok(()),
    }
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

#[test]
fn mutated_project_files_load_or_fail_cleanly() {
    let seed = env_number("AGENT_RUNNER_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let cases = env_number("AGENT_RUNNER_FUZZ_CASES")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_CASES);
    let seeds = seed_files();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    let mut loaded = 0;
    for case in 0..cases {
        let mut text = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(3) {
            text = mutate(&mut rng, &text);
        }
        let path = dir.path().join(file_name(&mut rng));
        std::fs::write(&path, &text).unwrap();
        let scope = if rng.below(2) == 0 {
            Scope::System
        } else {
            Scope::User
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| match load(&path, scope) {
            Ok(project) => check_project(&project).map(|()| true),
            Err(e) => check_error(&e).map(|()| false),
        }));
        std::fs::remove_file(&path).unwrap();
        match outcome {
            Ok(Ok(true)) => loaded += 1,
            Ok(Ok(false)) => {}
            Ok(Err(why)) => failures.push(format!("case {case} ({path:?}): {why}\n{text}")),
            Err(_) => failures.push(format!("case {case} ({path:?}): panicked\n{text}")),
        }
    }
    assert!(
        failures.is_empty(),
        "config fuzz, seed {seed:#x} (replay: AGENT_RUNNER_FUZZ_SEED={seed:#x}): {} of {cases} cases failed; the first:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n---\n")
    );
    // Mutations that break every file would test nothing but the parser.
    assert!(
        loaded * 20 >= cases,
        "only {loaded} of {cases} mutated files loaded (seed {seed:#x})"
    );
}
