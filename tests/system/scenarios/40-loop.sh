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
# The timer starts the round service half a second early (systemd's setup happens inside the
# cool-down); the runner waits out the rest before its agent starts.
unit_prop agent-runner@$n.timer TimersMonotonic | grep -q 'OnUnitInactiveUSec=500ms' ||
    fail "the timer does not fire 0.5 s before restart_delay_s ends: $(unit_prop agent-runner@$n.timer TimersMonotonic)"
# No agent starts before restart_delay_s (1 s) is over: from the exit of round N's agent to the
# spawn of round N+1's, by journald's receive times (µs; 50 ms allowed for their jitter; an agent
# started at the timer would be ~0.5 s early).
exits=$(journal_events $n agent_exit | jq -r '"\(.AGENT_RUNNER_ROUND) \(.__REALTIME_TIMESTAMP)"')
spawns=$(journal_events $n agent_spawn | jq -r '"\(.AGENT_RUNNER_ROUND) \(.__REALTIME_TIMESTAMP)"')
gaps=$(awk 'NR == FNR { exited[$1] = $2; next } ($1 - 1) in exited { print $2 - exited[$1 - 1] }' \
    <(echo "$exits") <(echo "$spawns"))
[[ $(grep -c . <<<"$gaps") -ge 2 ]] || fail "fewer than two cool-downs to measure: exits $exits, spawns $spawns"
while read -r gap; do
    ((gap >= 950000)) || fail "an agent started ${gap} µs after the previous one exited, within restart_delay_s (1 s)"
done <<<"$gaps"
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
