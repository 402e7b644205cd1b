#!/usr/bin/env bash
# How fast a stop trigger stops the loop, on a real systemd 252 (nspawn, tests/system/lib.sh):
# RUNS times each, the stop file is created mid-round and between rounds, and the time from the
# file's mtime to systemd's "Stopped" record of the loop unit is printed (min / median / max).
# It includes the path unit's inotify wake-up, the halt unit's start and the loop unit's stop.
# tests/system/scenarios/41-stop-triggers.sh checks that the trigger stops the loop, not how fast.
#
# Usage (root): bench/stop-trigger.sh            builds the debug binary first (as the tests do)
#               AGENT_RUNNER_BIN=PATH bench/stop-trigger.sh
# Knobs: RUNS=5 SANDBOX_NAME=agent-runner-bench-stop
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RUNS=${RUNS:-5}
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-bench-stop}
BENCH_PROFILE=debug
# shellcheck source=bench/sandbox.sh
source "$BENCH_DIR/sandbox.sh"

n=trig
AGENT_ENV='FAKE_SLEEP = "3"' new_project $n 'stop_file = "/srv/trig.stop"' 'restart_delay_s = 3'

# latency_ms: from the stop file's mtime to the loop unit's newest "Stopped" record.
latency_ms() {
    local created stopped
    wait_for 10 "the loop to stop" is_state agent-runner-loop@$n.service inactive
    created=$(ct stat -c %.6Y /srv/trig.stop | tr -d .)
    stopped=$(ct journalctl -o json --no-pager -u agent-runner-loop@$n.service |
        jq -r 'select(.MESSAGE | tostring | startswith("Stopped")) | .__REALTIME_TIMESTAMP' | tail -1)
    echo $(((stopped - created) / 1000))
}
report() { # LABEL MS...
    local label=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v label="$label" '{ v[NR] = $1 } END {
        printf "%-28s min %4d ms  median %4d ms  max %4d ms  (%d runs)\n", label, v[1], v[int((NR + 1) / 2)], v[NR], NR }'
}

mid=() between=()
for _ in $(seq "$RUNS"); do
    ct systemctl start agent-runner@$n
    wait_for 10 "a round running" is_state agent-runner@$n.service active
    ct touch /srv/trig.stop
    mid+=("$(latency_ms)")
    wait_for 10 "the round to end" is_state agent-runner@$n.service inactive
    ct rm /srv/trig.stop

    ct systemctl start agent-runner@$n
    wait_for 10 "a round running" is_state agent-runner@$n.service active
    wait_for 10 "the round to end" is_state agent-runner@$n.service inactive
    ct touch /srv/trig.stop
    between+=("$(latency_ms)")
    ct rm /srv/trig.stop
done
report "stop file mid-round" "${mid[@]}"
report "stop file between rounds" "${between[@]}"
