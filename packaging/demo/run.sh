#!/usr/bin/env bash
# The agent-runner demo: a project whose agent is a bundled shell script (no API key) runs three
# rounds under systemd, and its events are printed as they happen; it ends by printing the address
# of the status page (at a terminal it waits for Enter meanwhile); then everything is removed.
#
#   sudo packaging/demo/run.sh
#
# On a machine whose PID 1 is systemd, the demo uses the host's systemd (it installs
# /etc/agent-runner/demo.toml and the demo's units, and removes them afterwards). Elsewhere (a
# container, a CI VM) it boots systemd 252 in a throwaway systemd-nspawn container
# (tests/system/sandbox.sh; the first run builds a Debian 12 image, about a minute, while cargo
# builds the binary).
# AGENT_RUNNER_BIN=PATH uses that binary instead of building one; DEMO_SANDBOX=1 forces the
# container.
set -euo pipefail
DEMO_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$DEMO_DIR/../.." && pwd)
NAME=demo
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "run it as root (sudo $0): it installs systemd units"

host_mode=0
[[ -d /run/systemd/system && ${DEMO_SANDBOX:-0} != 1 ]] && host_mode=1
sandbox=$ROOT/tests/system/sandbox.sh
image_log=
if ((!host_mode)); then
    # The container image (a download, mostly waiting on the network) is built while cargo
    # compiles (mostly CPU): on a fresh machine the two together take as long as the longer one.
    image_log=$(mktemp /tmp/agent-runner-demo-image.XXXXXX)
    say "preparing the container image in the background (log: $image_log)"
    "$sandbox" build >"$image_log" 2>&1 &
    image_builder=$!
fi

bin=${AGENT_RUNNER_BIN:-}
if [[ -z $bin ]]; then
    command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) or set AGENT_RUNNER_BIN"
    # The demo profile (Cargo.toml): no optimisation and no debug info, the quickest build from
    # nothing; cargo shows its progress.
    say "building agent-runner (cargo build --profile demo)"
    (cd "$ROOT" && cargo build --profile demo) || die "the build failed"
    bin=${CARGO_TARGET_DIR:-$ROOT/target}/demo/agent-runner
fi
[[ -x $bin ]] || die "$bin is not an executable"
[[ -x $(dirname "$bin")/agent-runner-round ]] ||
    die "$(dirname "$bin")/agent-runner-round is missing: the round service runs it, built beside agent-runner"

# How the demo waits: the loop halts itself at max_rounds; then the last round ends.
# CMD-PREFIX...: true once the loop unit, the round service and the step after the last round
# are all done (that step's start is queued the moment the round service goes inactive).
finished() {
    local states
    states=$("$@" systemctl show -p ActiveState --value "agent-runner-loop@$NAME.service" "agent-runner@$NAME.service" \
        "agent-runner-after@$NAME.service" "agent-runner-after-failure@$NAME.service" | grep . | paste -sd' ')
    [[ $states =~ ^inactive\ (inactive|failed)\ (inactive|failed)\ (inactive|failed)$ ]] &&
        [[ -z $("$@" systemctl list-jobs --no-legend "agent-runner-after*@$NAME.service") ]]
}
# The status page, for as long as the demo runs: a transient socket unit of the demo's systemd on
# 127.0.0.1:8765 that starts `agent-runner web` on the first request (or the package's own
# agent-runner-web.socket, when it listens already). It reads what `status` reads and writes
# nothing; stop_page removes it with the demo.
PAGE=http://127.0.0.1:8765/
PAGE_UNIT=agent-runner-demo-web
serve_page() { # BIN CMD-PREFIX...
    local bin=$1
    shift
    "$@" systemctl -q is-active agent-runner-web.socket && return 0
    "$@" systemd-run --quiet --unit="$PAGE_UNIT" --socket-property=ListenStream=127.0.0.1:8765 \
        -p StandardInput=socket -p ProtectSystem=strict -p ProtectHome=read-only \
        -p PrivateNetwork=yes -p PrivateTmp=yes -p NoNewPrivileges=yes "$bin" web
    # The first request starts the service: the page answers, or the demo says why not.
    "$@" /bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/8765 && printf "GET / HTTP/1.0\r\n\r\n" >&3 && head -n1 <&3' |
        grep -q ' 200 ' || die "the status page did not answer on $PAGE"
}
# Only the host's systemd needs it: the container goes with everything in it.
stop_page() {
    systemctl stop "$PAGE_UNIT.socket" "$PAGE_UNIT.service" 2>/dev/null || true
    systemctl reset-failed "$PAGE_UNIT.socket" "$PAGE_UNIT.service" 2>/dev/null || true
}
# Ends the demo: a newcomer at a terminal looks at the page before everything is removed.
linger() {
    [[ -t 0 ]] || return 0
    read -r -p "press Enter to remove the demo and its page " _ || true
}
wait_done() { # CMD-PREFIX...
    local i
    sleep 1
    for ((i = 0; i < 600; i++)); do
        finished "$@" && return 0
        sleep 0.2
    done
    die "the demo did not finish within two minutes"
}

if ((host_mode)); then
    # ------------------------------------------------------------------ the host's systemd
    [[ ! -e /etc/agent-runner/$NAME.toml ]] || die "/etc/agent-runner/$NAME.toml exists already: the demo will not touch a real project"
    # The agent's work dir is a git repository; a minimal Debian has no git.
    if ! command -v git >/dev/null; then
        say "installing git"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends git </dev/null >/dev/null ||
            die "git is needed: apt-get install git"
    fi
    # Not under /tmp or /var/tmp: the units have PrivateTmp=.
    work=$(mktemp -d /var/lib/agent-runner-demo.XXXXXX)
    user=${SUDO_USER:-}
    [[ -n $user && $user != root ]] || user=nobody
    templates_before=$(ls /etc/systemd/system/agent-runner*@.service 2>/dev/null || true)
    # shellcheck disable=SC2317 # reachable: the EXIT trap below runs it
    cleanup() {
        say "cleaning up"
        stop_page
        systemctl stop "agent-runner@$NAME.service" 2>/dev/null || true
        systemctl reset-failed "agent-runner*@$NAME.service" 2>/dev/null || true
        rm -f "/etc/agent-runner/$NAME.toml"
        rmdir /etc/agent-runner 2>/dev/null || true
        rm -rf /etc/systemd/system/agent-runner*@"$NAME".*.d
        if [[ -z $templates_before ]]; then
            # generate installed the host-wide units too: the detectors' watch and the notifier.
            systemctl stop agent-runner-watch.timer agent-runner-watch.service 2>/dev/null || true
            systemctl reset-failed agent-runner-watch.service 2>/dev/null || true
            rm -f /etc/systemd/system/agent-runner@.service /etc/systemd/system/agent-runner@.timer \
                /etc/systemd/system/agent-runner@.path /etc/systemd/system/agent-runner-loop@.service \
                /etc/systemd/system/agent-runner-halt@.service \
                /etc/systemd/system/agent-runner-after@.service \
                /etc/systemd/system/agent-runner-after-failure@.service \
                /etc/systemd/system/agent-runner-notify@.service \
                /etc/systemd/system/agent-runner-watch.service /etc/systemd/system/agent-runner-watch.timer
        fi
        systemctl daemon-reload
        rm -rf "$work" "/var/lib/agent-runner/$NAME" "/var/log/agent-runner/$NAME"
        rm -f "/var/lib/agent-runner-alerts/$NAME.json"
        rmdir /var/lib/agent-runner /var/log/agent-runner /var/lib/agent-runner-alerts \
            /var/lib/agent-runner-accounts 2>/dev/null || true
        if [[ -n ${follower:-} ]]; then kill -TERM -- "-$follower" 2>/dev/null || true; fi
    }
    trap cleanup EXIT
    mkdir -p "$work/repo" "$work/bin" /etc/agent-runner
    cp "$DEMO_DIR/agent.sh" "$DEMO_DIR/prompt.md" "$work/bin/"
    # The units run the binary as $user, who may not be able to reach the build tree (/root).
    install -m 755 "$bin" "$work/bin/agent-runner"
    install -m 755 "$(dirname "$bin")/agent-runner-round" "$work/bin/agent-runner-round"
    bin=$work/bin/agent-runner
    git -C "$work/repo" init -q
    git -C "$work/repo" -c user.name=demo -c user.email=demo@localhost commit -q --allow-empty -m "demo: start"
    chown -R "$user" "$work/repo"
    chmod 755 "$work" "$work/bin"
    sed -e "s#/opt/agent-runner-demo#$work/bin#g" -e "s#/srv/agent-runner-demo#$work/repo#" \
        -e "s#^user = .*#user = \"$user\"#" "$DEMO_DIR/demo.toml" >"/etc/agent-runner/$NAME.toml"
    say "agent-runner generate $NAME (the agent runs as $user in $work/repo)"
    "$bin" generate --exec "$bin" "$NAME"
    say "systemctl start agent-runner@$NAME: three rounds, two seconds apart"
    # `systemctl start` returns once round 1 has checked in; `events --follow` prints what
    # happened so far and then each event as it happens.
    systemctl start "agent-runner@$NAME" ||
        { journalctl --no-pager -n 30 -u "agent-runner*@$NAME*"; die "the first round failed"; }
    setsid "$bin" events "$NAME" --follow --lines 1000 &
    follower=$!
    wait_done
    sleep 1
    kill -TERM -- "-$follower" 2>/dev/null || true
    wait "$follower" 2>/dev/null || true
    follower=
    say "agent-runner status $NAME"
    "$bin" status "$NAME" || true
    say "what the agent left in its work dir (git log)"
    git -c safe.directory='*' -C "$work/repo" log --oneline | head -5
    serve_page "$bin"
    say "the status page: $PAGE (open it in a browser on this machine)"
    linger
    exit 0
fi

# ---------------------------------------------------------------------- a throwaway container
export SANDBOX_NAME=agent-runner-demo
if ! wait "$image_builder"; then
    cat "$image_log" >&2
    die "the container image could not be built"
fi
rm -f "$image_log"
say "booting systemd 252 in a container (PID 1 here is not systemd)"
cleanup() {
    if [[ -n ${follower:-} ]]; then kill -TERM -- "-$follower" 2>/dev/null || true; fi
    say "cleaning up"
    "$sandbox" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
SANDBOX_BIND_RO="$bin:/usr/bin/agent-runner $(dirname "$bin")/agent-runner-round:/usr/bin/agent-runner-round $DEMO_DIR:/opt/agent-runner-demo" "$sandbox" up
ct() { "$sandbox" exec "$@"; }
ct /bin/sh -c 'set -e
    mkdir -p /srv/agent-runner-demo /etc/agent-runner
    cd /srv/agent-runner-demo
    git init -q
    git -c user.name=demo -c user.email=demo@localhost commit -q --allow-empty -m "demo: start"
    chown -R agent: /srv/agent-runner-demo
    cp /opt/agent-runner-demo/demo.toml /etc/agent-runner/demo.toml'
say "agent-runner generate $NAME"
ct agent-runner generate "$NAME"
say "systemctl start agent-runner@$NAME: three rounds, two seconds apart"
# `systemctl start` returns once round 1 has checked in; `events --follow` prints what happened
# so far and then each event as it happens.
ct systemctl start "agent-runner@$NAME" ||
    { ct journalctl --no-pager -n 30 -u "agent-runner*@$NAME*"; die "the first round failed"; }
# Its own process group, so that stopping it also stops the journalctl it runs.
setsid "$sandbox" exec agent-runner events "$NAME" --follow --lines 1000 &
follower=$!
wait_done ct
sleep 1
kill -TERM -- "-$follower" 2>/dev/null || true
wait "$follower" 2>/dev/null || true
follower=
say "agent-runner status $NAME"
ct agent-runner status "$NAME" || true
say "what the agent left in its work dir (git log)"
ct runuser -u agent -- git -C /srv/agent-runner-demo log --oneline | head -5
serve_page /usr/bin/agent-runner ct
say "the status page: $PAGE inside the container; from this machine: sudo nsenter -t $("$sandbox" pid) -n curl $PAGE"
linger
