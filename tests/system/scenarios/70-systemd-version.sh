# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# What the running systemd's version changes in the units, seen from inside a round: on 257 the
# round has a cgroup namespace of its own (ProtectControlGroups=strict), on 252 it sees its place
# in the host's tree; from 254 on the user units declare StateDirectory=, so systemd creates the
# state directory and `systemctl --user clean` empties it. `check` and `diagnose` say which
# version the units are rendered for. Runs on every suite run.sh is given (bookworm, trixie).
version=$(ct systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
[[ $version =~ ^[0-9]+$ ]] || fail "no systemd version in: $(ct systemctl --version | head -1)"
log "systemd $version"

# A one-round agent that records what the round sees of cgroups.
agent_script() { # DIR: writes DIR/agent.sh
    ctsh "set -e; mkdir -p $1; cd $1; [ -d .git ] || { git init -q; git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init; }
        printf '%s\n' '#!/bin/sh' 'cat /proc/self/cgroup >\"\$PWD/cgroup.txt\"' 'cat >/dev/null' 'echo done' >agent.sh
        chmod +x agent.sh; echo 'Work on the next task in the backlog, then commit what you changed.' >prompt.md; chown -R $TEST_USER: $1"
}
agent_script /srv/cg
printf '%s\n' 'schema_version = 1' '[agent]' 'command = ["/srv/cg/agent.sh"]' 'prompt_delivery = "stdin"' \
    '[runtime]' 'work_dir = "/srv/cg"' "user = \"$TEST_USER\"" 'max_rounds = 1' \
    '[prompt]' 'files = ["/srv/cg/prompt.md"]' >"$WORK/etc-agent-runner/cg.toml"
ct agent-runner generate cg >/dev/null || fail "generate cg failed"

log "check and diagnose name the version the units are rendered for"
out=$(ct agent-runner check cg) || fail "check cg failed: $out"
[[ $out == *"note: systemd $version: "* ]] || fail "check does not name systemd $version: $out"

log "the round's view of cgroups"
ct systemctl start --no-block agent-runner@cg.service
wait_event cg max_rounds_reached 30
# The unified hierarchy's line (this kernel may list v1 hierarchies above it).
cgroup=$(ct sed -n 's/^0:://p' /srv/cg/cgroup.txt) || fail "the agent wrote no cgroup.txt"
if ((version >= 257)); then
    # 257 says strict only in the new string property; the old one is a boolean.
    protect=$(unit_prop agent-runner@cg.service ProtectControlGroupsEx)
    # 257: a cgroup namespace of the round's own, so the agent's cgroup is its root.
    assert_eq "$protect" strict "ProtectControlGroups= on $version"
    assert_eq "$cgroup" "/" "the agent's cgroup on $version"
else
    protect=$(unit_prop agent-runner@cg.service ProtectControlGroups)
    # 252 has no cgroup namespace option: the tree is read-only but the agent sees its place.
    assert_eq "$protect" yes "ProtectControlGroups= on $version"
    assert_eq "$cgroup" "/system.slice/system-agent\\x2drunner.slice/agent-runner@cg.service" "the agent's cgroup on $version"
fi
out=$(ct agent-runner diagnose cg 2>&1) || true
[[ $out == *"systemd $version"*"answers on the bus; systemd $version: "* ]] ||
    fail "diagnose does not say what systemd $version changes: $out"

log "the user manager's StateDirectory="
user_manager_up
agent_script /srv/ucg
ctsh "set -e; mkdir -p /home/$TEST_USER/.config/agent-runner
    printf '%s\n' 'schema_version = 1' '[agent]' 'command = [\"/srv/ucg/agent.sh\"]' 'prompt_delivery = \"stdin\"' \
        '[runtime]' 'work_dir = \"/srv/ucg\"' 'max_rounds = 1' '[prompt]' 'files = [\"/srv/ucg/prompt.md\"]' \
        >/home/$TEST_USER/.config/agent-runner/ucg.toml
    chown -R $TEST_USER: /home/$TEST_USER/.config"
as_user agent-runner --user generate ucg >/dev/null || fail "--user generate ucg failed"
state=/home/$TEST_USER/.local/state/agent-runner/ucg
declared=$(as_user systemctl --user show -p StateDirectory --value agent-runner@ucg.service)
as_user agent-runner --user start ucg >/dev/null || fail "--user start ucg failed"
wait_for 30 "the user round of ucg ends at max_rounds" ct test -f "$state/state.json"
wait_for 30 "the user loop of ucg stops" bash -c \
    "[[ \$(\"\$0\" exec runuser -u $TEST_USER -- env XDG_RUNTIME_DIR=/run/user/1500 systemctl --user is-active agent-runner@ucg.service) != active* ]]" "$SANDBOX"
if ((version >= 254)); then
    # 254: StateDirectory= of a user unit is below $XDG_STATE_HOME, the project's state directory.
    assert_eq "$declared" "agent-runner/ucg" "the user round's StateDirectory= on $version"
    as_user systemctl --user clean --what=state agent-runner@ucg.service agent-runner-loop@ucg.service \
        agent-runner-halt@ucg.service || fail "systemctl --user clean --what=state failed"
    ct test ! -e "$state" || fail "systemctl --user clean left $state"
else
    # 252 would put it below $XDG_CONFIG_HOME, away from the project's state: not declared.
    assert_eq "$declared" "" "the user round's StateDirectory= on $version"
fi
