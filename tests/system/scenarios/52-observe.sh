# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# `events`, `logs` and `peek` against a live loop: events from the journal (filtered by project
# and kind, -n, --since, --follow, --json one object a line with the mirror's fields), the JSON
# mirror when the journal is unreadable, the round logs (current, --round N, --follow), and the
# full peek snapshot with drift and a round's log tail.

o=watched
AGENT_ENV='FAKE_SLEEP = "1"' new_project $o 'restart_delay_s = 1'
other=bystander
new_project $other
ct agent-runner start $o >/dev/null || fail "start failed"
ct agent-runner start $other >/dev/null || fail "start of $other failed"
wait_event $o round_end 20 3

log "events: the journal, this project only"
human=$(ct agent-runner events $o)
grep -q 'round_start' <<<"$human" || fail "no round_start in events: $human"
grep -q "$other" <<<"$human" && fail "events of $o show $other: $human"
json=$(ct agent-runner events $o --json)
jq -e -s 'length > 5 and all(.[]; has("ts") and has("event") and .project == "'$o'")' <<<"$json" >/dev/null ||
    fail "events --json is not one object a line with ts/event/project: $json"
jq -e -s '[.[] | select(.event == "round_end")][0] | (.round | type) == "number" and has("outcome")' <<<"$json" >/dev/null ||
    fail "round_end lacks a numeric round or its outcome: $json"

log "events --kind, -n, --since"
ends=$(ct agent-runner events $o --kind round_end --json)
jq -e -s 'length >= 3 and all(.[]; .event == "round_end")' <<<"$ends" >/dev/null || fail "--kind: $ends"
# The loop keeps running: `-n 2` must give the newest two of a full read just before it or just
# after it (events land in one of the gaps on a slow machine; a miss needs them to land in both).
for _ in 1 2 3 4 5 6 7 8 9 10; do
    before=$(ct agent-runner events $o --json | tail -n 2)
    two=$(ct agent-runner events $o -n 2 --json)
    last=$(ct agent-runner events $o --json | tail -n 2)
    [[ $two == "$before" || $two == "$last" ]] && break
done
assert_eq "$(grep -c . <<<"$two")" 2 "events -n 2"
[[ $two == "$before" || $two == "$last" ]] ||
    fail "-n 2 gives neither the newest two before it nor those after it: $two"
future=$(ct agent-runner events $o --since "2099-01-01")
assert_eq "$future" "" "events since 2099"
rc=0
ct agent-runner events $o --since "not a time" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of a bad --since"

log "events --follow prints new events as they happen"
ctsh "timeout 6 agent-runner events $o --follow --json --kind round_start -n 0 >/tmp/follow.out 2>&1; true" &
follower=$!
sleep 5
wait $follower
n=$(ct grep -c round_start /tmp/follow.out || true)
((n >= 1)) || fail "events --follow printed no new round_start in 5 s: $(ct cat /tmp/follow.out)"

log "logs: the current round, round N, --follow"
# A round that has just begun has an empty log until its agent prints: ask again then.
for _ in 1 2 3 4 5 6 7 8 9 10; do
    out=$(ct agent-runner logs $o)
    grep -q 'fake agent' <<<"$out" && break
    sleep 0.5
done
grep -q 'fake agent' <<<"$out" || fail "logs: $out"
out=$(ct agent-runner logs $o --round 1)
grep -q 'fake agent: round 1 ' <<<"$out" || fail "logs --round 1: $out"
rc=0
ct agent-runner logs $o --round 999 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status of logs for a round that never ran"
out=$(ct timeout 5 agent-runner logs $o --follow || true)
c=$(grep -oE 'round [0-9]+ done' <<<"$out" | sort -u | grep -c . || true)
((c >= 2)) || fail "logs --follow did not follow into the next rounds: $out"

log "peek: the full snapshot"
ct agent-runner stop $o >/dev/null
peek=$(ct agent-runner peek $o --json)
# `jq -en 'input | F'`: no answer at all fails the check, where `jq -e F` would pass it.
jq -en 'input | .project == "'$o'" and .state == "stopped" and (.state_file | type) == "object"
    and (.state_file.round >= 3) and (.recent_rounds | length >= 3)
    and (.recent_rounds[0] | has("round") and has("outcome") and has("duration_ms"))
    and .config.in_sync == true and .config.generated == true and (.config.sha256 | length == 64)
    and (.config.drop_ins | length == 4) and .events_source == "journal"' <<<"$peek" >/dev/null ||
    fail "peek --json lacks documented fields: $peek"
text=$(ct agent-runner peek $o)
grep -q 'in sync with the TOML' <<<"$text" || fail "peek: $text"
peek=$(ct agent-runner peek $o --round 2 --log --json)
jq -en 'input | .round_detail.round == 2 and (.round_detail.events | length >= 3)
    and all(.round_detail.events[]; .round == 2) and (.log.tail | join("\n") | test("round 2"))' <<<"$peek" >/dev/null ||
    fail "peek --round 2 --log: $peek"

log "peek: drift after editing the TOML"
echo '# edited' >>"$WORK/etc-agent-runner/$o.toml"
peek=$(ct agent-runner peek $o --json)
jq -en 'input | .drifted == true and .config.in_sync == false and (.config.drop_ins[0].in_sync == false)' <<<"$peek" >/dev/null ||
    fail "peek does not show drift: $(jq .config <<<"$peek")"
ct agent-runner peek $o | grep -q DRIFTED || fail "peek text does not say DRIFTED"

log "the mirror when the journal is unreadable (the unprivileged user, no journal access)"
logdir=$(jq -r .log_dir <<<"$peek")
ct test -s "$logdir/events.jsonl" || fail "no JSON mirror in $logdir"
ct chmod -R a+rX /var/log/private /var/log/agent-runner 2>/dev/null || true
ctsh "chmod a+r /etc/agent-runner/$o.toml"
# A round_end that only the mirror holds (a copy of the newest, as round 4242) tells which source
# answered.
extra=$(ct cat "$logdir/events.jsonl" | jq -c 'select(.event == "round_end")' | tail -n 1 | jq -c '.round = 4242')
[[ -n $extra ]] || fail "no round_end in the mirror to copy"
ct sh -c "cat >>$logdir/events.jsonl" <<<"$extra" || fail "cannot add the mirror-only event"
ends_of() { jq -s -c '[.[] | select(.event == "round_end" and .project == "'$o'") | .round]' <<<"$1"; }
mirror=$(ct agent-runner events $o --kind round_end --json)
jq -e 'length >= 3 and (index(4242) == null)' <<<"$(ends_of "$mirror")" >/dev/null ||
    fail "events as root did not come from the journal: rounds $(ends_of "$mirror")"
mirror=$(ct runuser -u "$TEST_USER" -- agent-runner events $o --kind round_end --json)
jq -e 'length >= 4 and (index(4242) != null)' <<<"$(ends_of "$mirror")" >/dev/null ||
    fail "events as the unprivileged user did not come from the mirror: rounds $(ends_of "$mirror")"
peek=$(ct runuser -u "$TEST_USER" -- agent-runner peek $o --json)
assert_eq "$(jq -r .events_source <<<"$peek")" mirror "peek's events source for the unprivileged user"
# No journalctl at all: the mirror alone, same format.
mirror=$(ct env PATH=/nonexistent /usr/bin/agent-runner events $o --kind round_end --json)
jq -e -s 'length >= 4 and all(.[]; .event == "round_end" and .project == "'$o'" and (.round | type) == "number")' <<<"$mirror" >/dev/null ||
    fail "events from the mirror: $mirror"
jq -e 'index(4242) != null' <<<"$(ends_of "$mirror")" >/dev/null || fail "events without journalctl did not read the mirror"
peek=$(ct env PATH=/nonexistent /usr/bin/agent-runner peek $o --json)
assert_eq "$(jq -r .events_source <<<"$peek")" mirror "peek's events source without journalctl"
