#!/usr/bin/env bash
# The system suite: every scenario in tests/system/scenarios/NN-name.sh (or those matching the
# glob given as $1, e.g. `4*`) runs against a real systemd 252, each in a freshly booted
# systemd-nspawn container, with the freshly built binary. Prints PASS/FAIL per scenario and a
# summary; exits 1 when any scenario failed. Run as root on Debian 12 (tests/setup.sh installs
# what it needs). AGENT_RUNNER_BIN=PATH tests a given binary instead of building one;
# KEEP_GOING=0 stops at the first failure; VERBOSE=1 prints every scenario's output;
# KEEP_SANDBOX=1 leaves the last container running (SANDBOX_NAME, default agent-runner-test).
# A scenario that cannot run here (`skip REASON` in lib.sh: what it needs is not installed) prints
# SKIP with the reason and counts neither as passed nor as failed.
set -uo pipefail
SYSTEM_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SYSTEM_DIR/../.." && pwd)
glob=${1:-*}
[[ $(id -u) == 0 ]] || { echo "tests/system/run.sh: must run as root (it boots containers)" >&2; exit 2; }

if [[ -z ${AGENT_RUNNER_BIN:-} ]]; then
    (cd "$ROOT" && cargo build --quiet) || { echo "build failed" >&2; exit 1; }
    export AGENT_RUNNER_BIN=$ROOT/target/debug/agent-runner
fi
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-test}
RUN_DIR=$(mktemp -d /tmp/agent-runner-system.XXXXXX)
cleanup() {
    [[ ${KEEP_SANDBOX:-0} == 1 ]] || "$SYSTEM_DIR/sandbox.sh" down >/dev/null 2>&1 || true
    [[ ${KEEP_SANDBOX:-0} == 1 ]] || rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t_suite=$SECONDS
echo "preparing the rootfs (cached after the first run)"
"$SYSTEM_DIR/sandbox.sh" build >/dev/null || { echo "rootfs build failed" >&2; exit 1; }
"$SYSTEM_DIR/sandbox.sh" down >/dev/null 2>&1 || true # leftovers of an interrupted run

# A scenario's exit status when it cannot run on this machine (lib.sh's skip).
SKIP_STATUS=77
passed=() failed=() skipped=()
for scenario in "$SYSTEM_DIR"/scenarios/$glob.sh; do
    [[ -f $scenario ]] || continue
    name=$(basename "$scenario" .sh)
    work=$RUN_DIR/$name
    mkdir -p "$work"
    t0=$(date +%s%N)
    (
        export WORK=$work
        # shellcheck source=tests/system/lib.sh
        source "$SYSTEM_DIR/lib.sh"
        set -euo pipefail
        trap finish EXIT
        boot
        # shellcheck source=/dev/null # each scenario is checked on its own
        source "$scenario"
    ) >"$work/output.log" 2>&1
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    secs=$(printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)))
    # shellcheck disable=SC2031 # the `local name` of lib.sh's new_project is not this variable
    if ((rc == 0)); then
        passed+=("$name")
        printf 'PASS  %-36s %6ss\n' "$name" "$secs"
        [[ ${VERBOSE:-0} == 1 ]] && sed 's/^/      /' "$work/output.log"
    elif ((rc == SKIP_STATUS)); then
        skipped+=("$name")
        printf 'SKIP  %-36s %6ss  %s\n' "$name" "$secs" "$(sed -n 's/^  SKIP: //p' "$work/output.log" | head -1)"
    else
        failed+=("$name")
        printf 'FAIL  %-36s %6ss\n' "$name" "$secs"
        sed 's/^/      /' "$work/output.log"
        [[ ${KEEP_GOING:-1} == 0 ]] && break
    fi
done

echo
echo "system suite: ${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped in $((SECONDS - t_suite))s"
((${#passed[@]} + ${#failed[@]} + ${#skipped[@]} > 0)) || { echo "no scenario matches '$glob'"; exit 1; }
((${#skipped[@]} == 0)) || echo "skipped: ${skipped[*]}"
((${#failed[@]} == 0)) || { echo "failed: ${failed[*]}"; exit 1; }
