//! The bad-config corpus: every file in tests/corpus/bad/ must be rejected by `check` with exit
//! 78, no panic, and output containing each of its `# expect:` lines.

use std::path::PathBuf;

use crate::harness::Test;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_is_large_enough() {
    assert!(
        corpus().len() >= 30,
        "the bad-config corpus must hold at least 30 cases"
    );
}

#[test]
fn every_bad_config_is_rejected_with_its_message() {
    let mut failures = Vec::new();
    for file in corpus() {
        let text = std::fs::read_to_string(&file).unwrap();
        let expects: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expects.is_empty(),
            "{} has no `# expect:` line",
            file.display()
        );
        let run = Test::new()
            .args(["check", "--config", file.to_str().unwrap()])
            .run();
        run.no_panic();
        let output = format!("{}{}", run.stdout, run.stderr);
        if run.status != 78 {
            failures.push(format!(
                "{}: exit {} (want 78)\n{output}",
                file.display(),
                run.status
            ));
            continue;
        }
        for expect in expects {
            if !output.contains(expect) {
                failures.push(format!(
                    "{}: output lacks {expect:?}\n{output}",
                    file.display()
                ));
            }
        }
        // One or two plain lines per problem: no multi-line dumps.
        let lines = output.lines().count();
        if lines > 8 {
            failures.push(format!(
                "{}: {lines} lines of output is too much\n{output}",
                file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
}
