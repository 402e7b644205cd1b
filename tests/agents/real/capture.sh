#!/usr/bin/env bash
# Captures what each real agent CLI prints for each provider answer: runs the CLI the way its
# preset runs it against the fake provider, in a throwaway home and work tree, and writes
# tests/fixtures/real/CLI/CASE/{stdout,stderr,exit,requests.jsonl}, then rebuilds
# tests/fixtures/real/expected.tsv from every case there (tests/fixtures/real/README.md says how
# to read them).
#
#   tests/agents/real/capture.sh                 # every CLI, every case (about half an hour)
#   tests/agents/real/capture.sh codex gemini/bad_key
#
# The home and work tree live at fixed paths and the provider on a fixed port
# (CAPTURE_PORT, default 47390), so that what the CLIs print does not vary from run to run.
set -euo pipefail
# shellcheck source=tests/agents/real/lib.sh
source "$(dirname "$0")/lib.sh"

FIXTURES=$REPO_DIR/tests/fixtures/real
BASE=/var/tmp/agent-runner-capture
PORT=${CAPTURE_PORT:-47390}
# A stream of a few MB would make a fixture nobody reads: keep the first and last 32 KiB.
KEEP_BYTES=32768

# The class a case gets where the table's does not fit what the CLI can know: a silent provider
# that only the capture's timeout ends, and claude's five-hour rejection under an API key, which
# it shows as a plain 429 whose only difference is the message text (the fake's own words, as the
# real text is not published), so nothing in the output tells it from a per-minute limit.
expected_class() {
    local cli=$1 case=$2 base=$3 timed_out=$4
    if [[ $case == hang || $case == stall ]] && ((timed_out)); then
        echo round_timeout
    elif [[ $cli/$case == claude/usage_limit ]]; then
        echo rate_limit_model
    else
        echo "$base"
    fi
}

# keep_ends FILE: the first and last KEEP_BYTES of FILE, cut at line ends, with a line saying so.
keep_ends() {
    local file=$1 size
    size=$(stat -c %s "$file")
    ((size > 2 * KEEP_BYTES)) || return 0
    {
        head -c "$KEEP_BYTES" "$file" | sed '$d'
        echo "[capture.sh: $((size - 2 * KEEP_BYTES)) bytes or so cut here; the first and last $KEEP_BYTES kept]"
        tail -c "$KEEP_BYTES" "$file" | sed '1d'
    } >"$file.kept"
    mv "$file.kept" "$file"
}

# tidy OUT_DIR START_NS: the install path (it names a hash of the pins) made stable, and the
# provider's log turned into requests.jsonl with times since the CLI started.
tidy() {
    local out=$1 start_ns=$2 agents
    agents=$(real_agents_dir)
    sed -i "s|$agents|${agents%/*}/PINS|g" "$out/stdout" "$out/stderr"
    keep_ends "$out/stdout"
    keep_ends "$out/stderr"
    python3 - "$BASE/requests.log" "$start_ns" >"$out/requests.jsonl" <<'EOF'
import json, sys
start = int(sys.argv[2]) / 1e9
for line in open(sys.argv[1], encoding="utf-8"):
    record = json.loads(line)
    record["t"] = round(record.pop("time") - start, 1)
    record.pop("seq", None)
    print(json.dumps(record, sort_keys=True))
EOF
}

# reset_seen OUT_DIR SCRIPT: "EPOCH FORM" when the output carries the reset time the provider
# gave (as epoch seconds, an ISO time, a clock time, or the delay in seconds), else "- -". A
# reset less than two minutes off is looked for only as epoch or delay: the CLIs' own timestamps
# of the capture would match its ISO or clock time.
reset_seen() {
    python3 - "$1" "$2" <<'EOF'
import json, re, sys
from datetime import datetime, timezone
out, script = sys.argv[1], sys.argv[2]
resets = [r["reset_at"] for r in map(json.loads, open(f"{out}/requests.jsonl")) if r.get("reset_at")]
text = open(f"{out}/stdout", errors="replace").read() + open(f"{out}/stderr", errors="replace").read()
if not resets:
    print("- -"); sys.exit()
epoch = resets[-1]
when = datetime.fromtimestamp(epoch, timezone.utc)
hour12 = when.hour % 12 or 12
ampm = "AM" if when.hour < 12 else "PM"
clocks = [f"{hour12}:{when.minute:02d} {ampm}", f"{hour12}:{when.minute:02d}{ampm.lower()}",
          f"{when.hour:02d}:{when.minute:02d}"]
if when.minute == 0:
    clocks.append(f"{hour12}{ampm.lower()}")
delays = re.findall(r"@(\d+)", script)
far = all(int(d) >= 120 for d in delays) and delays != []
forms = [("epoch", str(epoch) in text),
         ("iso", far and when.strftime("%Y-%m-%dT%H:%M") in text),
         ("clock", far and any(re.search(rf"\b{re.escape(c)}", text) for c in clocks)),
         ("delay", any(re.search(rf"\b{d}(\.0+)?\s*s\b", text) for d in delays))]
found = [name for name, seen in forms if seen]
print(f"{epoch} {found[0]}" if found else "- -")
EOF
}

capture_case() {
    local cli=$1 case=$2 script=$3 base_class=$4 out=$FIXTURES/$1/$2
    rm -rf "$BASE" "$out"
    mkdir -p "$BASE" "$out"
    prepare_work "$BASE/work"
    echo "Reply with the single word: done." >"$BASE/prompt.md"
    provider_start "$script" "$BASE/requests.log" "$PORT"
    prepare_home "$cli" "$BASE/home" "$PROVIDER_PORT"
    local start_ns
    start_ns=$(date +%s%N)
    run_cli "$cli" "$BASE/home" "$BASE/work" "$BASE/prompt.md" "$PROVIDER_PORT" "$out" \
        "$(case_timeout "$cli" "$case")"
    provider_stop
    tidy "$out" "$start_ns"
    local class reset
    class=$(expected_class "$cli" "$case" "$base_class" "$RUN_TIMED_OUT")
    reset=$(reset_seen "$out" "$script")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cli" "$case" "$script" \
        "$(cli_version "$cli")" "$class" "${reset% *}" "${reset#* }" "$(<"$out/exit")" \
        "$RUN_TIMED_OUT" "$RUN_SECONDS" "$((start_ns / 1000000000))" >"$out/manifest.tsv"
    echo "$cli/$case: exit $(<"$out/exit") after ${RUN_SECONDS}s → $class (reset ${reset% *})" >&2
}

# expected.tsv: the header and every case's line, in a stable order.
write_manifest() {
    {
        printf 'cli\tcase\tscript\tversion\texpected\treset_at\treset_form\texit\ttimed_out\tseconds\tcaptured_at\n'
        find "$FIXTURES" -mindepth 3 -maxdepth 3 -name manifest.tsv -exec cat {} + | sort
    } >"$FIXTURES/expected.tsv"
}

main() {
    local -a wanted=("$@")
    ((${#wanted[@]})) || wanted=("${REAL_CLIS[@]}")
    real_agents_dir >/dev/null
    exec 8>/var/tmp/agent-runner-capture.lock
    flock 8
    trap provider_stop EXIT
    local item cli only case script class
    for item in "${wanted[@]}"; do
        cli=${item%%/*}
        only=${item#"$cli"}
        only=${only#/}
        while read -r case script class; do
            [[ -z $only || $only == "$case" ]] || continue
            capture_case "$cli" "$case" "$script" "$class"
        done < <(cases_of "$cli")
    done
    write_manifest
    rm -rf "$BASE"
}

main "$@"
