#!/usr/bin/env bash
# Every test agent-runner has, in order: lint, unit + integration tests, rendered-unit checks,
# then the system suites against a real systemd booted in systemd-nspawn: Debian 12's 252 and
# Debian 13's 257.
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
# The import tests convert every stock preset of the old runner (installed by setup above).
AGENT_RUNNER_OLD_PRESETS=$(tests/old-runner/presets.sh)
export AGENT_RUNNER_OLD_PRESETS
cargo test --quiet

# The Debian suites whose systemd every system-level check runs on: bookworm (Debian 12, systemd
# 252) and trixie (Debian 13, systemd 257). SYSTEM_SUITES="bookworm" runs one.
read -ra suites <<<"${SYSTEM_SUITES:-bookworm trixie}"

step "rendered units: systemd-analyze verify and security (this host's systemd 252)"
tests/verify-units.sh
for suite in "${suites[@]}"; do
    [[ $suite == bookworm ]] && continue # the host's own tools above
    step "rendered units: systemd-analyze verify and security ($suite's systemd)"
    VERIFY_SUITE=$suite tests/verify-units.sh
done

for suite in "${suites[@]}"; do
    step "system suite on $suite: the loop on a real systemd (tests/system/run.sh)"
    SANDBOX_SUITE=$suite tests/system/run.sh
done

deb=$(packaging/build-deb.sh | tail -n1)
for suite in "${suites[@]}"; do
    step "Debian package on $suite: lintian, dpkg -i into a real systemd, demo, generator, purge"
    DEB=$deb SANDBOX_SUITE=$suite packaging/test-deb.sh
done
