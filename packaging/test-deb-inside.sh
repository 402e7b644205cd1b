#!/bin/bash
# The part of packaging/test-deb.sh that runs inside the systemd sandbox (as root, systemd 252 as
# PID 1). Every check prints "ok - …" or fails the script with "FAIL - …".
set -euo pipefail

gen=/run/systemd/generator
step() { printf '\n--- %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }
fail() {
    printf 'FAIL - %s\n' "$*" >&2
    exit 1
}
check() { # check DESCRIPTION CMD...
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
# wait_for SECONDS DESCRIPTION CMD...: polls CMD every 0.2 s.
wait_for() {
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 5; i++)); do
        if "$@" >/dev/null 2>&1; then
            ok "$what"
            return 0
        fi
        sleep 0.2
    done
    fail "$what (waited ${limit}s)"
}
events() { # events PROJECT KIND: how many events of KIND the journal holds
    journalctl -q -o cat --no-pager "AGENT_RUNNER_PROJECT=$1" "AGENT_RUNNER_EVENT=$2" | wc -l
}
at_least() { # at_least N PROJECT KIND
    (($(events "$2" "$3") >= $1))
}
no_files() { # no_files GLOB...: true when no path matches
    local p
    for p in "$@"; do
        [[ -e $p || -L $p ]] && {
            echo "left behind: $p" >&2
            return 1
        }
    done
    return 0
}
project() { # project NAME MAX_ROUNDS: a project whose agent prints a line and exits 0
    local name=$1 max=$2 dir=/srv/$1
    mkdir -p "$dir"
    git -C "$dir" init -q
    cat >"$dir/agent.sh" <<'EOF'
#!/bin/sh
echo "demo agent: round $AGENT_RUNNER_ROUND of $AGENT_RUNNER_PROJECT, prompt of $(wc -c) bytes"
EOF
    chmod 755 "$dir/agent.sh"
    cat >"$dir/prompt.md" <<'EOF'
You are the demo agent of the agent-runner package test. Print one line and exit.
EOF
    chown -R agent: "$dir"
    cat >"/etc/agent-runner/$name.toml" <<EOF
schema_version = 1

[agent]
preset = "shell"
command = ["$dir/agent.sh"]

[runtime]
work_dir = "$dir"
user = "agent"
restart_delay_s = 1
max_rounds = $max

[prompt]
files = ["prompt.md"]
EOF
}

section_install() {
    step "install"
    dpkg -i "$DEB" >/dev/null
    for f in /usr/bin/agent-runner /usr/bin/agent-runner-round \
        /usr/lib/systemd/system/agent-runner@.service /usr/lib/systemd/system/agent-runner@.timer \
        /usr/lib/systemd/system/agent-runner@.path /usr/lib/systemd/system/agent-runner-halt@.service \
        /usr/lib/systemd/system/agent-runner-after@.service \
        /usr/lib/systemd/system/agent-runner-after-failure@.service \
        /usr/lib/systemd/user/agent-runner-after-failure@.service \
        /usr/lib/systemd/system/agent-runner-web.socket /usr/lib/systemd/system/agent-runner-web.service \
        /usr/lib/sysusers.d/agent-runner.conf \
        /usr/lib/systemd/user/agent-runner@.service \
        /usr/lib/systemd/system-generators/agent-runner-generator \
        /usr/lib/systemd/user-generators/agent-runner-generator \
        /usr/lib/systemd/catalog/agent-runner.catalog \
        /usr/share/man/man1/agent-runner.1.gz /usr/share/man/man5/agent-runner.toml.5.gz \
        /usr/share/man/man7/agent-runner.units.7.gz \
        /usr/share/bash-completion/completions/agent-runner \
        /usr/share/zsh/vendor-completions/_agent-runner \
        /usr/share/fish/vendor_completions.d/agent-runner.fish \
        /usr/share/doc/agent-runner/examples/claude-example.toml; do
        [[ -e $f ]] || fail "installed: $f"
    done
    ok "every file installed"
    id agent >/dev/null 2>&1 || useradd --system --create-home --home-dir /home/agent agent
    mkdir -p /etc/agent-runner
    check "bash completion loads" bash -c 'source /usr/share/bash-completion/completions/agent-runner && complete -p agent-runner >/dev/null'
    check "templates loaded" sh -c "systemctl cat agent-runner@x.service >/dev/null"

}

section_catalog() {
    step "journal catalog"
    ids=$(grep -c '^-- ' /usr/lib/systemd/catalog/agent-runner.catalog)
    listed=$(journalctl --list-catalog | grep -c 'agent-runner: ' || true)
    check "catalog compiled by the dpkg trigger: $listed of $ids entries listed" test "$listed" -eq "$ids" -a "$ids" -gt 0

}

section_demo() {
    step "demo project from the installed package"
    # packaging/demo, as shipped: its TOML expects the agent in /opt and the repository in /srv.
    local doc=/usr/share/doc/agent-runner/examples/demo
    install -D -m 755 "$doc/agent.sh" /opt/agent-runner-demo/agent.sh
    install -m 644 "$doc/prompt.md" /opt/agent-runner-demo/prompt.md
    mkdir -p /srv/agent-runner-demo
    git -C /srv/agent-runner-demo init -q
    git -C /srv/agent-runner-demo -c user.name=demo -c user.email=demo@localhost commit -q --allow-empty -m start
    chown -R agent: /srv/agent-runner-demo
    install -m 644 "$doc/demo.toml" /etc/agent-runner/demo.toml
    check "check demo" sh -c "agent-runner check demo >/dev/null"
    agent-runner generate
    check "generate wrote the drop-in" test -f /etc/systemd/system/agent-runner@demo.service.d/50-agent-runner.conf
    check "the generator left demo to generate" test ! -e /run/systemd/generator/agent-runner@demo.service.d
    systemctl start agent-runner@demo.service
    wait_for 60 "three rounds ended" at_least 3 demo round_end
    wait_for 20 "max_rounds_reached after round 3" at_least 1 demo max_rounds_reached
    wait_for 20 "the loop is over (timer inactive)" sh -c '! systemctl -q is-active agent-runner@demo.timer'
    check "no fourth round" test "$(events demo round_end)" -eq 3
    check "service did not fail" sh -c '! systemctl -q is-failed agent-runner@demo.service'
    journalctl -x -q --no-pager AGENT_RUNNER_PROJECT=demo AGENT_RUNNER_EVENT=round_end >/tmp/x.txt
    check "journalctl -x shows the catalog text of round_end" grep -q 'Defined-By: agent-runner' /tmp/x.txt
    check "…with the project substituted" grep -q 'Event round_end of project demo\.' /tmp/x.txt
    check "agent-runner events: three round_end as JSON" test "$(agent-runner events demo --kind round_end --json | wc -l)" -eq 3
    # The round service may still be deactivating when the timer is already gone; status says
    # running until then, so this waits rather than looks once.
    wait_for 20 "agent-runner status: halted by max_rounds" sh -c "agent-runner status | grep -q '^demo .*halted(max_rounds)'"
    check "the agent's work was committed (dirty_action = commit)" test "$(git -c safe.directory=/srv/agent-runner-demo -C /srv/agent-runner-demo rev-list --count HEAD)" -ge 4
    systemctl enable agent-runner@demo.service 2>/dev/null
    check "enabled" test -L /etc/systemd/system/multi-user.target.wants/agent-runner@demo.service

}

# http_get PATH: the answer of the status page's socket, headers and body (bash's /dev/tcp: the
# sandbox has no curl).
http_get() {
    # shellcheck disable=SC2016 # the inner bash expands $1, given as its argument
    timeout 30 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8765 &&
        printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$1" >&3 && cat <&3' _ "$1"
}

section_web() {
    step "the status page and the metrics textfile"
    check "the page's user exists" id agent-runner-web
    check "agent-runner-web.socket starts" systemctl start agent-runner-web.socket
    check "no page process before the first request" sh -c '! systemctl -q is-active agent-runner-web.service'
    local answer
    answer=$(http_get /) || fail "nothing answers on 127.0.0.1:8765: $(systemctl status --no-pager agent-runner-web.socket agent-runner-web.service 2>&1 | tail -20)"
    check "the socket answers on 127.0.0.1:8765" grep -q '^HTTP/1.[01] 200' <<<"$answer"
    check "the page lists the demo project" grep -q 'data-project="demo"' <<<"$answer"
    check "the first request started the service" systemctl -q is-active agent-runner-web.service
    answer=$(http_get /metrics)
    check "the metrics name the demo project" grep -q '^agent_runner_round{project="demo"}' <<<"$answer"
    mkdir -p /var/lib/prometheus/node-exporter
    chown nobody: /var/lib/prometheus/node-exporter
    check "agent-runner-metrics.service writes the textfile" systemctl start agent-runner-metrics.service
    check "…readable by node-exporter" test "$(stat -c %a /var/lib/prometheus/node-exporter/agent-runner.prom)" = 644
}

section_generator() {
    step "generator mode"
    project gen 1
    printf 'schema_version = 1\n[agent\n' >/etc/agent-runner/broken.toml
    systemctl daemon-reload

    check "generator rendered gen" test -f "$gen/agent-runner@gen.service.d/50-agent-runner.conf"
    check "…with SourcePath=" grep -q '^SourcePath=/etc/agent-runner/gen.toml$' "$gen/agent-runner@gen.service.d/50-agent-runner.conf"
    check "…and the timer and path drop-ins" test -f "$gen/agent-runner@gen.timer.d/50-agent-runner.conf" -a -f "$gen/agent-runner@gen.path.d/50-agent-runner.conf"
    # peek and diagnose find generator-managed drop-ins, not only those in /etc/systemd/system.
    agent-runner peek gen --json >/tmp/peek-gen.json || true
    check "peek: the generator's drop-ins count as generated" grep -Eq '"generated": ?true' /tmp/peek-gen.json
    check "peek: …and in sync with the TOML" sh -c "! grep -Eq '\"in_sync\": ?false' /tmp/peek-gen.json"
    check "generator skipped the broken file" test ! -e "$gen/agent-runner@broken.service.d"
    journalctl -q --no-pager -b -o cat | grep 'agent-runner-generator' >/tmp/gen.txt || true
    check "systemd reported the generator's failure" grep -q 'agent-runner-generator failed with exit status 1' /tmp/gen.txt
    # No /dev/kmsg in a container: the generator's own report goes to stderr; run it as systemd does.
    rc=0
    /usr/lib/systemd/system-generators/agent-runner-generator /tmp/gen-out 2>/tmp/gen-err || rc=$?
    check "by hand: exit 1, broken.toml named" sh -c "test $rc -eq 1 && grep -q 'broken.toml' /tmp/gen-err"
    check "by hand: gen rendered too" test -f /tmp/gen-out/agent-runner@gen.service.d/50-agent-runner.conf
    check "by hand: demo skipped" test ! -e /tmp/gen-out/agent-runner@demo.service.d
    # Routine lines are logged at systemd's info level only.
    SYSTEMD_LOG_LEVEL=info /usr/lib/systemd/system-generators/agent-runner-generator /tmp/gen-out-info 2>/tmp/gen-info || true
    check "…saying, at log level info, that generate manages it" grep -q 'demo is managed by .agent-runner generate.' /tmp/gen-info
    rm /etc/agent-runner/broken.toml
    systemctl start agent-runner@gen.service
    wait_for 30 "a generated project runs a round" at_least 1 gen round_end

}

section_user_generator() {
    step "user generator"
    local uid home=/home/agent out
    uid=$(id -u agent)
    mkdir -p "$home/.config/agent-runner"
    cat >"$home/.config/agent-runner/mine.toml" <<EOF
schema_version = 1
[agent]
command = ["/srv/gen/agent.sh"]
[runtime]
work_dir = "/srv/gen"
[prompt]
files = ["prompt.md"]
EOF
    chown -R agent: "$home/.config"
    # From a unit: logind 257 refuses SetUserLinger (EUNATCH) to a caller outside the container's
    # cgroup tree, which is where this script runs (entered with nsenter).
    systemd-run --quiet --wait --pipe loginctl enable-linger agent
    wait_for 20 "the agent user's manager is up" test -S "/run/user/$uid/systemd/private"
    runuser -u agent -- env XDG_RUNTIME_DIR="/run/user/$uid" systemctl --user daemon-reload
    out=/run/user/$uid/systemd/generator/agent-runner@mine.service.d/50-agent-runner.conf
    check "user generator rendered ~/.config/agent-runner/mine.toml" test -f "$out"
    check "…for the user manager (--user)" grep -q -- 'ExecStart=/usr/bin/agent-runner-round --user --config /home/agent/.config/agent-runner/mine.toml' "$out"
    check "…loaded by the user manager" sh -c "runuser -u agent -- env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user cat agent-runner@mine.service | grep -q SourcePath="
    systemd-run --quiet --wait --pipe loginctl disable-linger agent
}

# timer_delay S: the timer's OnUnitInactiveSec= for restart_delay_s = S, as rendered: S less the
# lead the round waits out itself (0.5 s, at most half of S).
timer_delay() {
    local lead=$(($1 * 500 < 500 ? $1 * 500 : 500))
    echo "$(($1 * 1000 - lead))ms"
}

section_precedence() {
    step "generate wins over the generator"
    local delay
    delay=$(sed -n 's/^restart_delay_s = //p' /etc/agent-runner/demo.toml)
    sed -i 's/^restart_delay_s = .*/restart_delay_s = 7/' /etc/agent-runner/demo.toml
    systemctl daemon-reload
    check "generator still defers to generate" test ! -e "$gen/agent-runner@demo.service.d"
    /usr/lib/systemd/system-generators/agent-runner-generator /tmp/gen-out2 2>/tmp/gen-err || true
    check "…and says the generated units are out of date" grep -q 'demo.toml.*out of date' /tmp/gen-err
    check "the /etc drop-in is in force (${delay}s)" sh -c "systemctl cat agent-runner@demo.timer | grep -qx 'OnUnitInactiveSec=$(timer_delay "$delay")'"
    agent-runner generate >/dev/null
    check "after generate: 7s" sh -c "systemctl cat agent-runner@demo.timer | grep -qx 'OnUnitInactiveSec=$(timer_delay 7)'"
    rm -r /etc/systemd/system/agent-runner*@demo.*.d
    systemctl daemon-reload
    check "handed back: the generator renders demo" test -f "$gen/agent-runner@demo.service.d/50-agent-runner.conf"
    check "…and it is in force" sh -c "systemctl show -p DropInPaths agent-runner@demo.service | grep -q '$gen/agent-runner@demo.service.d'"
    agent-runner generate demo >/dev/null
    systemctl daemon-reload

}

section_mask() {
    step "masking the generator turns generator mode off"
    # packaging/README.md tells operators to do exactly this. (`generate` without a name, above,
    # took gen over: a new project is the generator's.)
    project masked 1
    systemctl daemon-reload
    check "before: the generator renders masked" test -f "$gen/agent-runner@masked.service.d/50-agent-runner.conf"
    mkdir -p /etc/systemd/system-generators
    ln -s /dev/null /etc/systemd/system-generators/agent-runner-generator
    systemctl daemon-reload
    check "masked: nothing of ours in $gen" sh -c "! ls -d $gen/agent-runner* 2>/dev/null | grep -q ."
    check "…and masked's drop-ins are no longer in force" sh -c "! systemctl show -p DropInPaths agent-runner@masked.service | grep -q '$gen/'"
    check "…while generate's projects keep theirs" test -f /etc/systemd/system/agent-runner@demo.service.d/50-agent-runner.conf
    rm /etc/systemd/system-generators/agent-runner-generator
    systemctl daemon-reload
    check "unmasked: the generator renders masked again" test -f "$gen/agent-runner@masked.service.d/50-agent-runner.conf"
    rm /etc/agent-runner/masked.toml
    systemctl daemon-reload
}

section_upgrade() {
    step "upgrade (reinstall) while a round runs"
    project long 100
    # The agent works until the test lets it finish (/srv/long/go), so the upgrade happens during
    # round 1 however long dpkg takes.
    printf '#!/bin/sh\necho "slow agent starts"\nwhile [ ! -e go ]; do sleep 0.2; done\necho "slow agent done"\n' >/srv/long/agent.sh
    agent-runner generate long >/dev/null
    systemctl start agent-runner@long.service
    wait_for 20 "a slow round is running" at_least 1 long agent_spawn
    local invocation
    invocation=$(systemctl show -p InvocationID --value agent-runner@long.service)
    check "round 1 has an invocation id" test -n "$invocation"
    dpkg -i "$DEB" >/dev/null
    # The same invocation of the service, still running, not a round started after it (a restart
    # would pass an is-active check and end a later round ok).
    check "the round survived the upgrade (same InvocationID)" \
        test "$(systemctl show -p InvocationID --value agent-runner@long.service)" = "$invocation"
    check "…and is still running" systemctl -q is-active agent-runner@long.service
    check "…with round 1 not ended yet" test "$(events long round_end)" -eq 0
    touch /srv/long/go
    wait_for 20 "…and round 1 ended ok, in that invocation" sh -c "journalctl -q -o cat AGENT_RUNNER_PROJECT=long AGENT_RUNNER_EVENT=round_end AGENT_RUNNER_ROUND=1 AGENT_RUNNER_OUTCOME=ok _SYSTEMD_INVOCATION_ID=$invocation | grep -q ."
    check "round 1 ended once" test "$(journalctl -q -o cat AGENT_RUNNER_PROJECT=long AGENT_RUNNER_EVENT=round_end AGENT_RUNNER_ROUND=1 | wc -l)" -eq 1
    check "the loop is still on" systemctl -q is-active agent-runner-loop@long.service
    agent-runner stop long >/dev/null 2>&1 || systemctl stop agent-runner@long.service
}

section_purge() {
    step "remove, then purge"
    systemctl start agent-runner@demo.service || true # the loop may run or fail; removal must cope
    dpkg --remove agent-runner >/dev/null
    check "remove: the loop is stopped" sh -c '! systemctl -q is-active agent-runner@demo.service agent-runner@demo.timer'
    check "remove: no generated unit left" sh -c '! ls -d /etc/systemd/system/agent-runner* /etc/systemd/system/*.wants/agent-runner* 2>/dev/null | grep -q .'
    check "remove: state and logs kept" test -d /var/lib/agent-runner/demo -a -d /var/log/agent-runner/demo
    dpkg --purge agent-runner >/dev/null
    check "no package file left" no_files /usr/bin/agent-runner /usr/bin/agent-runner-round /usr/lib/systemd/system/agent-runner@.service \
        /usr/lib/systemd/system-generators/agent-runner-generator /usr/lib/systemd/catalog/agent-runner.catalog
    shopt -s nullglob
    check "no generated unit left in /etc" no_files /etc/systemd/system/agent-runner* /etc/systemd/system/*.wants/agent-runner*
    check "no generator output left" no_files "$gen"/agent-runner*
    check "state and logs purged" no_files /var/lib/agent-runner /var/log/agent-runner /var/lib/private/agent-runner
    loaded=$(systemctl list-units --all --plain --no-legend 'agent-runner*')
    [ -z "$loaded" ] || echo "loaded: $loaded"
    check "no unit of ours loaded" test -z "$loaded"
    check "catalog entries gone" test "$(journalctl --list-catalog | grep -c 'agent-runner: ' || true)" -eq 0
    check "operators' project files kept" test -f /etc/agent-runner/demo.toml
    check "the page's user and group removed" sh -c '! getent passwd agent-runner-web && ! getent group agent-runner-web'
    check "nothing listens on 127.0.0.1:8765" sh -c '! timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/8765" 2>/dev/null'
    check "the metrics textfile removed" no_files /var/lib/prometheus/node-exporter/agent-runner.prom
}

sections=${*:-install catalog demo web generator user_generator precedence mask upgrade purge}
for s in $sections; do "section_$s"; done
printf '\npackage test: all checks passed (%s)\n' "$sections"
