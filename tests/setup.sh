#!/usr/bin/env bash
# Installs what the test suites need on a fresh Debian 12 machine (idempotent, non-interactive).
set -euo pipefail
need=()
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v git >/dev/null || need+=(git)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v lintian >/dev/null || need+=(lintian)
command -v groff >/dev/null || need+=(groff-base)
command -v man >/dev/null || need+=(man-db)
command -v jq >/dev/null || need+=(jq)
command -v shellcheck >/dev/null || need+=(shellcheck)
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# The status page's scenario: a real browser (headless) and Prometheus' own metrics checker.
command -v chromium >/dev/null || need+=(chromium)
command -v promtool >/dev/null || need+=(prometheus)
command -v curl >/dev/null || need+=(curl)
# The completion tests run the real shells: fish's own completer (bash is always there).
command -v fish >/dev/null || need+=(fish)
if ((${#need[@]})); then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
# The real agent CLIs (claude, codex, gemini, aider) at their pinned versions, for the tests that
# run them against the fake provider: cached, so this is quick once they are there.
if [[ ${AGENT_RUNNER_SKIP_REAL_AGENTS:-} != 1 ]]; then
    "$(dirname "$0")/agents/real/install.sh" >/dev/null
fi
# The old Python runner's stock presets, which the import tests convert (cached, quick once there).
"$(dirname "$0")/old-runner/presets.sh" >/dev/null
