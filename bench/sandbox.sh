# shellcheck shell=bash
# Sourced by the bench scripts that measure on a real systemd 252: takes AGENT_RUNNER_BIN or
# builds the binary (BENCH_PROFILE=debug|release), boots a sandbox with tests/system/lib.sh and
# shuts it down on exit. Expects ROOT (the repository) and SANDBOX_NAME to be set.
if [[ -z ${AGENT_RUNNER_BIN:-} ]]; then
    if [[ ${BENCH_PROFILE:-debug} == release ]]; then
        (cd "$ROOT" && cargo build --release --quiet)
    else
        (cd "$ROOT" && cargo build --quiet)
    fi
    export AGENT_RUNNER_BIN=$ROOT/target/${BENCH_PROFILE:-debug}/agent-runner
fi
WORK=$(mktemp -d /tmp/agent-runner-bench.XXXXXX)
export WORK
# shellcheck source=tests/system/lib.sh
source "$ROOT/tests/system/lib.sh"
cleanup() {
    shutdown
    rm -rf "$WORK"
}
trap cleanup EXIT
boot >/dev/null 2>&1
