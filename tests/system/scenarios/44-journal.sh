# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The journal: a loop that ends at max_rounds, read back with `journalctl -o json` — every event
# kind it produces carries its MESSAGE_ID (from the catalog) and its AGENT_RUNNER_* fields; the
# catalog explains each of those MESSAGE_IDs (`journalctl -x` shows the entry's subject with the
# project substituted); the JSON mirror has the same events.
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
journal=$(ct journalctl -o json --no-pager AGENT_RUNNER_PROJECT=$n) || fail "journalctl -o json failed"
seen=$(jq -r 'select(.AGENT_RUNNER_EVENT) | "\(.AGENT_RUNNER_EVENT) \(.MESSAGE_ID)"' <<<"$journal") ||
    fail "jq could not read the journal of $n"
seen=$(sort -u <<<"$seen")
[[ -n $seen ]] || fail "no agent-runner event of $n in the journal"
while read -r kind id; do
    [[ $(message_id "$kind") == "$id" ]] || fail "event $kind logged with MESSAGE_ID $id, the catalog says $(message_id "$kind")"
done <<<"$seen"
log "kinds seen: $(cut -d' ' -f1 <<<"$seen" | paste -sd' ')"

log "journalctl -x explains every MESSAGE_ID seen (catalog)"
ct test -f /usr/lib/systemd/catalog/agent-runner.catalog ||
    fail "no journal catalog to install (packaging/agent-runner.catalog is missing)"
# catalog_subject ID: the Subject: line of the catalog entry ID.
catalog_subject() {
    awk -v id="$1" '$1 == "--" { here = ($2 == id) } here && /^Subject: / { sub(/^Subject: /, ""); print; exit }' \
        "$ROOT/packaging/agent-runner.catalog"
}
while read -r kind id; do
    subject=$(catalog_subject "$id")
    [[ -n $subject ]] || fail "the catalog has no subject for $kind ($id)"
    explained=$(ct journalctl -x --no-pager -n 1 "MESSAGE_ID=$id" "AGENT_RUNNER_PROJECT=$n") ||
        fail "journalctl -x failed for $kind"
    { grep -qF "Subject: $subject" <<<"$explained" && grep -qF "Event $kind of project $n." <<<"$explained"; } ||
        fail "journalctl -x shows no catalog text for $kind: $explained"
done <<<"$seen"
# shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
sed 's/^/    /' <<<"$explained"

log "the JSON mirror holds the same events"
mirror=$(ct cat /var/log/agent-runner/$n/events.jsonl)
for kind in round_start round_end max_rounds_reached loop_halted; do
    count=$(jq_count ".event == \"$kind\" and .project == \"$n\"" <<<"$mirror") || exit 1
    ((count > 0)) || fail "events.jsonl has no $kind event"
done

log "systemctl start begins a new loop: rounds_this_loop starts again, three more rounds"
ct systemctl start agent-runner@$n
wait_event $n max_rounds_reached 20 2
wait_for 10 "the last round to end" is_state agent-runner@$n.service inactive
assert_eq "$(agent_rounds $n)" 6 "rounds after a second loop with max_rounds = 3"
assert_eq "$(journal_count $n loop_started)" 2 "loop_started events"
assert_eq "$(state_field $n round)" 6 "round counter (never reset)"
