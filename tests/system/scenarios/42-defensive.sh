# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Defensive stops: config_broken (exit 78) is never retried; crash_loop halts after
# crash_loop_threshold short crashes with escalating delays (parked on a transient timer when the
# delay is longer than the timer's) and carries a redacted log tail; an agent that never checks in
# fails its round and is woken again up to checkin_attempts, then the project is offline; a
# transient error backs off until the reset time without spinning the timer, counts as no crash,
# and the loop resumes by itself.

log "config_broken: never retried"
n=broken
new_project $n
ct rm /srv/prompts/$n.md
ct systemctl start agent-runner@$n 2>/dev/null && fail "starting a loop with a broken config succeeded"
wait_for 5 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
assert_event $n config_broken
assert_event $n loop_halted reason=config_broken
assert_eq "$(unit_prop agent-runner@$n.service ExecMainStatus)" 78 "exit status"
sleep 4 # four restart delays
assert_eq "$(journal_count $n config_broken)" 1 "config_broken events (no retry)"
assert_eq "$(journal_count $n loop_halted)" 1 "loop_halted events"
assert_eq "$(loop_states $n)" "failed inactive inactive inactive" "service loop timer path"

log "exit 78 without a halt request (a round that could not say why) is not retried either"
n=mute
new_project $n
ctsh "mkdir -p /etc/systemd/system/agent-runner@$n.service.d && printf '[Service]\nExecStart=\nExecStart=/bin/sh -c \"exit 78\"\n' >/etc/systemd/system/agent-runner@$n.service.d/99-test.conf && systemctl daemon-reload"
ct systemctl start agent-runner@$n 2>/dev/null && fail "a round exiting 78 started fine"
wait_for 5 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
assert_event $n loop_halted reason=requested
sleep 3
assert_eq "$(ct journalctl -o cat -u agent-runner@$n.service | grep -c "Starting agent-runner@$n" || true)" 1 \
    "round service starts after exit 78"
ct rm -r /etc/systemd/system/agent-runner@$n.service.d/99-test.conf

log "crash_loop: 3 short crashes, escalating delays, then halted"
n=crashy
AGENT_ENV='FAKE_MODE = "crash"' new_project $n 'crash_loop_threshold = 3'
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_event $n crash_loop 30
wait_for 5 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
assert_eq "$(agent_rounds $n)" 3 "agent runs before the crash-loop halt"
assert_event $n loop_halted reason=crash_loop
crash=$(journal_events $n crash_loop)
grep -q 'about to fail' <<<"$crash" || fail "crash_loop carries no log tail: $crash"
grep -q 'SECRETSECRET' <<<"$crash" && fail "crash_loop leaks the secret: $crash"
# Each crash's verdict escalates the back-off (restart_delay_s 1 → 2 s, then 4 s, counted from
# the next whole second: its not-before time minus the second the round ended), then halts; no
# agent starts before the back-off of the round before it has passed.
ends=$(journal_events $n round_end) || fail "journalctl failed reading round_end of $n"
spawns=$(journal_events $n agent_spawn) || fail "journalctl failed reading agent_spawn of $n"
assert_eq "$(jq -r .AGENT_RUNNER_VERDICT <<<"$ends" | paste -sd' ')" "back_off back_off halt" "verdicts of the crashes"
mapfile -t until < <(jq -r '.AGENT_RUNNER_UNTIL // "" | select(. != "")' <<<"$ends")
mapfile -t ended < <(jq -r '.__REALTIME_TIMESTAMP | tonumber / 1000000 | floor' <<<"$ends")
mapfile -t spawned < <(jq -r .__REALTIME_TIMESTAMP <<<"$spawns")
((${#until[@]} == 2 && ${#spawned[@]} == 3)) || fail "expected 2 back-offs and 3 agent_spawn events: ${until[*]} / ${spawned[*]}"
delay1=$((until[0] - ended[0])) delay2=$((until[1] - ended[1]))
log "crash delays: ${delay1} s, ${delay2} s"
((delay1 >= 2 && delay2 > delay1)) || fail "crash delays do not escalate: ${delay1} s, then ${delay2} s"
for k in 0 1; do
    ((spawned[k + 1] >= until[k] * 1000000)) ||
        fail "the agent of crash $((k + 2)) started at ${spawned[k + 1]} us, before the back-off until ${until[k]} s"
done
ct journalctl -o cat -u agent-runner-after@$n.service -u agent-runner-after-failure@$n.service | grep -q "backing off: the next round of $n runs in" ||
    fail "the 4 s crash delay was not parked on a transient timer"
sleep 3
assert_eq "$(agent_rounds $n)" 3 "agent runs after the halt"

log "check-in: silent agent woken up to checkin_attempts, then offline"
n=silent
AGENT_ENV='FAKE_MODE = "silent"' new_project $n 'checkin_timeout_s = 2' 'checkin_attempts = 2' 'round_timeout_s = 60'
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_event $n project_offline 30
wait_for 5 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
assert_eq "$(journal_count $n checkin_failed)" 2 "checkin_failed events"
assert_eq "$(agent_rounds $n)" 2 "agent runs (woken again once)"
assert_event $n loop_halted reason=offline
last_error=$(state_field $n last_error)
[[ $last_error == *check* ]] || fail "last_error does not say why the project is offline: $last_error"
ctsh "! pgrep -u $TEST_USER" || fail "a silent agent survived: $(ctsh "ps -u $TEST_USER -o pid,cmd")"

log "transient error: back off until the reset time, no spinning, resume by itself"
n=limited
AGENT_ENV='FAKE_MODE = "ratelimit"
FAKE_RESET_S = "12"' new_project $n
sed -i "s|^command = .*|command = [\"/usr/local/lib/agent-runner-test/claude\", \"--output-format\", \"stream-json\"]|" \
    "$WORK/etc-agent-runner/$n.toml"
ct agent-runner generate $n >/dev/null
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_event $n transient_error_detected 10
agent_mode $n ok
wait_for 5 "the back-off timer" is_state agent-runner-backoff@$n.timer active
assert_state agent-runner@$n.timer inactive
assert_state agent-runner-loop@$n.service active
assert_eq "$(unit_prop agent-runner@$n.service Result)" success "a transient round is no failure"
rounds=$(agent_rounds $n)
wait_event $n transient_error_recovered 30
# In the journal's order, whatever the machine's speed: up to the round that recovered, the round
# service started twice (the throttled round and that one: the timer did not spin during the
# back-off), and its agent started no earlier than the back-off's not-before time.
recovered=$(journal_events $n transient_error_recovered | jq -r .__REALTIME_TIMESTAMP | head -n 1) ||
    fail "cannot read transient_error_recovered of $n"
backoff_until=$(journal_events $n round_end | jq -r 'select(.AGENT_RUNNER_ROUND == "1") | .AGENT_RUNNER_UNTIL') ||
    fail "cannot read round_end of $n"
[[ $recovered =~ ^[0-9]+$ && $backoff_until =~ ^[0-9]+$ ]] ||
    fail "no time of the recovery ('$recovered') or of the back-off's end ('$backoff_until')"
starts=$(ct journalctl -o json --no-pager -u agent-runner@$n.service |
    jq -r 'select(.MESSAGE | tostring | startswith("Starting agent-runner@")) | .__REALTIME_TIMESTAMP') ||
    fail "cannot read the starts of agent-runner@$n.service"
assert_eq "$(awk -v t="$recovered" '$1 <= t { n++ } END { print n + 0 }' <<<"$starts")" 2 \
    "round service starts up to the recovered round (the timer must not spin during the back-off)"
spawns=$(journal_events $n agent_spawn | jq -r .__REALTIME_TIMESTAMP) || fail "cannot read agent_spawn of $n"
second=$(sed -n 2p <<<"$spawns")
[[ $second =~ ^[0-9]+$ ]] || fail "no second agent_spawn of $n: $spawns"
((second >= backoff_until * 1000000)) || fail "an agent started at $second us, before the back-off until $backoff_until s"
wait_for 5 "the periodic timer back" is_state agent-runner@$n.timer active
wait_for 10 "rounds after the back-off" rounds_at_least $((rounds + 2)) $n
assert_no_event $n crash_loop
assert_eq "$(state_field $n consecutive_short_crashes)" 0 "short crashes counted for a transient error"

log "systemctl stop during a back-off removes the back-off timer"
n=limited2
AGENT_ENV='FAKE_MODE = "ratelimit"
FAKE_RESET_S = "600"' new_project $n
sed -i "s|^command = .*|command = [\"/usr/local/lib/agent-runner-test/claude\", \"--output-format\", \"stream-json\"]|" \
    "$WORK/etc-agent-runner/$n.toml"
ct agent-runner generate $n >/dev/null
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_for 10 "the back-off timer" is_state agent-runner-backoff@$n.timer active
ct systemctl stop agent-runner@$n
assert_eq "$(active_state agent-runner-backoff@$n.timer)" inactive "back-off timer after systemctl stop"
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path"
