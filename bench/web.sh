#!/usr/bin/env bash
# Benchmark of the status page on a real systemd 252 (nspawn, tests/system/lib.sh), with the
# packaged agent-runner-web.socket and .service:
#   * `/`, `/api/v1/projects` and `/metrics` over 50 projects with their loops running, from a cold
#     socket activation (the service stopped, the socket listening) and from a running service;
#   * `/p/NAME` of a project with 100k events in the journal;
#   * the service's peak RSS (VmHWM of its process) after each series.
# Not a test: it prints the median, min and max time to first byte over RUNS requests (curl's
# time_starttransfer, from the host inside the container's network namespace).
#
# Usage (root): bench/web.sh                 builds a release binary first
#               AGENT_RUNNER_BIN=PATH bench/web.sh
# Knobs: PROJECTS=50 EVENTS=100000 (0: no /p/NAME part) RUNS=10 SANDBOX_NAME=agent-runner-bench
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
PROJECTS=${PROJECTS:-50}
EVENTS=${EVENTS:-100000}
RUNS=${RUNS:-10}
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-bench}
BENCH_PROFILE=release
# shellcheck source=bench/sandbox.sh
source "$BENCH_DIR/sandbox.sh"
url=http://127.0.0.1:8765

in_net() { nsenter -t "$(sandbox pid)" -n "$@"; }
# The service's peak resident set so far, in MB.
peak_rss() {
    local pid
    pid=$(ct systemctl show -p MainPID --value agent-runner-web.service)
    ((pid > 0)) || { echo "-"; return; }
    ct cat "/proc/$pid/status" | awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }'
}
# measure LABEL cold|warm PATH: RUNS requests; cold ones each after stopping the service.
measure() {
    local label=$1 mode=$2 path=$3 i
    for ((i = 0; i <= RUNS; i++)); do
        if [[ $mode == cold ]]; then
            ct systemctl stop agent-runner-web.service 2>/dev/null
        fi
        in_net curl -sS -o /dev/null --max-time 60 -w '%{http_code} %{time_starttransfer} %{time_total}\n' "$url$path" ||
            echo "000 0 0"
    done | python3 -c '
import statistics, sys
label, rss = sys.argv[1], sys.argv[2]
rows = [l.split() for l in sys.stdin if len(l.split()) == 3][1:]  # drop the first (warm-up)
ttfb = [float(r[1]) * 1000 for r in rows]
total = [float(r[2]) * 1000 for r in rows]
codes = "/".join(sorted({r[0] for r in rows}))
print(f"{label:<46} first byte median {statistics.median(ttfb):7.1f} ms  min {min(ttfb):7.1f}  max {max(ttfb):7.1f}  "
      f"whole answer median {statistics.median(total):7.1f} ms  HTTP {codes}  peak RSS {rss} MB")
' "$label" "$(peak_rss)"
}

echo "installing the page's user, socket and service as the package does"
ct sh -c 'cat >/usr/lib/sysusers.d/agent-runner.conf && systemd-sysusers agent-runner.conf' <"$ROOT/packaging/sysusers/agent-runner.conf"
for unit in agent-runner-web.socket agent-runner-web.service; do
    ct sh -c "cat >/etc/systemd/system/$unit" <"$ROOT/units/system/$unit"
done
# Cold runs start the service RUNS times in a row: more than systemd's default start limit.
ct mkdir -p /etc/systemd/system/agent-runner-web.service.d
ct sh -c 'printf "[Unit]\nStartLimitIntervalSec=0\n" >/etc/systemd/system/agent-runner-web.service.d/bench.conf'
ct systemctl daemon-reload
ct systemctl start agent-runner-web.socket

echo "setting up $PROJECTS projects (loops started, agent sleeping)"
for i in $(seq -w 1 "$PROJECTS"); do
    AGENT_ENV='FAKE_SLEEP = "600"' new_project "p$i" 'restart_delay_s = 60' >/dev/null
done
ctsh "for i in \$(seq -w 1 $PROJECTS); do systemctl start --no-block agent-runner@p\$i; done"
wait_for 60 "every loop running" bash -c \
    "[[ \$($SANDBOX exec systemctl list-units --no-legend --state=active 'agent-runner@p*.service' | grep -c .) -ge $PROJECTS ]]"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
measure "/ cold, $PROJECTS projects" cold /
measure "/api/v1/projects cold, $PROJECTS projects" cold /api/v1/projects
measure "/metrics cold, $PROJECTS projects" cold /metrics
measure "/ warm, $PROJECTS projects" warm /
measure "/api/v1/projects warm, $PROJECTS projects" warm /api/v1/projects
measure "/metrics warm, $PROJECTS projects" warm /metrics
ctsh "for i in \$(seq -w 1 $PROJECTS); do systemctl stop --no-block agent-runner@p\$i; done"
((EVENTS > 0)) || exit 0

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
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
measure "/p/$h cold, $EVENTS events" cold /p/$h
measure "/p/$h warm, $EVENTS events" warm /p/$h
measure "/api/v1/projects/$h warm, $EVENTS events" warm /api/v1/projects/$h
