#!/usr/bin/env bash
# Benchmark of the read commands on a real systemd 252 (nspawn, tests/system/lib.sh):
#   * `status --json` over 50 projects (units loaded, loops running, state files present);
#   * `peek --json` of a project with 100k events in the journal, and in the JSON mirror;
#   * `events -n 20` and `diagnose` on the same history.
# Not a test: it prints numbers (wall time mean/min/max over RUNS runs, and the peak RSS of the
# process tree) to compare with the seed system (reference/peer-cli-agent-runner.md §12:
# `status` 282 ms, `peek --json` 305 ms empty, 2.94 s at 100k events, 8.61 s / 360 MB at 300k).
#
# Usage (root): bench/status-peek.sh            builds a release binary first
#               AGENT_RUNNER_BIN=PATH bench/status-peek.sh
# Knobs: PROJECTS=50 EVENTS=100000 RUNS=10 SANDBOX_NAME=agent-runner-bench
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
PROJECTS=${PROJECTS:-50}
EVENTS=${EVENTS:-100000}
RUNS=${RUNS:-10}
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-bench}
if [[ -z ${AGENT_RUNNER_BIN:-} ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    export AGENT_RUNNER_BIN=$ROOT/target/release/agent-runner
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

# measure LABEL CMD...: runs CMD inside the container RUNS times (after one warm-up run).
measure() {
    local label=$1
    shift
    python3 - "$label" "$RUNS" "$SANDBOX" "$@" <<'EOF'
import resource, subprocess, sys, time
label, runs, sandbox, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
run = lambda: subprocess.run([sandbox, "exec", *cmd], stdout=subprocess.DEVNULL, check=False)
run()
times = []
for _ in range(runs):
    t = time.perf_counter()
    run()
    times.append(time.perf_counter() - t)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{label:<44} mean {sum(times)/len(times)*1000:7.1f} ms  min {min(times)*1000:7.1f}  max {max(times)*1000:7.1f}  peak RSS {rss/1024:5.1f} MB")
EOF
}

# The cost of entering the container once, to subtract mentally from every number.
measure "baseline: nsenter + /bin/true" /bin/true

echo "setting up $PROJECTS projects (loops started, agent sleeping)"
for i in $(seq -w 1 "$PROJECTS"); do
    AGENT_ENV='FAKE_SLEEP = "600"' new_project "p$i" 'restart_delay_s = 60' >/dev/null
done
ctsh "for i in \$(seq -w 1 $PROJECTS); do systemctl start --no-block agent-runner@p\$i; done"
wait_for 60 "every loop running" bash -c \
    "[[ \$($SANDBOX exec systemctl list-units --no-legend --state=active 'agent-runner@p*.service' | grep -c .) -ge $PROJECTS ]]"
measure "status --json, $PROJECTS projects" agent-runner status --json
measure "status (table), $PROJECTS projects" agent-runner status
measure "status p01 --json" agent-runner status p01 --json
ctsh "for i in \$(seq -w 1 $PROJECTS); do systemctl stop --no-block agent-runner@p\$i; done"

echo "writing $EVENTS events of project h into the journal and its mirror"
h=h
new_project $h >/dev/null
logdir=/var/log/agent-runner/$h
ct mkdir -p $logdir
leader=$("$SANDBOX" pid)
python3 "$BENCH_DIR/journal-events.py" $h "$EVENTS" \
    --socket "/proc/$leader/root/run/systemd/journal/socket" --mirror "/proc/$leader/root$logdir/events.jsonl"
wait_for 120 "journald to store $EVENTS events" bash -c \
    "[[ \$($SANDBOX exec journalctl -o cat AGENT_RUNNER_PROJECT=$h AGENT_RUNNER_EVENT=round_end | grep -c .) -ge $((EVENTS / 2)) ]]"
ct du -sh /run/log/journal "$logdir/events.jsonl" | sed 's/^/  /'
measure "peek --json, $EVENTS events (journal)" agent-runner peek $h --json
measure "peek --json, $EVENTS events (mirror)" env PATH=/nonexistent /usr/bin/agent-runner peek $h --json
measure "events -n 20, $EVENTS events (journal)" agent-runner events $h -n 20
measure "events -n 20, $EVENTS events (mirror)" env PATH=/nonexistent /usr/bin/agent-runner events $h -n 20
measure "diagnose --json, $EVENTS events" agent-runner diagnose $h --json
