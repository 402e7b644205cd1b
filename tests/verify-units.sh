#!/usr/bin/env bash
# Renders the unit set of every preset (and of a config using every key), for the system and the
# user manager, and checks each with `systemd-analyze verify --recursive-errors=yes`: it fails on a
# non-zero exit and on any output at all, since verify prints some problems (an ordering cycle) and
# still exits 0. Each set is scored with `systemd-analyze security --offline=yes`: a score that
# cannot be read fails, and system units must stay under the exposure threshold below.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=$PWD/target/debug/agent-runner
threshold=${SECURITY_THRESHOLD:-40}   # exposure x10: 4.0 ("OK") or better for system units
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
git init -q "$work/repo"
printf '#!/bin/sh\ncat >/dev/null\n' >"$work/repo/agent.sh" && chmod +x "$work/repo/agent.sh"

fail=0
verify_set() { # name scope dir
    local name=$1 scope=$2 dir=$3 unit out rc
    local flag=() ; [[ $scope == user ]] && flag=(--user)
    for unit in "agent-runner@$name.service" "agent-runner@$name.timer" "agent-runner@$name.path" "agent-runner-loop@$name.service" "agent-runner-halt@$name.service"; do
        if out=$(cd "$dir" && systemd-analyze "${flag[@]}" verify --recursive-errors=yes --man=no "./$unit" 2>&1); then rc=0; else rc=$?; fi
        if ((rc != 0)) || [[ -n $out ]]; then
            echo "FAIL verify $scope $unit (exit $rc):"
            # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
            echo "$out" | sed 's/^/    /'
            fail=1
        fi
    done
    local score report
    if ! report=$(cd "$dir" && systemd-analyze "${flag[@]}" security --offline=yes "./agent-runner@$name.service" 2>&1); then
        echo "FAIL security $scope $name: systemd-analyze security failed:"
        # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
        echo "$report" | sed 's/^/    /'
        fail=1
        return
    fi
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$report")
    if [[ -z $score ]]; then
        echo "FAIL security $scope $name: no exposure score in systemd-analyze's report:"
        # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
        echo "$report" | tail -n 5 | sed 's/^/    /'
        fail=1
        return
    fi
    printf '  %-8s %-6s verify ok   security exposure %s\n' "$name" "$scope" "$score"
    if [[ $scope == system ]] && awk -v s="$score" -v t="$threshold" 'BEGIN { exit !(s * 10 > t) }'; then
        echo "FAIL security $name: exposure $score above $((threshold / 10)).$((threshold % 10))"; fail=1
    fi
}

for preset in claude codex gemini aider kimi pi qwen shell; do
    for scope in system user; do
        flag=(); [[ $scope == user ]] && flag=(--user)
        d=$work/$preset-$scope
        "$bin" "${flag[@]}" init --preset "$preset" "$preset" --dir "$d/etc" --work-dir "$work/repo" >/dev/null
        # A named account, so that the system set carries the CLI's state paths below its home.
        [[ $scope == system ]] && sed -i 's/^# user = "agent" .*/user = "daemon"/' "$d/etc/$preset.toml"
        "$bin" "${flag[@]}" generate --config "$d/etc/$preset.toml" --output "$d/units" >/dev/null
        verify_set "$preset" "$scope" "$d/units"
    done
done

# One config that uses every key.
mkdir -p "$work/full/etc" "$work/creds"
echo secret >"$work/creds/token"
sed -e "s#@WORK@#$work/repo#g" -e "s#@CREDS@#$work/creds#g" tests/corpus/full.toml >"$work/full/etc/full.toml"
printf 'Do the next task from TODO.md and commit it.\n%.0s' 1 2 3 >"$work/repo/main.md"
for scope in system user; do
    flag=(); [[ $scope == user ]] && flag=(--user)
    "$bin" "${flag[@]}" generate --config "$work/full/etc/full.toml" --output "$work/full/$scope" >/dev/null
    verify_set full "$scope" "$work/full/$scope"
done

# The status page's socket and service, as the package ships them (ExecStart= pointed at the
# binary just built, since verify checks that it exists).
mkdir -p "$work/web"
for unit in agent-runner-web.socket agent-runner-web.service; do
    sed "s#/usr/bin/agent-runner#$bin#" "units/system/$unit" >"$work/web/$unit"
done
for unit in agent-runner-web.socket agent-runner-web.service; do
    if out=$(cd "$work/web" && systemd-analyze verify --recursive-errors=yes --man=no "./$unit" 2>&1); then rc=0; else rc=$?; fi
    if ((rc != 0)) || [[ -n $out ]]; then
        echo "FAIL verify $unit (exit $rc):"
        # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
        echo "$out" | sed 's/^/    /'
        fail=1
    fi
done
web_score=$(cd "$work/web" && systemd-analyze security --offline=yes ./agent-runner-web.service 2>&1 \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
printf '  %-8s %-6s verify ok   security exposure %s\n' web system "${web_score:-?}"
if [[ -z $web_score ]] || awk -v s="$web_score" -v t="$threshold" 'BEGIN { exit !(s * 10 > t) }'; then
    echo "FAIL security web: exposure ${web_score:-unreadable} above $((threshold / 10)).$((threshold % 10))"; fail=1
fi

if ((fail)); then echo "rendered units: FAILED"; exit 1; fi
echo "rendered units: all sets verify clean"
