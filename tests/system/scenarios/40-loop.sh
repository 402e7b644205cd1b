# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The loop: `systemctl start` runs round 1 now and the next ones restart_delay_s after each ends;
# timer-triggered rounds do not start a new loop; `systemctl stop` ends the loop whether it is
# between rounds or mid-round (the agent gets its cooperative SIGTERM, nothing survives), and
# takes the timer and path unit down with it.
AGENT_ENV='FAKE_SLEEP = "1"' new_project loop1
n=loop1

log "start: round 1 runs now"
ct systemctl start agent-runner@$n
wait_for 5 "round 1 of $n" rounds_at_least 1 $n
assert_eq "$(active_state agent-runner-loop@$n.service)" active "loop unit"
assert_eq "$(active_state agent-runner@$n.timer)" active "timer"
assert_eq "$(active_state agent-runner@$n.path)" active "path unit"

log "the timer runs the next rounds, restart_delay_s (1 s) after each round ends"
wait_for 15 "3 rounds of $n" rounds_at_least 3 $n
unit_prop agent-runner@$n.timer TimersMonotonic | grep -q 'OnUnitInactiveUSec=1s' ||
    fail "the timer does not fire restart_delay_s after a round: $(unit_prop agent-runner@$n.timer TimersMonotonic)"
assert_eq "$(journal_count $n loop_started)" 1 "loop_started events after 3 rounds (timer rounds are no new loop)"
# Rounds never overlap: each agent ended before the next one started (the fake agent appends
# "start N" and "end N" to timeline.log), so the timeline reads start 1, end 1, start 2, end 2, …
wait_for 10 "round 3 of $n to end" ct grep -qx "end 3" /srv/$n/timeline.log
timeline=$(ct cat /srv/$n/timeline.log) || fail "no timeline.log"
expected=$(for r in $(seq "$(grep -c '^start ' <<<"$timeline")"); do printf 'start %s\nend %s\n' "$r" "$r"; done)
# The newest round may still be running: compare up to the last line written.
[[ $expected == "$timeline"* ]] || fail "rounds overlapped or an agent never ended: $(paste -sd' ' <<<"$timeline")"
ct journalctl -o cat -u "agent-runner@$n.service" | grep -q "Failed\|start-limit" &&
    fail "the round service failed: $(ct journalctl -o cat -u agent-runner@$n.service | tail -5)"

log "stop while the loop waits between rounds"
wait_for 10 "$n between rounds" is_state agent-runner@$n.service inactive
ct systemctl stop agent-runner@$n
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path after stop"
rounds=$(agent_rounds $n)
sleep 3
assert_eq "$(agent_rounds $n)" "$rounds" "rounds after stopping between rounds"

log "start again: a new loop"
ct systemctl start agent-runner@$n
assert_eq "$(journal_count $n loop_started)" 2 "loop_started events after the second start"

log "stop mid-round: the round is terminated cooperatively, the loop ends"
# A long round: the agent sleeps 60 s unless stopped. (The loop is stopped for the change: its
# rounds of 1 s, 1 s apart, leave a window between rounds too short to be sure to see.)
ct systemctl stop agent-runner@$n
ctsh "sed -i 's/^FAKE_SLEEP = .*/FAKE_SLEEP = \"60\"/' /etc/agent-runner/$n.toml"
ct agent-runner generate $n >/dev/null
ct systemctl start agent-runner@$n
wait_for 10 "a long round of $n running" ctsh "pgrep -u $TEST_USER -f 'sleep 60'"
ct systemctl stop agent-runner@$n
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path after stop"
ctsh "grep -q 'got SIGTERM' /srv/$n/term.log" || fail "the agent never got its cooperative SIGTERM"
ctsh "! pgrep -u $TEST_USER" || fail "processes of the agent survived the stop: $(ctsh "ps -u $TEST_USER -o pid,cmd")"
