# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Stop triggers through the path unit: the stop file and .agent-done, each noticed within a second
# mid-round and between rounds; the running round finishes; no further round starts; the round
# service ends inactive, not failed; deleting the stop file does not resume; `systemctl start`
# resumes and clears a stale .agent-done.
n=trig
AGENT_ENV='FAKE_SLEEP = "3"
FAKE_REASON = "finished the migration"' new_project $n \
    'stop_file = "/srv/trig.stop"' 'restart_delay_s = 3'

# loop_stopped_within FILE LIMIT_MS: the loop unit stops within LIMIT_MS of FILE's creation
# (its mtime; systemd's journal says when the unit stopped; the container shares the clock).
loop_stopped_within() {
    local file=$1 limit=$2 ms t0
    wait_for 5 "the loop of $n to stop" is_state agent-runner-loop@$n.service inactive
    t0=$(ct stat -c %.3Y "$file" | tr -d .)
    ms=$(($(now_ms) - t0))
    # systemd's own record of when the loop unit stopped (the container shares the host's clock).
    local stopped
    stopped=$(ct journalctl -o json --no-pager -u agent-runner-loop@$n.service |
        jq -r 'select(.MESSAGE | tostring | startswith("Stopped")) | .__REALTIME_TIMESTAMP' | tail -1)
    ms=$(((stopped / 1000) - t0))
    log "stop trigger → loop unit stopped: $ms ms after $file appeared (limit $limit ms)"
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
ct touch /srv/trig.stop
loop_stopped_within /srv/trig.stop 1000
assert_state agent-runner@$n.service active # the round is allowed to finish
assert_event $n stop_file_detected path=/srv/trig.stop
assert_event $n loop_halted reason=stop_file
wait_for 10 "round 1 to finish" is_state agent-runner@$n.service inactive
no_new_round_for 1 4

log "deleting the stop file does not resume"
ct rm /srv/trig.stop
no_new_round_for 1 3

log "systemctl start resumes"
ct systemctl start agent-runner@$n
wait_for 5 "round 2" rounds_at_least 2 $n
wait_for 10 "round 2 to finish" is_state agent-runner@$n.service inactive

log "stop file between rounds (restart_delay_s = 3)"
ct touch /srv/trig.stop
loop_stopped_within /srv/trig.stop 1000
assert_eq "$(journal_count $n stop_file_detected)" 2 "stop_file_detected events"
no_new_round_for 2 4

log "systemctl start while the stop file still exists: no round, halted again"
ct systemctl start agent-runner@$n
wait_for 5 "the loop to halt again" is_state agent-runner-loop@$n.service inactive
no_new_round_for 2 2
ct rm /srv/trig.stop

log ".agent-done mid-round"
agent_mode $n "done"
ct systemctl start agent-runner@$n
wait_for 5 "round 3 running" rounds_at_least 3 $n
# The agent writes .agent-done first thing, then works on for 3 s.
wait_for 10 ".agent-done" ct test -e /var/log/agent-runner/$n/.agent-done
loop_stopped_within /var/log/agent-runner/$n/.agent-done 1000
assert_state agent-runner@$n.service active # the round is allowed to finish
assert_event $n agent_self_terminated "reason=finished the migration"
assert_event $n loop_halted reason=agent_done
wait_for 10 "round 3 to finish" is_state agent-runner@$n.service inactive
no_new_round_for 3 4

log "systemctl start clears the stale .agent-done and resumes"
agent_mode $n ok
ct systemctl start agent-runner@$n
wait_for 5 "round 4" rounds_at_least 4 $n
ct test ! -e /var/log/agent-runner/$n/.agent-done || fail ".agent-done survived systemctl start"
assert_state agent-runner-loop@$n.service active

log ".agent-done between rounds"
wait_for 10 "round 4 to finish" is_state agent-runner@$n.service inactive
ctsh "echo 'written by hand' >/var/log/agent-runner/$n/.agent-done"
loop_stopped_within /var/log/agent-runner/$n/.agent-done 1000
assert_event $n agent_self_terminated "reason=written by hand"
no_new_round_for 4 4
