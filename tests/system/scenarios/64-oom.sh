# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# A round systemd ended with the result oom-kill: the step after the round records `round_oom`
# in the project's state (its last outcome becomes oom, read by `status`) and halts the loop with
# mem_loop at `[limits] oom_rounds` such rounds in a row. The sandbox cannot make the kernel's OOM
# killer end a round: on this hybrid host the memory controller is bound to cgroup v1, so the
# container's cgroup2 has none, and systemd learns of an OOM kill only from cgroup2's
# memory.events. So the result is handed to the real after unit in the variables systemd sets,
# $MONITOR_SERVICE_RESULT and the exit code and status, from a drop-in, and the unit runs with
# its real sandbox and privileges: what this checks is that the step can read and write what it
# must.

# after_oom NAME: runs NAME's after-failure unit as if systemd had just killed its round for memory.
after_oom() {
    local d=/etc/systemd/system/agent-runner-after-failure@$1.service.d
    ctsh "mkdir -p $d && printf '[Service]\nEnvironment=MONITOR_SERVICE_RESULT=oom-kill MONITOR_EXIT_CODE=killed MONITOR_EXIT_STATUS=KILL\n' >$d/90-test-oom.conf && systemctl daemon-reload"
    ct systemctl start "agent-runner-after-failure@$1.service" || fail "the after-failure unit of $1 failed"
    ctsh "rm -r $d && systemctl daemon-reload"
}

log "a round killed for memory: round_oom, the state says oom"
n=hungry
AGENT_ENV='FAKE_SLEEP = "0"' new_project $n 'restart_delay_s = 30' '' '[limits]' 'memory_max = "64M"' 'oom_rounds = 2'
assert_eq "$(unit_prop agent-runner@$n.service MemoryMax)" $((64 * 1024 * 1024)) "MemoryMax of the round service"
ct agent-runner start $n >/dev/null || fail "start of $n failed"
wait_event $n round_end 20
wait_for 10 "the step after round 1" after_round_done $n
after_oom $n
assert_event $n round_oom round=1 consecutive=1 limit=2
out=$(ct agent-runner status $n --json)
assert_eq "$(jq -r .last_outcome.outcome <<<"$out")" oom "last outcome after round_oom"
# Written by root, but left the user's as its rounds leave it (0640): the next round reads it.
assert_eq "$(ct stat -c '%U %a' /var/lib/agent-runner/$n/state.json)" "$TEST_USER 640" "owner and mode of the state"
ct journalctl -q --no-pager -o cat -u "agent-runner-after-failure@$n.service" | grep -q 'cannot record' &&
    fail "the step could not record the round: $(ct journalctl -q --no-pager -o cat -u "agent-runner-after-failure@$n.service" | tail -3)"

log "the second in a row: mem_loop halts the loop"
ct systemctl start agent-runner@$n.service
wait_event $n round_end 20 2
wait_for 10 "the step after round 2" after_round_done $n
after_oom $n
wait_event $n mem_loop 10
assert_event $n round_oom round=2 consecutive=2
assert_event $n loop_halted reason=mem_loop
wait_for 20 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
assert_eq "$(ct agent-runner status $n --json | jq -r .state)" halted "state after mem_loop"
