# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Stop triggers through the path unit: the stop file and .agent-done, each stopping the loop unit
# after it appears, mid-round and between rounds; the running round finishes; no further round
# starts; the round service ends inactive, not failed; deleting the stop file does not resume;
# `systemctl start` resumes and clears a stale .agent-done. (How fast a trigger stops the loop is
# measured by bench/stop-trigger.sh, not asserted here.)
n=trig
AGENT_ENV='FAKE_SLEEP = "3"
FAKE_REASON = "finished the migration"' new_project $n \
    'stop_file = "/srv/trig.stop"' 'restart_delay_s = 3'

# loop_stopped_after FILE: the loop unit stops, and systemd's journal records that stop after FILE
# appeared (its mtime; the container shares the host's clock): the trigger stopped it, not
# something before it. Sets loop_stopped_us, the time of that stop.
loop_stopped_after() {
    local file=$1 created stopped
    wait_for 5 "the loop of $n to stop" is_state agent-runner-loop@$n.service inactive
    created=$(ct stat -c %.6Y "$file" | tr -d .) || fail "cannot stat $file"
    stopped=$(ct journalctl -o json --no-pager -u agent-runner-loop@$n.service |
        jq -r 'select(.MESSAGE | tostring | startswith("Stopped")) | .__REALTIME_TIMESTAMP' | tail -1)
    [[ $created =~ ^[0-9]+$ && $stopped =~ ^[0-9]+$ ]] ||
        fail "no time for $file ('$created') or for the loop unit's stop ('$stopped') in the journal"
    ((stopped >= created)) || fail "the loop unit's last stop ($stopped) precedes $file ($created)"
    loop_stopped_us=$stopped
}
# finished_after_loop_stop ROUND: round ROUND ended ok, its agent done, after the loop unit had
# stopped: the trigger came mid-round and let the round finish (the order, whatever the machine's
# speed, where a look at the unit's state races the round's end).
finished_after_loop_stop() {
    local round=$1 ended
    wait_for 15 "round $round to finish" is_state agent-runner@$n.service inactive
    assert_event $n round_end round="$round" outcome=ok
    ended=$(journal_events $n round_end | jq -r "select(.AGENT_RUNNER_ROUND == \"$round\") | .__REALTIME_TIMESTAMP") ||
        fail "cannot read round_end of round $round"
    [[ $ended =~ ^[0-9]+$ ]] || fail "no single round_end of round $round: '$ended'"
    ((ended > loop_stopped_us)) ||
        fail "round $round ended ($ended) before the loop stopped ($loop_stopped_us): the trigger did not come mid-round"
    ct grep -q "fake agent: round $round done" "/var/log/agent-runner/$n/rounds/round-$round.log" ||
        fail "the agent of round $round did not finish its work"
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
loop_stopped_after /srv/trig.stop
assert_event $n stop_file_detected path=/srv/trig.stop
assert_event $n loop_halted reason=stop_file
finished_after_loop_stop 1
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
loop_stopped_after /srv/trig.stop
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
loop_stopped_after /var/log/agent-runner/$n/.agent-done
assert_event $n agent_self_terminated "reason=finished the migration"
assert_event $n loop_halted reason=agent_done
finished_after_loop_stop 3
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
loop_stopped_after /var/log/agent-runner/$n/.agent-done
assert_event $n agent_self_terminated "reason=written by hand"
no_new_round_for 4 4
