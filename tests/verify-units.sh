#!/usr/bin/env bash
# Renders the unit set of every preset (and of a config using every key), for the system and the
# user manager, and checks each with `systemd-analyze verify --recursive-errors=yes`: it fails on a
# non-zero exit and on any output at all, since verify prints some problems (an ordering cycle) and
# still exits 0. Each set is scored with `systemd-analyze security --offline=yes`: a score that
# cannot be read fails, and system units must stay under the exposure threshold below.
#
#   tests/verify-units.sh                  with this host's systemd-analyze (Debian 12: 252)
#   VERIFY_SUITE=trixie tests/verify-units.sh
#                                          with the systemd-analyze of a Debian suite (trixie: 257),
#                                          run in that suite's sandbox (tests/system/sandbox.sh),
#                                          the units rendered for that suite's version
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=$PWD/target/debug/agent-runner
threshold=${SECURITY_THRESHOLD:-40}   # exposure x10: 4.0 ("OK") or better for system units
work=$(mktemp -d)
suite=${VERIFY_SUITE:-}
sandbox=tests/system/sandbox.sh
export SANDBOX_NAME=verify-${suite:-host}
cleanup() {
    [[ -z $suite ]] || "$sandbox" down >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
git init -q "$work/repo"
printf '#!/bin/sh\ncat >/dev/null\n' >"$work/repo/agent.sh" && chmod +x "$work/repo/agent.sh"

# systemd-analyze ARGS... in directory $dir: this host's, or the suite's inside its sandbox (which
# sees $work at the same path).
analyze() {
    if [[ -z $suite ]]; then
        (cd "$dir" && systemd-analyze "$@")
    else
        SANDBOX_CWD=$dir "$sandbox" exec env XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" systemd-analyze "$@"
    fi
}
version_flag=()
if [[ -n $suite ]]; then
    SANDBOX_SUITE=$suite SANDBOX_BIND=$work "$sandbox" up >/dev/null
    "$sandbox" install-bin "$bin" /usr/bin >/dev/null
    "$sandbox" install-bin "$(dirname "$bin")/agent-runner-round" /usr/bin >/dev/null
    version=$("$sandbox" exec systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
    [[ -n $version ]] || { echo "verify-units: no systemd version in the $suite sandbox" >&2; exit 1; }
    version_flag=(--systemd-version "$version" --exec /usr/bin/agent-runner)
    echo "rendered units: verified with systemd $version ($suite)"
fi

fail=0
verify_set() { # name scope dir
    local name=$1 scope=$2 dir=$3 unit out rc
    local flag=() ; [[ $scope == user ]] && flag=(--user)
    local units=("agent-runner@$name.service" "agent-runner@$name.timer" "agent-runner@$name.path" "agent-runner-loop@$name.service" "agent-runner-halt@$name.service")
    # The watch service and its timer: the system manager's only.
    [[ $scope == system ]] && units+=(agent-runner-watch.service agent-runner-watch.timer)
    for unit in "${units[@]}"; do
        if out=$(analyze "${flag[@]}" verify --recursive-errors=yes --man=no "./$unit" 2>&1); then rc=0; else rc=$?; fi
        if ((rc != 0)) || [[ -n $out ]]; then
            echo "FAIL verify $scope $unit (exit $rc):"
            # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
            echo "$out" | sed 's/^/    /'
            fail=1
        fi
    done
    local score report
    if ! report=$(analyze "${flag[@]}" security --offline=yes "./agent-runner@$name.service" 2>&1); then
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
    printf '  %-20s %-6s verify ok   security exposure %s\n' "$name" "$scope" "$score"
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
        "$bin" "${flag[@]}" generate "${version_flag[@]}" --config "$d/etc/$preset.toml" --output "$d/units" >/dev/null
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
    "$bin" "${flag[@]}" generate "${version_flag[@]}" --config "$work/full/etc/full.toml" --output "$work/full/$scope" >/dev/null
    verify_set full "$scope" "$work/full/$scope"
done

# The old runner's stock presets and its runbook's examples, imported by `agent-runner import`.
old_presets=$(tests/old-runner/presets.sh)
for old in "$old_presets"/*.toml tests/fixtures/old-runner/*.toml; do
    name=old-$(basename "$old" .toml)
    sed "s#/home/user/my-research#$work/repo#" "$old" >"$work/repo/agent-runner.toml"
    for scope in system user; do
        flag=(); [[ $scope == user ]] && flag=(--user)
        d=$work/$name-$scope
        if ! out=$(HOME=$work/home "$bin" "${flag[@]}" import "$work/repo/agent-runner.toml" \
            --name "$name" --output "$d/etc/$name.toml" 2>&1); then
            echo "FAIL import $scope $old:"
            # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
            echo "$out" | sed 's/^/    /'
            fail=1
            continue
        fi
        "$bin" "${flag[@]}" generate "${version_flag[@]}" --config "$d/etc/$name.toml" --output "$d/units" >/dev/null
        verify_set "$name" "$scope" "$d/units"
    done
done

# The status page's socket and service, and the service writing the metrics textfile, as the
# package ships them (ExecStart= pointed at the binary just built, since verify checks that it
# exists; a suite's sandbox has it installed).
dir=$work/web
mkdir -p "$dir"
exec_path=$bin
[[ -z $suite ]] || exec_path=/usr/bin/agent-runner
web_units=(agent-runner-web.socket agent-runner-web.service agent-runner-metrics.service)
for unit in "${web_units[@]}"; do
    sed "s#/usr/bin/agent-runner#$exec_path#" "units/system/$unit" >"$dir/$unit"
done
web_verify=ok
for unit in "${web_units[@]}"; do
    if out=$(analyze verify --recursive-errors=yes --man=no "./$unit" 2>&1); then rc=0; else rc=$?; fi
    if ((rc != 0)) || [[ -n $out ]]; then
        echo "FAIL verify $unit (exit $rc):"
        # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
        echo "$out" | sed 's/^/    /'
        fail=1
        web_verify=FAILED
    fi
done
web_score=$(analyze security --offline=yes ./agent-runner-web.service 2>&1 \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
printf '  %-20s %-6s verify %-6s security exposure %s\n' web system "$web_verify" "${web_score:-?}"
if [[ -z $web_score ]] || awk -v s="$web_score" -v t="$threshold" 'BEGIN { exit !(s * 10 > t) }'; then
    echo "FAIL security web: exposure ${web_score:-unreadable} above $((threshold / 10)).$((threshold % 10))"; fail=1
fi

if ((fail)); then echo "rendered units: FAILED"; exit 1; fi
echo "rendered units: all sets verify clean"
