//! The command line: help, usage errors, init → check → generate.

use crate::harness::Test;

#[test]
fn help_teaches_the_workflow() {
    Test::new().args(["--help"]).run().status(0).output_contains("Workflow:");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    Test::new().args(["frobnicate"]).run().status(2).no_panic();
}
