#!/usr/bin/env bash
# Every test agent-runner has, in order: lint, unit + integration tests, rendered-unit checks,
# then the system suites against a real systemd 252 booted in systemd-nspawn.
# Run as root on Debian 12 (the system suites need it). Installs what it needs (tests/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s ===\n' "$*"; }

step "setup"
tests/setup.sh

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --quiet

step "rendered units: systemd-analyze verify and security"
tests/verify-units.sh

step "system suite: the loop on a real systemd 252 (tests/system/run.sh)"
tests/system/run.sh

step "Debian package: build, lintian, dpkg -i into systemd 252, demo, generator, purge"
packaging/test-deb.sh
