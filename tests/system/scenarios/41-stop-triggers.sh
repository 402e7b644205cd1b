# Stop triggers through the path unit: the stop file and .agent-done, each noticed within a second
# mid-round and between rounds; the running round finishes; no further round starts; the round
# service ends inactive, not failed; deleting the stop file does not resume; `systemctl start`
# resumes and clears a stale .agent-done.
n=trig
AGENT_ENV='FAKE_SLEEP = "3"
FAKE_REASON = "finished the migration"' new_project $n \
    'stop_file = "/srv/trig.stop"' 'restart_delay_s = 4'

# halt_latency: milliseconds from $1 (epoch ms) until the loop unit has stopped.
loop_stopped_within() {
    local t0=$1 limit=$2 ms
    wait_for 5 "the loop of $n to stop" is_state agent-runner-loop@$n.service inactive
    ms=$(($(now_ms) - t0))
    log "stop trigger → loop stopped: $ms ms (limit $limit ms, polling included)"
    ((ms <= limit)) || fail "the stop trigger took $ms ms to stop the loop (limit $limit ms)"
}
no_new_round_for() {
    local before=$1 secs=$2
    sleep "$secs"
    assert_eq "$(agent_rounds $n)" "$before" "rounds after the loop halted"
    assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path"
    assert_eq "$(unit_prop agent-runner@$n.service Result)" success "round service result"
}

log "stop file mid-round"
ct systemctl start agent-runner@$n
wait_for 5 "round 1 running" rounds_at_least 1 $n
t0=$(now_ms)
ct touch /srv/trig.stop
loop_stopped_within "$t0" 1000
assert_state agent-runner@$n.service active # the round is allowed to finish
assert_event $n stop_file_detected path=/srv/trig.stop
assert_event $n loop_halted reason=stop_file
wait_for 10 "round 1 to finish" is_state agent-runner@$n.service inactive
no_new_round_for 1 5

log "deleting the stop file does not resume"
ct rm /srv/trig.stop
no_new_round_for 1 3

log "systemctl start resumes"
ct systemctl start agent-runner@$n
wait_for 5 "round 2" rounds_at_least 2 $n
wait_for 10 "round 2 to finish" is_state agent-runner@$n.service inactive

log "stop file between rounds (restart_delay_s = 4)"
t0=$(now_ms)
ct touch /srv/trig.stop
loop_stopped_within "$t0" 1000
assert_eq "$(journal_count $n stop_file_detected)" 2 "stop_file_detected events"
no_new_round_for 2 5

log "systemctl start while the stop file still exists: no round, halted again"
ct systemctl start agent-runner@$n
wait_for 5 "the loop to halt again" is_state agent-runner-loop@$n.service inactive
no_new_round_for 2 2
ct rm /srv/trig.stop

log ".agent-done mid-round"
agent_mode $n done
ct systemctl start agent-runner@$n
wait_for 5 "round 3 running" rounds_at_least 3 $n
# The agent writes .agent-done first thing, then works on for 3 s.
wait_for 10 ".agent-done" ct test -e /var/log/agent-runner/$n/.agent-done
t0=$(now_ms)
loop_stopped_within "$t0" 1000
assert_state agent-runner@$n.service active # the round is allowed to finish
assert_event $n agent_self_terminated "reason=finished the migration"
assert_event $n loop_halted reason=agent_done
wait_for 10 "round 3 to finish" is_state agent-runner@$n.service inactive
no_new_round_for 3 5

log "systemctl start clears the stale .agent-done and resumes"
agent_mode $n ok
ct systemctl start agent-runner@$n
wait_for 5 "round 4" rounds_at_least 4 $n
ct test ! -e /var/log/agent-runner/$n/.agent-done || fail ".agent-done survived systemctl start"
assert_state agent-runner-loop@$n.service active

log ".agent-done between rounds"
wait_for 10 "round 4 to finish" is_state agent-runner@$n.service inactive
t0=$(now_ms)
ctsh "echo 'written by hand' >/var/log/agent-runner/$n/.agent-done"
loop_stopped_within "$t0" 1000
assert_event $n agent_self_terminated "reason=written by hand"
no_new_round_for 4 5
