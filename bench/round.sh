#!/usr/bin/env bash
# The runner's own cost per round, against the seed system's: time from exec to the agent's
# spawn, time from the agent's exit to the runner's exit, and peak RSS, over N rounds of a trivial
# agent (bench/agent.c). Usage: bench/round.sh [ROUNDS]   (default 100)
# Needs: cargo, cc, python3 (+ network once, to pip-install cli-agent-runner 0.3.14 into a venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-100}
SEED_VERSION=0.3.14
SEED_VENV=${BENCH_SEED_VENV:-$HOME/.cache/agent-runner-bench/seed-$SEED_VERSION}
OURS=${BENCH_BIN:-target/release/agent-runner}

if [ -z "${BENCH_BIN:-}" ]; then
    cargo build --release --quiet
fi
OURS=$(realpath "$OURS")
# What the round service runs: the same round in the binary built beside it.
UNIT_ROUND=$(dirname "$OURS")/agent-runner-round
if [ ! -x "$SEED_VENV/bin/agent-runner" ]; then
    echo "installing the seed system (cli-agent-runner==$SEED_VERSION) into $SEED_VENV" >&2
    python3 -m venv "$SEED_VENV"
    "$SEED_VENV/bin/pip" install --quiet "cli-agent-runner==$SEED_VERSION"
fi

T=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/agent-runner-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
cc -O2 -o "$T/launch" bench/launch.c
cc -O2 -o "$T/agent" bench/agent.c

# The same prompt (≥500 bytes: the seed's smoke check wants that) and the same git work tree.
prompt=$(printf 'Work on the repository, one small careful step per round. %.0s' $(seq 12))
for sys in ours unit seed; do
    mkdir -p "$T/$sys/work" "$T/$sys/home"
    printf '%s\n' "$prompt" > "$T/$sys/work/prompt.md"
    git -C "$T/$sys/work" init -q
    git -C "$T/$sys/work" -c user.email=b@b -c user.name=b commit -q --allow-empty -m init
done
cat > "$T/ours/work/bench.toml" <<TOML
schema_version = 1
name = "bench"
[agent]
command = ["$T/agent"]
env = { BENCH_TIMES = "$T/ours/times" }
[runtime]
work_dir = "."
log_dir = "$T/ours/logs"
[prompt]
files = ["prompt.md"]
TOML
sed "s#$T/ours/#$T/unit/#g" "$T/ours/work/bench.toml" > "$T/unit/work/bench.toml"
cat > "$T/seed/work/agent-runner.toml" <<TOML
schema_version = 1
[agent]
command = ["$T/agent"]
prompt_arg_template = []
prompt_delivery = "stdin"
env = { BENCH_TIMES = "$T/seed/times" }
[runtime]
work_dir = "."
log_dir = "$T/seed/logs"
[prompt]
files = ["prompt.md"]
[vcs]
dirty_action = "ignore"
TOML

run() { # SYSTEM COMMAND...
    local sys=$1
    shift
    for _ in $(seq "$ROUNDS"); do
        (cd "$T/$sys/work" && HOME="$T/$sys/home" AGENT_RUNNER_STATE_DIR="$T/$sys/state" "$T/launch" "$@") >> "$T/$sys/launch"
    done
}
echo "running $ROUNDS rounds of each system…" >&2
# Baseline: the agent launched directly (its own exec and run time, in neither system's cost).
mkdir -p "$T/direct/work"
for _ in $(seq "$ROUNDS"); do
    BENCH_TIMES="$T/direct/times" "$T/launch" "$T/agent" < "$T/ours/work/prompt.md" >> "$T/direct/launch"
done
run ours "$OURS" round --config bench.toml
run unit "$UNIT_ROUND" --config bench.toml
run seed "$SEED_VENV/bin/agent-runner" --config agent-runner.toml round

python3 - "$T" "$ROUNDS" <<'PY'
import statistics, sys
t, rounds = sys.argv[1], int(sys.argv[2])
def load(sys_):
    launch = [l.split() for l in open(f"{t}/{sys_}/launch")]
    times = [l.split() for l in open(f"{t}/{sys_}/times")]
    bad = [l for l in launch if l[3] != "0"]
    if bad or len(times) != len(launch):
        print(f"{sys_}: {len(bad)} rounds failed, {len(times)}/{len(launch)} agents ran", file=sys.stderr)
    n = min(len(launch), len(times))
    spawn = [(int(times[i][0]) - int(launch[i][0])) / 1e6 for i in range(n)]
    exit_ = [(int(launch[i][1]) - int(times[i][1])) / 1e6 for i in range(n)]
    rss = [int(l[2]) / 1024 for l in launch[:n]]
    return spawn, exit_, rss
def row(name, xs, unit):
    xs = sorted(xs)
    p90 = xs[int(0.9 * (len(xs) - 1))]
    return f"{name:<32} {statistics.median(xs):>9.2f} {p90:>9.2f} {max(xs):>9.2f}  {unit}"
print(f"{rounds} rounds each; median / p90 / max\n")
print(f"{'':<32} {'median':>9} {'p90':>9} {'max':>9}")
for label, sys_ in (("the agent alone (baseline)", "direct"), ("agent-runner round (this build)", "ours"), ("agent-runner-round (the unit's)", "unit"), ("seed cli-agent-runner 0.3.14", "seed")):
    spawn, exit_, rss = load(sys_)
    print(label)
    print(row("  exec -> agent spawn", spawn, "ms"))
    print(row("  agent exit -> runner exit", exit_, "ms"))
    print(row("  peak RSS (runner + agent)", rss, "MiB"))
    if sys_ in ("ours", "unit"):
        # The runner's own high-water mark (VmHWM), as its round_end event reports it.
        import json
        ends = [e for e in map(json.loads, open(f"{t}/{sys_}/logs/events.jsonl")) if e["event"] == "round_end"]
        print(row("  runner VmHWM (round_end)", [e["runner_peak_rss_kb"] / 1024 for e in ends], "MiB"))
PY
