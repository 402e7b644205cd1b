#!/usr/bin/env bash
# Runs one real agent CLI once against the fake provider, the way its preset runs it, and prints
# what it printed, its exit status and the requests the provider saw.
#
#   tests/agents/real/live.sh CLI [CASE|SCRIPT] [--check]
#
# CLI: claude, claude-oauth, codex, gemini or aider. CASE: a case of capture.sh (ok, rate_limit,
# usage_limit, 500_then_ok, hang, …; default ok), or else a provider script such as `429x2,ok`.
# Exits with the CLI's exit status; with --check, 0 when that status is the one the committed
# fixture of the CASE has and the CLI reached the provider, 1 otherwise (for test scripts).
# A free port and a fresh temporary home and work tree each run, so it can run beside a capture.
set -euo pipefail
# shellcheck source=tests/agents/real/lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
    echo "usage: $0 CLI [CASE|SCRIPT] [--check]   (CLI: ${REAL_CLIS[*]})" >&2
    exit 2
}

# case_script CLI CASE: the script of the CLI's capture case, or nothing when CASE is no case.
case_script() {
    local case script
    while read -r case script _; do
        [[ $case == "$2" ]] && echo "$script"
    done < <(cases_of "$1")
    return 0
}

# fixture_exit CLI CASE: the exit status the committed fixture of the case has.
fixture_exit() {
    local file=$REPO_DIR/tests/fixtures/real/$1/$2/exit
    [[ -f $file ]] && cat "$file"
}

LIVE_DIR=
main() {
    local cli=${1:-} wanted=${2:-ok} check=0
    [[ ${3:-} == --check || ${2:-} == --check ]] && check=1
    [[ $wanted == --check ]] && wanted=ok
    [[ " ${REAL_CLIS[*]} " == *" $cli "* ]] || usage
    local script
    script=$(case_script "$cli" "$wanted")
    [[ -n $script ]] || script=$wanted
    real_agents_dir >/dev/null

    LIVE_DIR=$(mktemp -d /var/tmp/agent-runner-live.XXXXXX)
    trap 'provider_stop; rm -rf "$LIVE_DIR"' EXIT
    local dir=$LIVE_DIR
    prepare_work "$dir/work"
    echo "Reply with the single word: done." >"$dir/prompt.md"
    provider_start "$script" "$dir/requests.log"
    prepare_home "$cli" "$dir/home" "$PROVIDER_PORT"
    run_cli "$cli" "$dir/home" "$dir/work" "$dir/prompt.md" "$PROVIDER_PORT" "$dir/out" \
        "$(case_timeout "$cli" "$wanted")"
    provider_stop

    local status
    status=$(<"$dir/out/exit")
    echo "== $cli $(cli_version "$cli"), provider script $script, ${RUN_SECONDS}s"
    echo "== stdout"
    cat "$dir/out/stdout"
    echo "== stderr (last 40 lines)"
    tail -n 40 "$dir/out/stderr"
    echo "== requests"
    cat "$dir/requests.log"
    echo "== exit $status"
    ((check)) || return "$status"

    local expected
    expected=$(fixture_exit "$cli" "$wanted") || {
        echo "no fixture for $cli/$wanted to check against" >&2
        return 1
    }
    if [[ $status != "$expected" ]]; then
        echo "FAIL: exit $status, the fixture has $expected" >&2
        return 1
    fi
    if ! grep -q '"action": "generate"' "$dir/requests.log"; then
        echo "FAIL: the CLI never reached the provider" >&2
        return 1
    fi
    echo "ok: exit $status as captured"
}

main "$@"
