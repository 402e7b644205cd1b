#!/usr/bin/env bash
# What the loop on systemd adds per round, next to the cheapest loop systemd can run: on a real
# systemd 252 (nspawn, tests/system/lib.sh), ROUNDS rounds of a project whose agent exits at once
# (/bin/echo: one empty line; a silent agent never checks in, a protocol failure for
# Type=notify; restart_delay_s = 1) under the generated units, then ROUNDS runs of a bare oneshot
# /bin/true service driven by a timer with OnUnitInactiveSec=1s AccuracySec=1ms, then the same
# with the round service's User= and sandboxing (what systemd's sandbox setup alone costs, the
# floor for ours). Everything is read off the container's journal (journald's receive times, µs):
#   loop overhead  ours: agent_exit event → the next round's agent_spawn event, minus the delay;
#                  bare: "Starting" → the next "Starting", minus the delay (the service's whole
#                  run is overhead: it does nothing)
#   where it goes  unit "Starting" → the runner's first event; the runner's last event →
#                  "Deactivated"; "Deactivated" → the next "Starting", minus the delay
# and prints median and p90 of each, and the ratio of the medians.
#
# Usage (root): bench/loop.sh [ROUNDS]     (default 30; builds the debug binary, as the tests do)
# Knobs: AGENT_RUNNER_BIN=PATH, BENCH_PROFILE=release, SANDBOX_NAME (default agent-runner-bench-loop),
# BENCH_KEEP=DIR (keep the two journal extracts there), BENCH_SYSTEMD_DEBUG=1 (PID 1 logs at debug level)
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

# PID 1's debug log adds its fork/exit records of each process (BENCH_KEEP to read them after):
# costly in itself, so only on request.
if [[ -n ${BENCH_SYSTEMD_DEBUG:-} ]]; then
    ct systemd-analyze log-level debug
fi

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

# bare_loop UNIT [SERVICE LINES]: /bin/true as UNIT.service, re-run by a timer 1 s after each run
# ends, ROUNDS times; its journal goes to $WORK/UNIT.json.
bare_loop() {
    local unit=$1 extra=${2:-}
    ctsh "cat >/etc/systemd/system/$unit.service <<EOF
[Unit]
Wants=$unit.timer
StartLimitIntervalSec=0
[Service]
Type=oneshot
ExecStart=/bin/true
$extra
EOF
cat >/etc/systemd/system/$unit.timer <<EOF
[Timer]
OnUnitInactiveSec=1s
AccuracySec=1ms
EOF
systemctl daemon-reload"
    save_cursor "$WORK/cursor-$unit"
    ct systemctl start "$unit.service"
    bare_done() {
        (($(ct journalctl --no-pager -o cat -u "$unit.service" | grep -c '^Starting') > ROUNDS))
    }
    wait_for $((ROUNDS * 3 + 30)) "$ROUNDS runs of $unit" bare_done
    ct systemctl stop "$unit.timer"
    journal_since "$WORK/cursor-$unit" >"$WORK/$unit.json"
}
# Bare: nothing but the unit.
bare_loop bare
# Sandboxed: the same with the round service's user and sandboxing (the lines from UMask= to
# AmbientCapabilities= of its template): what the sandbox alone costs, the floor for ours.
sandboxing=$(sed -n '/^UMask=/,/^AmbientCapabilities=/p' "$ROOT/units/system/agent-runner@.service" | grep -v '^#')
bare_loop sandboxed "User=agent
$sandboxing"
if [[ -n ${BENCH_KEEP:-} ]]; then
    mkdir -p "$BENCH_KEEP" && cp "$WORK/ours.json" "$WORK/bare.json" "$WORK/sandboxed.json" "$BENCH_KEEP/"
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

# The step after each round, a unit of its own that runs during the cool-down (the next round
# waits for it only when it outlasts restart_delay_s).
after_run = []
for after in (f"agent-runner-after@{name}.service", f"agent-runner-after-failure@{name}.service"):
    a_starts = [t for t, r, msg in ours if unit_mark(r, msg, after) == "start"]
    a_stops = [t for t, r, msg in ours if unit_mark(r, msg, after) == "stop"]
    after_run += [ms(e - s) for s, e in zip(a_starts, a_stops)]

def bare_rows(unit):
    """A bare loop's rows: its overhead per round, its run, its idle time beyond the delay."""
    recs = records(f"{work}/{unit}.json")
    starts = [t for t, r, msg in recs if unit_mark(r, msg, f"{unit}.service") == "start"]
    stops = [t for t, r, msg in recs if unit_mark(r, msg, f"{unit}.service") == "stop"]
    loop = [ms(starts[i + 1] - starts[i] - delay) for i in range(len(starts) - 1)]
    run = [ms(e - s) for s, e in zip(starts, stops)]
    idle = [ms(starts[i + 1] - stops[i] - delay) for i in range(min(len(stops), len(starts) - 1))]
    return loop, run, idle

loop_bare, b_run, b_idle = bare_rows("bare")
loop_sandboxed, s_run, s_idle = bare_rows("sandboxed")

print(f"{'':<42} {'median':>9} {'p90':>9}   ms")
print("agent-runner (restart_delay_s = 1, agent /bin/echo)")
mo = row("loop overhead per round", loop_ours)
row("unit Starting -> runner's first event", start_to_first)
row("runner's last event -> Deactivated", last_to_stop)
row("Deactivated -> next Starting - 1 s (lead: < 0)", stop_to_next)
if after_run:
    row("after-round unit, beside the cool-down", after_run)
print("bare oneshot /bin/true (OnUnitInactiveSec=1s AccuracySec=1ms)")
mb = row("loop overhead per round", loop_bare)
row("Starting -> Deactivated", b_run)
row("Deactivated -> next Starting - 1 s", b_idle)
print("the same /bin/true with the round service's User= and sandboxing")
msb = row("loop overhead per round", loop_sandboxed)
row("Starting -> Deactivated", s_run)
row("Deactivated -> next Starting - 1 s", s_idle)
print(f"ratio of the medians: {mo / mb:.1f}x" if mb > 0 else "ratio: n/a")
print(f"ratio to the sandboxed /bin/true: {mo / msb:.1f}x" if msb > 0 else "ratio: n/a")

# With BENCH_SYSTEMD_DEBUG=1, PID 1's own records split each round of ours further.
steps = {"start": [], "main_forked": [], "main_exited": [], "post_forked": [], "post_exited": [], "stop": []}
for t, r, msg in ours:
    if r.get("UNIT") != unit or r.get("_PID") != "1":
        continue
    mark = unit_mark(r, msg, unit)
    if mark:
        steps[mark].append(t)
    elif msg.startswith("Forked /usr/bin/agent-runner"):
        steps["post_forked" if len(steps["main_forked"]) > len(steps["post_forked"]) else "main_forked"].append(t)
    elif msg.startswith("Main process exited"):
        steps["main_exited"].append(t)
    elif msg.startswith("Control process exited"):
        steps["post_exited"].append(t)
if steps["post_exited"]:
    pairs = lambda a, b: [ms(y - x) for x, y in zip(steps[a], steps[b])]
    print("agent-runner, PID 1's debug records (each round)")
    row("Starting -> runner forked", pairs("start", "main_forked"))
    row("runner forked -> its first event", [ms(f - s) for s, f in zip(steps["main_forked"], first_event) if f])
    row("its last event -> main process exited", [ms(e - l) for l, e in zip(last_event, steps["main_exited"])])
    row("main exited -> after-round forked", pairs("main_exited", "post_forked"))
    row("after-round forked -> exited", pairs("post_forked", "post_exited"))
    row("after-round exited -> Deactivated", pairs("post_exited", "stop"))
PY
