#!/usr/bin/env bash
# What each sandboxing option of the round service costs at unit start, on a real systemd 252
# (nspawn, tests/system/lib.sh): RUNS transient oneshot units running /bin/true as the test user
# with no option, with each option alone, and with the round service's whole set, started with
# `systemd-run --wait` inside the container; prints the median wall time of each and its cost
# over the bare unit.
#
# Usage (root): bench/hardening.sh         Knobs: RUNS=15 SANDBOX_NAME=agent-runner-bench-hardening
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RUNS=${RUNS:-15}
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-bench-hardening}
# shellcheck source=bench/sandbox.sh
source "$BENCH_DIR/sandbox.sh"

# The [Service] sandboxing of units/system/agent-runner@.service, one option per line.
options=$(sed -n '/^UMask=/,/^AmbientCapabilities=/p' "$ROOT/units/system/agent-runner@.service" |
    grep -v '^#' | grep -v '^UMask=')
ct mkdir -p /var/lib/bench-hardening
ctsh "cat >/tmp/hardening-run <<'EOF'
#!/bin/bash
# median_ms [OPTION]: median wall time of \$RUNS starts of /bin/true as a transient unit.
median_ms() {
    local i t0 t1 props=(-p User=agent -p Type=oneshot)
    for o in \"\$@\"; do props+=(-p \"\$o\"); done
    for ((i = 0; i < RUNS; i++)); do
        t0=\$(date +%s%N)
        systemd-run --wait -q \"\${props[@]}\" /bin/true
        t1=\$(date +%s%N)
        echo \$(((t1 - t0) / 1000))
    done | sort -n | awk '{ v[NR] = \$1 } END { printf \"%.1f\", v[int((NR + 1) / 2)] / 1000 }'
}
row() { awk -v o=\"\$1\" -v t=\"\$2\" -v b=\"\$base\" 'BEGIN { printf \"%-44s %8.1f %+8.1f\\n\", o, t, t - b }'; }
median_ms >/dev/null # warm-up
base=\$(median_ms)
printf '%-44s %8s %8s\n' option 'ms' 'cost'
printf '%-44s %8s %8s\n' '(none: User=agent, Type=oneshot)' \"\$base\" 0
all=()
while IFS= read -r o; do
    [[ -n \$o ]] || continue
    all+=(\"\$o\")
    t=\$(median_ms \"\$o\")
    row \"\$o\" \"\$t\"
done
t=\$(median_ms \"\${all[@]}\")
row 'all of the above' \"\$t\"
EOF
chmod +x /tmp/hardening-run"
printf '%s\n' "$options" | ct env RUNS="$RUNS" /tmp/hardening-run
