# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Shared provider accounts beyond the moment: a five-hour rejection of one project is kept in the
# accounts' store, so another project of the account that was not running then, started during
# the park, does not start its agent (the fake agent leaves no trace) and resumes by itself after
# the reset; an account's own [budget] (accounts/NAME.toml) sums its projects' spend and parks
# every one of them until its window resets.

store=/var/lib/agent-runner-accounts

log "a rejection parks a project of the account that is not running; it resumes after the reset"
a=alpha b=beta
AGENT_ENV='FAKE_MODE = "ratelimit"
FAKE_RESET_S = "25"' claude_project $a
set_account $a team
AGENT_ENV='FAKE_MODE = "ok"' new_project $b
set_account $b team
ct systemctl start agent-runner@$a 2>/dev/null || true
wait_for 20 "the park of account team" ct test -f $store/team.json
park=$(ct cat $store/team.json) || fail "cannot read the park"
assert_eq "$(jq -r .seen_by <<<"$park")" $a "the rejected project in the park"
reset=$(jq -r .reset_at <<<"$park")
assert_eq "$(jq -r ".resume_at.$b" <<<"$park")" $((reset + 20)) "$b resumes 20 s after the reset"
assert_eq "$(ct stat -c %a $store/team.json)" 644 "the park's mode"
agent_mode $a ok
# $b was not running: started now, its round does not spawn its agent.
ct systemctl start agent-runner@$b 2>/dev/null || true
wait_event $b account_throttled 15
assert_eq "$(agent_rounds $b)" 0 "agent runs of $b during the park"
wait_for 5 "the back-off timer of $b" is_state agent-runner-backoff@$b.timer active
json=$(ct agent-runner status $b --json) || fail "status --json $b failed"
assert_eq "$(jq -r '.account_park.reason' <<<"$json")" "account team rate_limit_account" "status --json park reason"
assert_eq "$(jq -r '.account_park.until' <<<"$json")" $((reset + 20)) "status --json park end"
ct agent-runner status $b | grep -q 'account team' || fail "status does not show the account's park"
# By hand, too: a round started again during the park does not run the agent.
ct systemctl start agent-runner@$b.service 2>/dev/null || true
assert_eq "$(agent_rounds $b)" 0 "agent runs of $b started by hand"
wait_for 60 "$b resuming" rounds_at_least 1 $b
first_b=$(ct journalctl -o json --no-pager AGENT_RUNNER_PROJECT=$b AGENT_RUNNER_EVENT=agent_spawn |
    head -1 | jq -r '.__REALTIME_TIMESTAMP | tonumber / 1000000 | floor')
((first_b >= reset + 20)) || fail "$b started its agent at $first_b, before its resume time $((reset + 20))"
wait_for 30 "$a resuming" rounds_at_least 2 $a
ct systemctl stop agent-runner@$a agent-runner@$b

log "an account's own budget parks every project of the account"
c=gamma d=delta
mkdir -p "$WORK/etc-agent-runner/accounts"
printf '[budget]\nrounds_per_hour = 4\ntimezone = "UTC"\n' >"$WORK/etc-agent-runner/accounts/pool.toml"
AGENT_ENV='FAKE_MODE = "ok"' new_project $c 'restart_delay_s = 2'
set_account $c pool
AGENT_ENV='FAKE_MODE = "ok"' new_project $d 'restart_delay_s = 2'
set_account $d pool
ct agent-runner check $c >/dev/null || fail "check $c with a valid account file"
ct systemctl start agent-runner@$c agent-runner@$d 2>/dev/null || true
wait_event $c budget_exhausted 40
wait_event $d budget_exhausted 20
# The step that tells a running loop runs in the other project's after-round unit, whose
# LogExtraFields= adds its name: the entry's own fields are checked.
exhausted=$(journal_events $d budget_exhausted | tail -1)
assert_eq "$(jq -r '.AGENT_RUNNER_OWNER + " " + .AGENT_RUNNER_BUDGET' <<<"$exhausted")" "account pool rounds_per_hour" "owner and budget"
sleep 5
total=$(($(agent_rounds $c) + $(agent_rounds $d)))
((total >= 4 && total <= 5)) || fail "agent runs of the account: $total, expected the budget's 4 (one more may be under way)"
sleep 5
assert_eq "$(($(agent_rounds $c) + $(agent_rounds $d)))" $total "agent runs while the account is parked"
# The hour ends: the park and the ledgers' hour move into the past, the back-off fires early.
past=$(($(date +%s) - 1))
edited=$(ct cat $store/pool.json | jq -c ".reset_at = $past | .resume_at |= map_values($past)") || fail "pool.json"
ct sh -c "cat >$store/pool.json" <<<"$edited"
for n in $c $d; do
    dir=/var/lib/agent-runner/$n
    edited=$(ct cat "$dir/state.json" | jq -c ".verdict.until = $past | .budget_park.until = $past") || fail "state.json of $n"
    ct sh -c "cat >$dir/state.json" <<<"$edited"
    edited=$(ct cat "$dir/ledger.json" | jq -c ".hour.start = $past - 3600 | .hour.end = $past") || fail "ledger.json of $n"
    ct sh -c "cat >$dir/ledger.json" <<<"$edited"
    ct systemctl start "agent-runner-backoff@$n.service" 2>/dev/null || true
done
wait_event $c budget_window_reset 20
wait_event $d budget_window_reset 20
ct systemctl stop agent-runner@$c agent-runner@$d

log "a bad account file: check names the file and the key"
printf '[budget]\nloop_usd = 5\n' >"$WORK/etc-agent-runner/accounts/pool.toml"
out=$(ct agent-runner check $c 2>&1) && fail "check accepted loop_usd in an account file"
grep -q 'accounts/pool.toml' <<<"$out" || fail "check does not name the account file: $out"
grep -q 'no loop' <<<"$out" || fail "check does not say why: $out"
