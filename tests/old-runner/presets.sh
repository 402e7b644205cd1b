#!/usr/bin/env bash
# Installs the old Python runner agent-runner replaces, cli-agent-runner 0.3.14 from PyPI, into a
# cache directory (once; later runs only look), and prints the directory of its stock preset files
# (presets/*.toml), which the import tests convert.
#
#   AGENT_RUNNER_OLD_PRESETS="$(tests/old-runner/presets.sh)" cargo test import
#
# AGENT_RUNNER_OLD_RUNNER_CACHE moves the cache (default /var/cache/agent-runner-tests/old-runner-0.3.14).
# Needs python3 with venv; only PyPI is contacted, and only when the cache is not there yet.
set -euo pipefail
umask 022
version=0.3.14
cache=${AGENT_RUNNER_OLD_RUNNER_CACHE:-/var/cache/agent-runner-tests/old-runner-$version}
python=${AGENT_RUNNER_OLD_RUNNER_PYTHON:-/usr/bin/python3}

if [[ ! -e $cache/installed ]]; then
    rm -rf "$cache"
    mkdir -p "$cache"
    "$python" -m venv "$cache/venv" </dev/null >&2
    "$cache/venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
        "cli-agent-runner==$version" </dev/null >&2
    touch "$cache/installed"
fi
# find_spec locates the package without running its code.
presets=$("$cache/venv/bin/python" -c \
    'import importlib.util, os; print(os.path.join(importlib.util.find_spec("agent_runner").submodule_search_locations[0], "presets"))')
ls "$presets"/*.toml >/dev/null
echo "$presets"
