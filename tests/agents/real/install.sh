#!/usr/bin/env bash
# Installs the real agent CLIs the tests run — claude, codex and gemini from npm, aider from PyPI —
# at the versions pinned beside this script (package.json + package-lock.json, requirements.txt)
# into a cache directory named after a hash of the pins, and prints that directory. Its bin/ holds
# claude, codex, gemini and aider; versions.tsv says which version each is. The same pins on the
# same node and python reuse the directory: a second run only prints it.
#
#   PATH="$(tests/agents/real/install.sh)/bin:$PATH"
#
# With --installed it installs nothing: it prints the directory when the pins are installed there
# and exits 1 when they are not (for tests that run the CLIs but must not fetch them).
#
# AGENT_RUNNER_REAL_AGENTS_CACHE moves the cache (default /var/cache/agent-runner-tests/real-agents).
# Needs node >= 20 with npm, and a python3 3.10–3.12 with venv (the system one, so that every user
# and a sandbox with the same distribution can run aider); only the registries are contacted.
set -euo pipefail
umask 022
here=$(cd "$(dirname "$0")" && pwd)
cache=${AGENT_RUNNER_REAL_AGENTS_CACHE:-/var/cache/agent-runner-tests/real-agents}
python=${AGENT_RUNNER_REAL_AGENTS_PYTHON:-/usr/bin/python3}

fail() {
    echo "install.sh: $*" >&2
    exit 1
}

check_tools() {
    command -v node >/dev/null || fail "node is needed"
    command -v npm >/dev/null || fail "npm is needed"
    local node_major
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    ((node_major >= 20)) || fail "node $node_major is too old: gemini-cli needs 20 or later"
    [[ -x $python ]] || fail "$python not found (set AGENT_RUNNER_REAL_AGENTS_PYTHON)"
    "$python" -c 'import sys, venv, ensurepip; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' ||
        fail "$python must be 3.10–3.12 with the venv module (Debian: apt-get install python3-venv)"
}

# The key changes when a pin, this script, or the node or python the tools run on changes.
pins_key() {
    {
        cat "$here/package.json" "$here/package-lock.json" "$here/requirements.txt" "$here/install.sh"
        node --version
        "$python" --version
    } | sha256sum | cut -c1-16
}

install_into() {
    local dir=$1
    mkdir -p "$dir/npm" "$dir/bin"
    cp "$here/package.json" "$here/package-lock.json" "$dir/npm/"
    # The claude package's postinstall copies its native binary into place; keep scripts on.
    (cd "$dir/npm" && npm ci --no-audit --no-fund --loglevel=error) >&2
    "$python" -m venv "$dir/venv"
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
        -r "$here/requirements.txt" >&2
    local cli
    for cli in claude codex gemini; do
        ln -s "../npm/node_modules/.bin/$cli" "$dir/bin/$cli"
    done
    ln -s ../venv/bin/aider "$dir/bin/aider"
    record_versions "$dir"
}

# Runs each CLI once (in a throwaway home, so nothing is written to the caller's) and keeps the
# versions it reports: proof the install works, and the versions the fixtures name.
record_versions() {
    local dir=$1 home
    home=$(mktemp -d)
    {
        printf 'claude\t%s\n' "$(HOME=$home "$dir/bin/claude" --version | awk '{print $1}')"
        printf 'codex\t%s\n' "$(HOME=$home "$dir/bin/codex" --version | awk '{print $NF}')"
        printf 'gemini\t%s\n' "$(HOME=$home "$dir/bin/gemini" --version)"
        printf 'aider\t%s\n' "$(HOME=$home "$dir/bin/aider" --version | awk '{print $NF}')"
    } >"$dir/versions.tsv.tmp"
    rm -rf "$home"
    mv "$dir/versions.tsv.tmp" "$dir/versions.tsv"
}

main() {
    check_tools
    local dir
    dir=$cache/$(pins_key)
    if [[ -e $dir/.complete ]]; then
        echo "$dir"
        return
    fi
    [[ ${1:-} != --installed ]] || fail "the pinned CLIs are not installed in $dir (tests/setup.sh installs them)"
    mkdir -p "$cache"
    # One installer at a time; a venv cannot be moved, so it is built where it stays and only
    # counts once .complete exists (a half-built one from an interrupted run is started over).
    exec 9>"$cache/.lock"
    flock 9
    if [[ ! -e $dir/.complete ]]; then
        rm -rf "$dir"
        echo "installing the pinned agent CLIs into $dir" >&2
        install_into "$dir"
        touch "$dir/.complete"
    fi
    echo "$dir"
}

main "$@"
