#!/usr/bin/env bash
# Benchmark of the read commands on a real systemd 252 (nspawn, tests/system/lib.sh):
#   * `status --json` over 200 projects (units loaded, loops running, state files present);
#   * `peek --json` of a project with 1,000,000 events in the journal, and in the JSON mirror;
#   * `events -n 20` and `diagnose` on the same history.
# Not a test: it prints numbers (wall time mean/min/max over RUNS runs, the peak RSS of the
# process tree, and the CPU per run of the container's systemd, its dbus-daemon and the command)
# to compare with the seed system (cli-agent-runner 0.3.14, measured on this VM class: `status`
# 282 ms, `peek --json` 305 ms empty, 2.94 s at 100k events, 8.61 s / 360 MB at 300k).
#
# Usage (root): bench/status-peek.sh            builds a release binary first
#               AGENT_RUNNER_BIN=PATH bench/status-peek.sh
#               AGENT_RUNNER_BIN_BEFORE=OLD AGENT_RUNNER_BIN=NEW bench/status-peek.sh
#                 measures both builds alternately (before, after, before, after) in the same
#                 sandbox, and compares their outputs of the read commands byte for byte
# Knobs: PROJECTS=200 EVENTS=1000000 RUNS=10 SANDBOX_NAME=agent-runner-bench
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
PROJECTS=${PROJECTS:-200}
EVENTS=${EVENTS:-1000000}
RUNS=${RUNS:-10}
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-bench}
BENCH_PROFILE=release
# shellcheck source=bench/sandbox.sh
source "$BENCH_DIR/sandbox.sh"

# Each project's path unit takes an inotify instance of the container's systemd, and those count
# against root's limit on the host (128 by default): 200 projects need more.
if (($(sysctl -n fs.inotify.max_user_instances) < 4 * PROJECTS)); then
    echo "raising fs.inotify.max_user_instances to $((4 * PROJECTS)) (each project's path unit holds one)"
    sysctl -q -w fs.inotify.max_user_instances=$((4 * PROJECTS))
fi

# measure LABEL CMD...: runs CMD inside the container RUNS times after one warm-up, each under
# bench/launch.c (wall time from fork to wait4, peak RSS of the command and what it waited for).
measure() {
    if [[ -n ${AGENT_RUNNER_BIN_BEFORE:-} ]]; then
        local label=$1 round
        shift
        for round in 1 2; do
            measure_one "before $round: $label" "${@/%agent-runner/agent-runner-before}"
            measure_one "after  $round: $label" "$@"
        done
    else
        measure_one "$@"
    fi
}

measure_one() {
    local label=$1
    shift
    local cmd
    printf -v cmd '%q ' "$@"
    # Around the runs (after the warm-up): the CPU of the container's systemd and dbus-daemon
    # (utime + stime of /proc/PID/stat) and of the shell's children (`times`: launch and the
    # command, which launch waited for).
    ctsh "/usr/local/bin/launch $cmd >/dev/null 2>&1
        cpu() { local f; read -ra f </proc/\$1/stat; echo \$((f[13] + f[14])); }
        bus=\$(pidof -s dbus-daemon || echo 1)
        echo cpu \$(cpu 1) \$(cpu \$bus); times
        for i in \$(seq $RUNS); do /usr/local/bin/launch $cmd 2>/dev/null | tail -n 1; done
        echo cpu \$(cpu 1) \$(cpu \$bus); times; echo hz \$(getconf CLK_TCK)" |
        python3 -c '
import re, sys
label, runs = sys.argv[1], int(sys.argv[2])
lines = [l.split() for l in sys.stdin]
rows = [l for l in lines if len(l) == 4]
ms = [(int(r[1]) - int(r[0])) / 1e6 for r in rows]
rss = max(int(r[2]) for r in rows) / 1024
codes = "/".join(sorted({r[3] for r in rows}))
def secs(t):
    m, s = re.fullmatch(r"(\d+)m([\d.]+)s", t).groups()
    return int(m) * 60 + float(s)
# times prints the times of the shell, then those of its children: the second and fourth such line.
children = [secs(l[0]) + secs(l[1]) for l in lines if len(l) == 2 and l[0].endswith("s")][1::2]
daemons = [l[1:] for l in lines if l and l[0] == "cpu"]
tick = 1000 / int(next(l[1] for l in lines if l and l[0] == "hz"))
systemd = (int(daemons[1][0]) - int(daemons[0][0])) * tick / runs
bus = (int(daemons[1][1]) - int(daemons[0][1])) * tick / runs
own = (children[1] - children[0]) * 1000 / runs
print(f"{label:<44} mean {sum(ms)/len(ms):7.1f} ms  min {min(ms):7.1f}  max {max(ms):7.1f}  peak RSS {rss:5.1f} MB  exit {codes}")
print(" " * 44, f"CPU per run: systemd {systemd:5.1f} ms, dbus-daemon {bus:5.1f} ms, the command {own:5.1f} ms")
' "$label" "$RUNS"
}

# same_output CMD...: the before build's output of CMD and the after build's, byte for byte. One
# after the other: a read that loads a unit (LoadUnit, Ref) makes it show in the listing of a read
# running beside it.
same_output() {
    [[ -n ${AGENT_RUNNER_BIN_BEFORE:-} ]] || return 0
    local before after
    before=$(ct "${@/%agent-runner/agent-runner-before}" 2>&1) || true
    after=$(ct "$@" 2>&1) || true
    if [[ $before == "$after" ]]; then
        echo "same output before/after: $*"
    else
        echo "OUTPUT DIFFERS before/after: $*"
        diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 20 || true
    fi
}

gcc -O2 -static -o "$WORK/launch" "$BENCH_DIR/launch.c"
sandbox install-bin "$WORK/launch" /usr/local/bin >/dev/null
if [[ -n ${AGENT_RUNNER_BIN_BEFORE:-} ]]; then
    cp "$AGENT_RUNNER_BIN_BEFORE" "$WORK/agent-runner-before"
    sandbox install-bin "$WORK/agent-runner-before" /usr/bin >/dev/null
fi

echo "setting up $PROJECTS projects (loops started, agent sleeping)"
# One project made the tests' way, copied PROJECTS-1 times, one `generate` for all of them (a
# daemon-reload per project would take minutes at 200).
first=p$(seq -w 1 "$PROJECTS" | head -n 1)
AGENT_ENV='FAKE_SLEEP = "600"' new_project "$first" 'restart_delay_s = 60' >/dev/null
for i in $(seq -w 2 "$PROJECTS"); do
    sed "s/$first/p$i/g" "$WORK/etc-agent-runner/$first.toml" >"$WORK/etc-agent-runner/p$i.toml"
done
ctsh "set -e; for i in \$(seq -w 2 $PROJECTS); do
        mkdir -p /srv/p\$i; cp /srv/prompts/$first.md /srv/prompts/p\$i.md
        git -C /srv/p\$i init -q; git -C /srv/p\$i -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
        chown -R $TEST_USER: /srv/p\$i
    done"
ct agent-runner generate >/dev/null
ctsh "for i in \$(seq -w 1 $PROJECTS); do systemctl start --no-block agent-runner@p\$i; done"
wait_for 60 "every loop running" bash -c \
    "[[ \$($SANDBOX exec systemctl list-units --no-legend --state=active 'agent-runner@p*.service' | grep -c .) -ge $PROJECTS ]]"
same_output agent-runner status --json
same_output agent-runner status
same_output agent-runner status "$first" --json
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "status --json, $PROJECTS projects" agent-runner status --json
measure "status (table), $PROJECTS projects" agent-runner status
measure "status $first --json" agent-runner status "$first" --json
ctsh "for i in \$(seq -w 1 $PROJECTS); do systemctl stop --no-block agent-runner@p\$i; done"

echo "writing $EVENTS events of project h into the journal and its mirror"
# The sandbox's journal is volatile (/run): let it keep a million events (about 1 GB with the
# rest of the boot's) instead of rotating the oldest away at 10% of the file system.
ct mkdir -p /etc/systemd/journald.conf.d
ct sh -c 'printf "[Journal]\nRuntimeMaxUse=3G\n" >/etc/systemd/journald.conf.d/20-bench.conf'
ct systemctl restart systemd-journald
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
same_output agent-runner peek $h --json
same_output agent-runner events $h -n 20 --json
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "peek --json, $EVENTS events (journal)" agent-runner peek $h --json
measure "peek --json, $EVENTS events (mirror)" env PATH=/nonexistent /usr/bin/agent-runner peek $h --json
measure "events -n 20, $EVENTS events (journal)" agent-runner events $h -n 20
measure "events -n 20, $EVENTS events (mirror)" env PATH=/nonexistent /usr/bin/agent-runner events $h -n 20
measure "diagnose --json, $EVENTS events" agent-runner diagnose $h --json
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
