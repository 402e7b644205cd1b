#!/usr/bin/env bash
# Every test agent-runner has, in order: lint, unit + integration tests, rendered-unit checks,
# then the system suites against a real systemd 252 booted in systemd-nspawn.
# Run as root on Debian 12 (the system suites need it). Installs what it needs (tests/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s ===\n' "$*"; }

# Every shell script in the repository, NUL-separated: *.sh and any other file whose first line
# starts a shell (generator wrappers, maintainer scripts, fake agents). Untracked files count too,
# ignored ones (target/) do not; a symlink is checked as its target.
shell_scripts() {
    local file first_line
    git ls-files -z --cached --others --exclude-standard | sort -zu |
        while IFS= read -r -d '' file; do
            [[ -f $file && ! -L $file ]] || continue
            first_line=
            IFS= read -r first_line <"$file" || true
            if [[ $file == *.sh || $first_line =~ ^\#!.*[/\ ](ba|da)?sh(\ |$) ]]; then
                printf '%s\0' "$file"
            fi
        done
}

step "setup"
tests/setup.sh

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

step "shellcheck"
# -x follows `source`; the scenarios say which shell sources them (`# shellcheck shell=bash`).
shell_scripts | xargs -0 shellcheck -x

step "cargo test"
cargo test --quiet

step "rendered units: systemd-analyze verify and security"
tests/verify-units.sh

step "system suite: the loop on a real systemd 252 (tests/system/run.sh)"
tests/system/run.sh

step "Debian package: build, lintian, dpkg -i into systemd 252, demo, generator, purge"
packaging/test-deb.sh
