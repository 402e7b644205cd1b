# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The journal: a loop that ends at max_rounds, read back with `journalctl -o json` — every event
# kind it produces carries its MESSAGE_ID (from the catalog) and its AGENT_RUNNER_* fields; the
# catalog explains each MESSAGE_ID (`journalctl -x`); the JSON mirror has the same events.
n=journal
AGENT_ENV='FAKE_SLEEP = "0"' new_project $n 'max_rounds = 3'

ct systemctl start agent-runner@$n
wait_event $n max_rounds_reached 20
wait_for 5 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
wait_for 10 "the last round to end" is_state agent-runner@$n.service inactive
sleep 2
assert_eq "$(agent_rounds $n)" 3 "rounds run with max_rounds = 3"
assert_eq "$(unit_prop agent-runner@$n.service Result)" success "round service result"
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path"

log "every event kind, with its MESSAGE_ID and fields"
assert_event $n loop_started round=1
for r in 1 2 3; do
    assert_event $n round_start round=$r
    assert_event $n agent_spawn round=$r
    assert_event $n agent_checkin round=$r
    assert_event $n agent_exit round=$r exit_code=0
    assert_event $n round_end round=$r outcome=ok exit_code=0
done
assert_event $n max_rounds_reached max_rounds=3
assert_event $n loop_halted reason=max_rounds
# Priorities: info for normal operation.
assert_eq "$(journal_events $n round_end | jq_count '.PRIORITY == "6"')" 3 "round_end events at priority 6 (info)"
# Every agent-runner event in the journal has a MESSAGE_ID the catalog source knows.
while read -r kind id; do
    [[ $(message_id "$kind") == "$id" ]] || fail "event $kind logged with MESSAGE_ID $id, the catalog says $(message_id "$kind")"
done < <(ct journalctl -o json --no-pager AGENT_RUNNER_PROJECT=$n | jq -r 'select(.AGENT_RUNNER_EVENT) | "\(.AGENT_RUNNER_EVENT) \(.MESSAGE_ID)"' | sort -u)
log "kinds seen: $(ct journalctl -o json --no-pager AGENT_RUNNER_PROJECT=$n | jq -r '.AGENT_RUNNER_EVENT // empty' | sort -u | paste -sd' ')"

log "journalctl -x explains the MESSAGE_ID (catalog)"
if ct test -f /usr/lib/systemd/catalog/agent-runner.catalog; then
    explained=$(ct journalctl -x --no-pager -n 1 "MESSAGE_ID=$(message_id max_rounds_reached)")
    # shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
    sed 's/^/    /' <<<"$explained"
    { grep -q 'Subject: The loop reached max_rounds' <<<"$explained" && grep -q "project $n" <<<"$explained"; } ||
        fail "journalctl -x shows no catalog text for max_rounds_reached"
else
    fail "no journal catalog to install (packaging/agent-runner.catalog is missing)"
fi

log "the JSON mirror holds the same events"
mirror=$(ct cat /var/log/agent-runner/$n/events.jsonl)
for kind in round_start round_end max_rounds_reached loop_halted; do
    (($(jq_count ".event == \"$kind\" and .project == \"$n\"" <<<"$mirror") > 0)) ||
        fail "events.jsonl has no $kind event"
done

log "systemctl start begins a new loop: rounds_this_loop starts again, three more rounds"
ct systemctl start agent-runner@$n
wait_event $n max_rounds_reached 20 2
wait_for 10 "the last round to end" is_state agent-runner@$n.service inactive
assert_eq "$(agent_rounds $n)" 6 "rounds after a second loop with max_rounds = 3"
assert_eq "$(journal_count $n loop_started)" 2 "loop_started events"
assert_eq "$(state_field $n round)" 6 "round counter (never reset)"
