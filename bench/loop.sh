#!/usr/bin/env bash
# What the loop on systemd adds per round, next to the cheapest loop systemd can run: on a real
# systemd 252 (nspawn, tests/system/lib.sh), ROUNDS rounds of a project whose agent exits at once
# (/bin/echo: one empty line; a silent agent never checks in, a protocol failure for
# Type=notify; restart_delay_s = 1) under the generated units, then ROUNDS runs of a bare oneshot
# /bin/true service driven by a timer with OnUnitInactiveSec=1s AccuracySec=1ms. Everything is
# read off the container's journal (journald's receive times, µs):
#   loop overhead  ours: agent_exit event → the next round's agent_spawn event, minus the delay;
#                  bare: "Starting" → the next "Starting", minus the delay (the service's whole
#                  run is overhead: it does nothing)
#   where it goes  unit "Starting" → the runner's first event; the runner's last event →
#                  "Deactivated"; "Deactivated" → the next "Starting", minus the delay
# and prints median and p90 of each, and the ratio of the medians.
#
# Usage (root): bench/loop.sh [ROUNDS]     (default 30; builds the debug binary, as the tests do)
# Knobs: AGENT_RUNNER_BIN=PATH, BENCH_PROFILE=release, SANDBOX_NAME (default agent-runner-bench-loop),
# BENCH_KEEP=DIR (keep the two journal extracts there)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=${1:-30}
DELAY_US=1000000
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-bench-loop}
# shellcheck source=bench/sandbox.sh
source "$BENCH_DIR/sandbox.sh"

# journal_since CURSOR_FILE: the container's journal as JSON lines after the saved cursor.
journal_since() {
    ct journalctl -o json --no-pager --after-cursor="$(cat "$1")"
}
save_cursor() { ct journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p' >"$1"; }

# Ours: a project whose agent exits at once.
n=loop
AGENT=/bin/echo new_project $n 'restart_delay_s = 1'
save_cursor "$WORK/cursor-ours"
ct systemctl start agent-runner@$n
rounds_done() {
    (($(ct journalctl --no-pager -o cat AGENT_RUNNER_PROJECT=$n AGENT_RUNNER_EVENT=round_end | wc -l) > ROUNDS))
}
wait_for $((ROUNDS * 3 + 30)) "$ROUNDS rounds" rounds_done
ct systemctl stop agent-runner@$n
journal_since "$WORK/cursor-ours" >"$WORK/ours.json"

# Bare: /bin/true, re-run by a timer 1 s after each run ends.
ctsh 'cat >/etc/systemd/system/bare.service <<EOF
[Unit]
Wants=bare.timer
StartLimitIntervalSec=0
[Service]
Type=oneshot
ExecStart=/bin/true
EOF
cat >/etc/systemd/system/bare.timer <<EOF
[Timer]
OnUnitInactiveSec=1s
AccuracySec=1ms
EOF
systemctl daemon-reload'
save_cursor "$WORK/cursor-bare"
ct systemctl start bare.service
bare_done() {
    (($(ct journalctl --no-pager -o cat -u bare.service | grep -c '^Starting') > ROUNDS))
}
wait_for $((ROUNDS * 3 + 30)) "$ROUNDS bare runs" bare_done
ct systemctl stop bare.timer
journal_since "$WORK/cursor-bare" >"$WORK/bare.json"
if [[ -n ${BENCH_KEEP:-} ]]; then
    mkdir -p "$BENCH_KEEP" && cp "$WORK/ours.json" "$WORK/bare.json" "$BENCH_KEEP/"
fi

python3 - "$WORK" "$n" "$DELAY_US" <<'PY'
import json, statistics, sys
work, name, delay = sys.argv[1], sys.argv[2], int(sys.argv[3])
unit = f"agent-runner@{name}.service"

def records(path):
    out = []
    for line in open(path):
        r = json.loads(line)
        msg = r.get("MESSAGE")
        if not isinstance(msg, str):
            msg = ""
        out.append((int(r["__REALTIME_TIMESTAMP"]), r, msg))
    return sorted(out, key=lambda x: x[0])

def unit_mark(r, msg, u):
    """'start' / 'stop' for systemd's own records of unit u, else None."""
    if r.get("UNIT") != u or r.get("_PID") != "1":
        return None
    if msg.startswith("Starting "):
        return "start"
    if "Deactivated successfully" in msg or "Failed with result" in msg:
        return "stop"
    return None

def stats(xs):
    xs = sorted(xs)
    if not xs:
        return float("nan"), float("nan"), 0
    return statistics.median(xs), xs[int(0.9 * (len(xs) - 1))], len(xs)

def row(label, xs):
    med, p90, n = stats(xs)
    print(f"  {label:<40} {med:9.1f} {p90:9.1f}   (n={n})")
    return med

ours = records(f"{work}/ours.json")
starts, stops, first_event, last_event, spawns, exits = [], [], [], [], [], []
in_round = False
for t, r, msg in ours:
    mark = unit_mark(r, msg, unit)
    if mark == "start":
        starts.append(t)
        in_round = True
        first_event.append(None)
    elif mark == "stop":
        stops.append(t)
        in_round = False
    elif r.get("AGENT_RUNNER_PROJECT") == name and r.get("AGENT_RUNNER_EVENT") and r.get("_SYSTEMD_UNIT") == unit:
        if in_round and first_event and first_event[-1] is None:
            first_event[-1] = t
        if in_round:
            if len(last_event) < len(starts):
                last_event.append(t)
            else:
                last_event[-1] = t
        kind = r["AGENT_RUNNER_EVENT"]
        if kind == "agent_spawn":
            spawns.append(t)
        elif kind == "agent_exit":
            exits.append(t)

ms = lambda us: us / 1000
loop_ours = [ms(spawns[i + 1] - exits[i] - delay) for i in range(min(len(exits), len(spawns) - 1))]
start_to_first = [ms(f - s) for s, f in zip(starts, first_event) if f is not None]
last_to_stop = [ms(stop - last) for last, stop in zip(last_event, stops)]
stop_to_next = [ms(starts[i + 1] - stops[i] - delay) for i in range(min(len(stops), len(starts) - 1))]

bare = records(f"{work}/bare.json")
b_starts = [t for t, r, msg in bare if unit_mark(r, msg, "bare.service") == "start"]
b_stops = [t for t, r, msg in bare if unit_mark(r, msg, "bare.service") == "stop"]
loop_bare = [ms(b_starts[i + 1] - b_starts[i] - delay) for i in range(len(b_starts) - 1)]
b_run = [ms(e - s) for s, e in zip(b_starts, b_stops)]
b_idle = [ms(b_starts[i + 1] - b_stops[i] - delay) for i in range(min(len(b_stops), len(b_starts) - 1))]

print(f"{'':<42} {'median':>9} {'p90':>9}   ms")
print("agent-runner (restart_delay_s = 1, agent /bin/echo)")
mo = row("loop overhead per round", loop_ours)
row("unit Starting -> runner's first event", start_to_first)
row("runner's last event -> Deactivated", last_to_stop)
row("Deactivated -> next Starting - 1 s", stop_to_next)
print("bare oneshot /bin/true (OnUnitInactiveSec=1s AccuracySec=1ms)")
mb = row("loop overhead per round", loop_bare)
row("Starting -> Deactivated", b_run)
row("Deactivated -> next Starting - 1 s", b_idle)
print(f"ratio of the medians: {mo / mb:.1f}x" if mb > 0 else "ratio: n/a")
PY
