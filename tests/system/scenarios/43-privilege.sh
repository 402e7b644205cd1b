# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Privilege split: the round and its agent run as the unprivileged user of the config and cannot
# write outside the work dir, the state and the logs — not even into directories that user owns
# (the sandbox, ProtectSystem=strict with ReadWritePaths=, stops it, not file permissions); the
# halt helpers run unprivileged too, and halting still works. The rendered units pass
# `systemd-analyze verify` and keep a real hardening score.
n=priv
AGENT_ENV='FAKE_MODE = "escape"' new_project $n 'stop_file = "/srv/priv.stop"' 'restart_delay_s = 30'
owned="/srv/agent-owned /opt/agent-owned /var/lib/agent-owned"
ctsh "mkdir -p $owned && chown $TEST_USER: $owned"
# Outside the unit, plain permissions let the user write there.
for dir in $owned; do
    ct runuser -u "$TEST_USER" -- sh -c "echo x >$dir/probe" || fail "$TEST_USER cannot write $dir outside the unit"
done

ct systemctl start agent-runner@$n
wait_for 10 "the escape attempts" ct test -s /srv/$n/escape.log
wait_for 10 "round 1 to finish" is_state agent-runner@$n.service inactive
ct cat /srv/$n/escape.log | sed 's/^/    /'
ct grep -qx "as $TEST_USER" /srv/$n/escape.log || fail "the agent did not run as $TEST_USER"
ct grep -qx "WROTE /srv/$n/inside" /srv/$n/escape.log || fail "the agent could not write its work dir"
for dir in $owned; do
    ct grep -qx "DENIED $dir/escape" /srv/$n/escape.log || fail "the agent was not denied $dir, which its user owns"
done
# /tmp is the round's own (PrivateTmp=): writable, but nobody else's /tmp.
if ct grep '^WROTE' /srv/$n/escape.log | grep -v "/srv/$n/inside\|/tmp/escape"; then
    fail "the agent wrote outside its work dir"
fi
ct test ! -e /tmp/escape || fail "the agent wrote the system's /tmp"
for unit in agent-runner@$n.service agent-runner-loop@$n.service agent-runner-halt@$n.service; do
    assert_eq "$(unit_prop "$unit" User)" "$TEST_USER" "User= of $unit"
done
assert_eq "$(ct stat -c %U /var/lib/agent-runner/$n/state.json)" "$TEST_USER" "owner of state.json"

log "halting still works without privileges"
ct touch /srv/priv.stop
wait_for 5 "the loop to halt" is_state agent-runner-loop@$n.service inactive
assert_event $n stop_file_detected
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path"
assert_eq "$(unit_prop agent-runner-halt@$n.service Result)" success "halt helper result"

log "systemd-analyze verify and security on the rendered units"
verify=$(ct systemd-analyze verify --recursive-errors=yes --man=no agent-runner@$n.service \
    agent-runner@$n.timer agent-runner@$n.path agent-runner-loop@$n.service \
    agent-runner-halt@$n.service 2>&1) || fail "systemd-analyze verify found problems: $verify"
# verify reports ordering cycles without failing.
[[ -z $verify ]] || fail "systemd-analyze verify: $verify"
for unit in agent-runner@$n.service agent-runner-loop@$n.service agent-runner-halt@$n.service; do
    score=$(ct systemd-analyze security --no-pager "$unit" | sed -nE 's/.*Overall exposure level for .*: ([0-9.]+).*/\1/p')
    log "$unit exposure: $score"
    [[ -n $score ]] || fail "no security score for $unit"
    awk -v s="$score" 'BEGIN { exit !(s <= 3.5) }' || fail "$unit exposure $score is above 3.5"
done
