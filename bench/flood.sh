#!/usr/bin/env bash
# The runner's memory and time with a flood of output: one round whose agent prints 100 MiB
# (tests/agents/flood.sh) and one whose agent prints a few lines (tests/agents/ok.sh), each with the
# release build. Prints the runner's own peak (VmHWM, round_end.runner_peak_rss_kb) and, under
# bench/launch.c, the wall time and ru_maxrss of the round (runner and agent). The integration test
# checks only that the flood costs the runner less than 2 MiB more than the quiet round, in any
# build; the absolute numbers are measured here.
# Usage: bench/flood.sh            builds the release binary first
#        BENCH_BIN=PATH bench/flood.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${BENCH_BIN:-} ]]; then
    cargo build --release --quiet
fi
bin=$(realpath "${BENCH_BIN:-target/release/agent-runner}")
# What the round service runs: the round binary built beside it.
round_bin=$(dirname "$bin")/agent-runner-round
agents=$PWD/tests/agents
T=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/agent-runner-flood.XXXXXX")
trap 'rm -rf "$T"' EXIT
cc -O2 -o "$T/launch" bench/launch.c

for agent in ok flood; do
    work=$T/$agent/work
    mkdir -p "$work"
    echo "Print what your script prints, then stop; this round only measures the runner." >"$work/prompt.md"
    git -C "$work" init -q
    cat >"$work/bench.toml" <<TOML
schema_version = 1
name = "flood-$agent"
[agent]
command = ["$agents/$agent.sh"]
[runtime]
work_dir = "."
log_dir = "$T/$agent/logs"
[prompt]
files = ["prompt.md"]
[vcs]
dirty_action = "ignore"
TOML
    line=$(cd "$work" && AGENT_RUNNER_STATE_DIR="$T/$agent/state" AGENT_RUNNER_NO_JOURNAL=1 \
        "$T/launch" "$round_bin" --config bench.toml | tail -n 1)
    python3 - "$agent" "$line" "$T/$agent/logs/events.jsonl" <<'PY'
import json, sys
agent, line, mirror = sys.argv[1], sys.argv[2].split(), sys.argv[3]
start, end, maxrss, status = (int(x) for x in line)
end_event = [e for e in map(json.loads, open(mirror)) if e["event"] == "round_end"][-1]
print(f"{agent:<6} output {end_event['output_bytes']:>10} bytes  outcome {end_event['outcome']:<4} "
      f"round {(end - start) / 1e6:7.1f} ms  runner VmHWM {end_event['runner_peak_rss_kb'] / 1024:5.2f} MiB  "
      f"ru_maxrss {maxrss / 1024:5.2f} MiB  exit {status}")
PY
done
