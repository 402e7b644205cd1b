//! The bad-config corpus: every file in tests/corpus/bad/ must be rejected with exit 78 and the
//! message its `# expect:` lines name.
