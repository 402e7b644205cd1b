# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Lifecycle commands over D-Bus against the real systemd: start from stopped, failed (exit 78)
# and start-limit-hit; graceful `stop` returns once the running round has ended (the agent is never
# signalled); `stop --now` terminates the round (the agent gets SIGTERM and does not finish); both record
# loop_stopped, a stop of a loop already down records nothing;
# restart; kill; enable/disable write and remove the boot symlink.

running() { [[ $(unit_prop "agent-runner@$1.service" ActiveState) == active ]]; }
down() { [[ $(unit_prop "agent-runner@$1.service" ActiveState) =~ ^(inactive|failed)$ && $(unit_prop "agent-runner@$1.timer" ActiveState) == inactive ]]; }

log "start: round 1 now, loop units up"
n=ctl
AGENT_ENV='FAKE_SLEEP = "4"' new_project $n 'restart_delay_s = 1'
out=$(ct agent-runner start $n) || fail "start failed: $out"
[[ $out == "started $n"* ]] || fail "start said: $out"
wait_for 5 "round 1 running" running $n
assert_eq "$(unit_prop agent-runner@$n.timer ActiveState)" active "timer after start"
assert_eq "$(unit_prop agent-runner@$n.path ActiveState)" active "path after start"
out=$(ct agent-runner start $n)
[[ $out == *"already running"* ]] || fail "a second start said: $out"

log "stop (graceful) mid-round: waits for the round and the step after it, no signal to the agent"
# The step after the round may park the loop on a back-off timer: stop returns only once it is done.
# Slowed here so that a stop that did not wait for it would return while it still runs.
ctsh "mkdir -p /etc/systemd/system/agent-runner-after@$n.service.d && printf '[Service]\nExecStartPre=/bin/sleep 2\n' >/etc/systemd/system/agent-runner-after@$n.service.d/90-test-slow.conf && systemctl daemon-reload"
out=$(ct agent-runner stop $n 2>&1) || fail "stop failed: $out"
log "stop said: $out"
[[ $out == *"stopped $n in "*"after the running round finished"* ]] || fail "stop said: $out"
# Checked the moment stop returns: the agent had finished its 4 s of work and the round had ended.
ct grep -q 'fake agent: round 1 done' /var/log/agent-runner/$n/rounds/round-1.log ||
    fail "stop returned before the agent finished: $(ct tail -2 /var/log/agent-runner/$n/rounds/round-1.log)"
assert_eq "$(journal_count $n round_end)" 1 "round_end events when stop returned"
down $n || fail "the loop is not down after stop: $(loop_states $n)"
assert_eq "$(active_state agent-runner-after@$n.service)" inactive "the after-round step when stop returned"
assert_eq "$(unit_prop agent-runner-after@$n.service Result)" success "the after-round step's result"
ctsh "rm -r /etc/systemd/system/agent-runner-after@$n.service.d && systemctl daemon-reload"
ct test ! -e /srv/$n/term.log || fail "graceful stop signalled the agent: $(ct cat /srv/$n/term.log)"
assert_event $n round_end round=1 outcome=ok
sleep 2
assert_eq "$(agent_rounds $n)" 1 "rounds after a graceful stop"

assert_event $n loop_stopped
assert_eq "$(journal_count $n loop_stopped)" 1 "loop_stopped events after a graceful stop"

log "stop when already stopped: quick, exit 0, no second loop_stopped"
out=$(ct agent-runner stop $n) || fail "stop of a stopped loop failed: $out"
assert_eq "$(journal_count $n loop_stopped)" 1 "loop_stopped events after stopping a stopped loop"

log "stop --now: the round is terminated"
l=long
AGENT_ENV='FAKE_SLEEP = "60"' new_project $l
ct agent-runner start $l >/dev/null || fail "start of $l failed"
wait_for 5 "round 1 of $l running" running $l
sleep 1
out=$(ct agent-runner stop --now $l) || fail "stop --now failed: $out"
log "stop --now said: $out"
[[ $out == *"the running round was terminated"* ]] || fail "stop --now said: $out"
# The round was ended, not waited for: the agent got its SIGTERM before its 60 s of work were done.
ct grep -q 'round 1 got SIGTERM' /srv/$l/term.log || fail "stop --now did not signal the agent"
ct grep -q 'fake agent: round 1 done' /var/log/agent-runner/$l/rounds/round-1.log &&
    fail "stop --now let the 60 s round finish"
assert_event $l round_end round=1 outcome=stopped
assert_event $l loop_stopped
down $l || fail "the loop is not down after stop --now: $(loop_states $l)"
ctsh "! pgrep -u $TEST_USER -f fake-agent" || fail "an agent survived stop --now"

log "restart from stopped, then kill"
out=$(ct agent-runner restart $n) || fail "restart failed: $out"
wait_for 5 "a round after restart" running $n
assert_eq "$(unit_prop agent-runner@$n.timer ActiveState)" active "timer after restart"
out=$(ct agent-runner kill $n) || fail "kill failed: $out"
[[ $out == "killed $n in "* ]] || fail "kill said: $out"
down $n || fail "the loop is not down after kill: $(loop_states $n)"
ctsh "! pgrep -u $TEST_USER -f fake-agent" || fail "an agent survived kill"

log "enable / disable: the boot symlink"
ct agent-runner enable $n >/dev/null || fail "enable failed"
ct test -L /etc/systemd/system/multi-user.target.wants/agent-runner@$n.service ||
    fail "enable wrote no multi-user.target.wants symlink"
assert_eq "$(unit_prop agent-runner@$n.service UnitFileState)" enabled "UnitFileState after enable"
ct agent-runner disable $n >/dev/null || fail "disable failed"
ct test ! -e /etc/systemd/system/multi-user.target.wants/agent-runner@$n.service ||
    fail "disable left the symlink"

log "start from failed (config_broken, exit 78): after the fix, start works"
b=fixme
AGENT_ENV='FAKE_SLEEP = "30"' new_project $b
# The step after the failed round, slowed: a start that did not wait for it would begin the new
# loop beside it, and the step, judging the old round's exit 78, would halt the new loop.
ctsh "mkdir -p /etc/systemd/system/agent-runner-after-failure@$b.service.d && printf '[Service]\nExecStartPre=/bin/sleep 2\n' >/etc/systemd/system/agent-runner-after-failure@$b.service.d/90-test-slow.conf && systemctl daemon-reload"
ct mv /srv/prompts/$b.md /srv/prompts/$b.md.away
ct agent-runner start $b >/dev/null 2>&1 && fail "start with a broken config succeeded"
wait_for 10 "the round service to fail" is_state agent-runner@$b.service failed
ct mv /srv/prompts/$b.md.away /srv/prompts/$b.md
out=$(ct agent-runner start $b) || fail "start after the fix failed: $out"
wait_for 5 "a round after the fix" running $b
after_round_done $b || fail "start returned before the step after the failed round was done"
assert_eq "$(active_state agent-runner-loop@$b.service)" active "the new loop after the old round's step"
ctsh "rm -r /etc/systemd/system/agent-runner-after-failure@$b.service.d && systemctl daemon-reload"
ct agent-runner stop --now $b >/dev/null

log "start from start-limit-hit: reset-failed first"
s=limited
new_project $s
ctsh "mkdir -p /etc/systemd/system/agent-runner@$s.service.d && printf '[Unit]\nStartLimitIntervalSec=60\nStartLimitBurst=1\n' >/etc/systemd/system/agent-runner@$s.service.d/90-test-limit.conf && systemctl daemon-reload"
ct systemctl start agent-runner@$s >/dev/null 2>&1 || true
wait_for 10 "the first round to end" bash -c "[[ \$($SANDBOX exec systemctl show -p ActiveState --value agent-runner@$s.service) != active* ]]"
ct systemctl start agent-runner@$s >/dev/null 2>&1 || true
wait_for 10 "start-limit-hit" bash -c "[[ \$($SANDBOX exec systemctl show -p Result --value agent-runner@$s.service) == start-limit-hit ]]"
out=$(ct agent-runner status $s --json)
assert_eq "$(jq -r .state <<<"$out")" start-limit-hit "status of a unit over its start limit"
before=$(agent_rounds $s)
out=$(ct agent-runner start $s) || fail "start after start-limit-hit failed: $out"
# A round really ran; its Result is no proof, since the next round (one second later, under a
# limit of one start a minute) hits the limit again and may do so before we look.
wait_for 10 "a round after start" rounds_at_least $((before + 1)) $s
ct agent-runner stop --now $s >/dev/null

log "unknown project: the known ones are listed (exit 78)"
rc=0
out=$(ct agent-runner start nosuch 2>&1) || rc=$?
assert_eq "$rc" 78 "exit status for an unknown project"
[[ $out == *"known projects:"*"$n"* ]] || fail "no list of known projects: $out"

log "not root: permission denied says sudo or --user (exit 1)"
rc=0
out=$(ct runuser -u "$TEST_USER" -- agent-runner start $n 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status without privileges"
[[ $out == *"permission denied"*"sudo"*"--user"* ]] || fail "permission error said: $out"

log "systemd unreachable: exit 69 and one clear line"
rc=0
out=$(ct env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent agent-runner start $n 2>&1) || rc=$?
assert_eq "$rc" 69 "exit status when systemd is unreachable"
[[ $out == "agent-runner: cannot reach the system manager"* ]] || fail "unreachable said: $out"
