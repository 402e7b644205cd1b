# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# --host [USER@]HOST: the lifecycle commands speak D-Bus through `ssh HOST systemd-stdio-bridge`
# (systemctl -H's transport); the read commands run agent-runner on the host. The container has no
# sshd, so $AGENT_RUNNER_SSH points at a stand-in that drops ssh's options and the host and runs
# the remote command locally — the bridge, the D-Bus handshake and the calls are all real.

# shellcheck disable=SC2016 # the script is written verbatim; $# and $* belong to fake-ssh
ctsh 'cat >/usr/local/bin/fake-ssh <<"EOS"
#!/bin/sh
# ssh stand-in: skip options up to the host, then run the remote command here.
while [ $# -gt 0 ]; do
    case $1 in --) shift; shift; break ;; -*) shift ;; *) shift; break ;; esac
done
exec sh -c "$*"
EOS
chmod +x /usr/local/bin/fake-ssh'
remote() { ct env AGENT_RUNNER_SSH=fake-ssh agent-runner --host "$@"; }

n=far
AGENT_ENV='FAKE_SLEEP = "2"' new_project $n

log "start / status / stop over the stdio bridge"
out=$(remote admin@buildhost start $n) || fail "remote start failed: $out"
[[ $out == "started $n"* ]] || fail "remote start said: $out"
assert_eq "$(unit_prop agent-runner@$n.service ActiveState)" active "service after remote start"
state=$(remote buildhost status $n --json | jq -r .state)
assert_eq "$state" running "remote status"
out=$(remote buildhost stop $n 2>&1) || fail "remote stop failed: $out"
[[ $out == *"stopped $n in"* ]] || fail "remote stop said: $out"
assert_eq "$(unit_prop agent-runner@$n.timer ActiveState)" inactive "timer after remote stop"
remote buildhost events $n --kind round_end --json | jq -e -s 'length >= 1' >/dev/null ||
    fail "remote events returned no round_end"

log "an unreachable host: exit 69"
rc=0
out=$(ct env AGENT_RUNNER_SSH=false agent-runner --host nowhere start $n 2>&1) || rc=$?
assert_eq "$rc" 69 "exit status for an unreachable host"
[[ $out == *"cannot reach"*"nowhere"* ]] || fail "unreachable host said: $out"

log "a host that looks like an ssh option is refused (exit 2)"
rc=0
ct agent-runner --host=-oProxyCommand=x status >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status for an option-like host"
