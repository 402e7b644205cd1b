# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Spend: a daily budget parks the loop on the back-off timer a rate limit uses (no agent runs, the
# periodic timer is stopped) and the end of the day resumes it by itself; two projects on one
# provider account: a five-hour rejection of one parks the other without starting its agent, and
# both resume after the reset, one after the other; a round costing far more than the recent ones
# raises cost_spike and, with spike_action = "halt", halts the loop.
#
# The day is not waited for: once the loop is parked, the scenario moves the park's end and the
# ledger's day into the past (what midnight would do) and fires the back-off's service early, the
# unit that would have started the round at midnight.

log "a spent daily budget parks the loop until the day ends"
n=daily
AGENT_ENV='FAKE_MODE = "cost"
FAKE_COST = "0.02"' claude_project $n 'restart_delay_s = 2' '[budget]' 'daily_usd = 0.05' 'timezone = "UTC"'
ct systemctl start agent-runner@$n 2>/dev/null || true
# $0.02 a round: after two, the next would bring the day to $0.06, over $0.05 by more than 10 %.
wait_event $n budget_exhausted 30
exhausted=$(journal_events $n budget_exhausted | tail -1)
assert_eq "$(jq -r .AGENT_RUNNER_BUDGET <<<"$exhausted")" daily_usd "the budget named"
assert_eq "$(jq -r .AGENT_RUNNER_LIMIT <<<"$exhausted")" 0.05 "the limit named"
midnight=$((($(date +%s) / 86400 + 1) * 86400))
assert_eq "$(jq -r .AGENT_RUNNER_RESUME_AT <<<"$exhausted")" "$midnight" "the resume time (next UTC midnight)"
wait_for 5 "the back-off timer" is_state agent-runner-backoff@$n.timer active
assert_state agent-runner@$n.timer inactive
assert_state agent-runner-loop@$n.service active
assert_eq "$(agent_rounds $n)" 2 "agent runs before the park"
status=$(ct agent-runner status $n) || fail "status $n failed"
grep -q 'daily_usd' <<<"$status" || fail "status does not say why the loop is parked: $status"
grep -qF "today \$0.04 of \$0.05" <<<"$status" || fail "status shows no spend against the budget: $status"
json=$(ct agent-runner status $n --json) || fail "status --json failed"
assert_eq "$(jq -r '.spend.day_usd' <<<"$json")" 0.04 "status --json spend today"
assert_eq "$(jq -r '.spend.budget_park.budget' <<<"$json")" daily_usd "status --json park"
sleep 4
assert_eq "$(agent_rounds $n)" 2 "agent runs while parked"
# Midnight: the park and the day's window end now.
past=$(($(date +%s) - 1))
dir=/var/lib/agent-runner/$n
edited=$(ct cat $dir/state.json | jq -c ".verdict.until = $past | .budget_park.until = $past") || fail "state.json of $n"
ct sh -c "cat >$dir/state.json" <<<"$edited"
edited=$(ct cat $dir/ledger.json | jq -c ".day.start = $past - 86400 | .day.end = $past") || fail "ledger.json of $n"
ct sh -c "cat >$dir/ledger.json" <<<"$edited"
ct systemctl start agent-runner-backoff@$n.service
wait_event $n budget_window_reset 15
assert_event $n budget_window_reset budget=daily_usd
wait_for 10 "the rounds of the new day" rounds_at_least 3 $n
assert_no_event $n loop_halted

log "one provider account: a five-hour rejection in one project parks the other"
a=alpha b=beta
AGENT_ENV='FAKE_MODE = "ok"' new_project $b 'restart_delay_s = 1'
set_account $b team
AGENT_ENV='FAKE_MODE = "ratelimit"
FAKE_RESET_S = "10"' claude_project $a
set_account $a team
ct systemctl start agent-runner@$b 2>/dev/null || true
wait_for 10 "rounds of $b" rounds_at_least 2 $b
ct systemctl start agent-runner@$a 2>/dev/null || true
wait_event $b account_throttled 15
# The after-round step that tells runs in $a's after-round unit, whose LogExtraFields= adds $a as
# a second AGENT_RUNNER_PROJECT: the entry matches both projects, so its own fields are checked.
throttled=$(journal_events $b account_throttled | tail -1)
assert_eq "$(jq -r '.AGENT_RUNNER_ACCOUNT + " " + .AGENT_RUNNER_SEEN_BY' <<<"$throttled")" "team $a" "account and rejected project"
reset=$(jq -r .AGENT_RUNNER_RESET_AT <<<"$throttled")
resume=$(jq -r .AGENT_RUNNER_RESUME_AT <<<"$throttled")
assert_eq "$resume" $((reset + 20)) "$b resumes 20 s after the reset"
wait_for 5 "the back-off timer of $b" is_state agent-runner-backoff@$b.timer active
assert_state agent-runner@$b.timer inactive
wait_for 5 "the back-off timer of $a" is_state agent-runner-backoff@$a.timer active
agent_mode $a ok
sleep 2 # a round of $b running when the rejection came ends
parked=$(agent_rounds $b)
while (($(date +%s) < reset - 1)); do sleep 1; done
assert_eq "$(agent_rounds $b)" "$parked" "agent runs of $b before the reset"
# $a resumes at its reset, $b twenty seconds later.
wait_event $a transient_error_recovered 15
wait_for 30 "$b resuming" rounds_at_least $((parked + 1)) $b
first_b=$(ct journalctl -o json --no-pager AGENT_RUNNER_PROJECT=$b AGENT_RUNNER_EVENT=agent_spawn --since "@$reset" |
    head -1 | jq -r '.__REALTIME_TIMESTAMP | tonumber / 1000000 | floor')
((first_b >= resume)) || fail "$b started its agent at $first_b, before its resume time $resume"
ct systemctl stop agent-runner@$a agent-runner@$b

log "a cost spike raises the alert and, with spike_action = \"halt\", halts the loop"
n=spiky
AGENT_ENV='FAKE_MODE = "cost"
FAKE_COST = "0.01"' claude_project $n 'restart_delay_s = 1' '[budget]' 'spike_action = "halt"'
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_for 15 "three cheap rounds" rounds_at_least 3 $n
assert_no_event $n cost_spike
agent_mode $n "cost 0.5"
wait_event $n cost_spike 15
assert_event $n cost_spike action=halt
wait_for 10 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
assert_event $n loop_halted reason=cost_spike
