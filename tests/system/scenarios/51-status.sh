# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# `status` against live units in each state: running, waiting, halted by each stop trigger
# (stop_file, .agent-done, max_rounds), halted by the defensive stops (config_broken, crash_loop),
# offline, drifted, stopped without drop-ins, not generated (no drop-ins and no templates);
# `status --json` parses and carries the documented fields; systemd unreachable → exit 69.

# state_of NAME: the "state" field of `status NAME --json`.
state_of() { ct agent-runner status "$1" --json | jq -r .state; }
state_is() { [[ $(state_of "$1") == "$2" ]]; }
reason_of() { ct agent-runner status "$1" --json | jq -r .reason; }

# The documented fields of one status object (docs/json.md).
check_fields() {
    # `jq -en 'input | F'`: no answer at all fails the check, where `jq -e F` would pass it.
    jq -en 'input | has("project") and has("scope") and has("source") and has("state") and has("reason")
        and has("round") and has("phase") and has("last_outcome") and has("next_round_at")
        and has("throttle_until") and has("throttle_class") and has("last_error")
        and has("enabled") and has("drifted") and (.units | has("service") and has("timer")
        and has("path") and has("halt"))' <<<"$1" >/dev/null || fail "status JSON lacks documented fields: $1"
}

log "running, then waiting with the next round's time"
r=runner
AGENT_ENV='FAKE_SLEEP = "3"' new_project $r 'restart_delay_s = 30'
ct agent-runner start $r >/dev/null || fail "start failed"
wait_for 5 "$r running" state_is $r running
json=$(ct agent-runner status $r --json)
check_fields "$json"
assert_eq "$(jq -r .round <<<"$json")" 1 "round while running"
assert_eq "$(jq -r .units.service.active_state <<<"$json")" active "service state"
assert_eq "$(jq -r '.units.service.invocation_id | length' <<<"$json")" 32 "invocation id of the running round"
wait_for 10 "$r waiting" state_is $r waiting
json=$(ct agent-runner status $r --json)
assert_eq "$(jq -r .last_outcome.outcome <<<"$json")" ok "last outcome"
# The duration the round recorded in its round_end event.
recorded=$(journal_events $r round_end | jq -r .AGENT_RUNNER_DURATION_MS) || fail "no round_end of $r"
assert_eq "$(jq -r .last_outcome.duration_ms <<<"$json")" "$recorded" "last_outcome.duration_ms"
next=$(jq -r .next_round_at <<<"$json")
[[ $next =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]] || fail "no next_round_at while waiting: $json"
line=$(ct agent-runner status | grep "^$r ")
# The line shows that duration in seconds with one decimal, whatever it was.
shown=$(printf 'ok %d.%ds' $((recorded / 1000)) $((recorded % 1000 / 100)))
[[ $line == *waiting*" $shown "*"in "* ]] || fail "status line (expected waiting, '$shown', the next round): $line"

log "halted by the stop file"
s=stopper
AGENT_ENV='FAKE_SLEEP = "1"' new_project $s "stop_file = \"/srv/$s/STOP\""
ct agent-runner start $s >/dev/null
ct touch /srv/$s/STOP
wait_for 15 "$s halted" state_is $s halted
assert_eq "$(reason_of $s)" stop_file "reason"
ct rm /srv/$s/STOP

log "halted by the agent (.agent-done)"
d=doner
AGENT_ENV='FAKE_MODE = "done"
FAKE_REASON = "all tasks finished"' new_project $d
ct agent-runner start $d >/dev/null
wait_for 15 "$d halted" state_is $d halted
assert_eq "$(reason_of $d)" agent_done "reason"

log "halted at max_rounds"
m=maxer
new_project $m 'max_rounds = 2'
ct agent-runner start $m >/dev/null
wait_for 20 "$m halted" state_is $m halted
assert_eq "$(reason_of $m)" max_rounds "reason"
assert_eq "$(ct agent-runner status $m --json | jq -r .round)" 2 "round at max_rounds"

log "config_broken (exit 78, never retried)"
b=broken
new_project $b
ct rm /srv/prompts/$b.md
ct agent-runner start $b >/dev/null 2>&1 || true
wait_for 10 "$b halted" state_is $b halted
assert_eq "$(reason_of $b)" config_broken "reason"

log "crash_loop"
c=crashy
AGENT_ENV='FAKE_MODE = "crash"' new_project $c 'crash_loop_threshold = 2'
ct agent-runner start $c >/dev/null 2>&1 || true
wait_for 30 "$c halted" state_is $c halted
assert_eq "$(reason_of $c)" crash_loop "reason"

log "offline: the agent never checks in"
o=silent
AGENT_ENV='FAKE_MODE = "silent"' new_project $o 'checkin_timeout_s = 2' 'checkin_attempts = 1' 'round_timeout_s = 60'
ct agent-runner start $o >/dev/null 2>&1 || true
wait_for 30 "$o offline" state_is $o offline
ct agent-runner status $o | grep -q 'state: *offline' || fail "status $o: $(ct agent-runner status $o)"

log "throttled: a transient error parks the loop on a back-off timer; graceful stop removes it"
t=limited
AGENT_ENV='FAKE_MODE = "ratelimit"
FAKE_RESET_S = "600"' new_project $t
sed -i "s|^command = .*|command = [\"/usr/local/lib/agent-runner-test/claude\", \"--output-format\", \"stream-json\"]|" \
    "$WORK/etc-agent-runner/$t.toml"
ct agent-runner generate $t >/dev/null
ct agent-runner start $t >/dev/null 2>&1 || true
wait_for 15 "$t throttled" state_is $t throttled
# The round's state says throttled at once; the step after the round starts the back-off timer.
wait_for 10 "the back-off timer" is_state agent-runner-backoff@$t.timer active
json=$(ct agent-runner status $t --json)
[[ $(jq -r .throttle_until <<<"$json") =~ ^20[0-9]{2}- ]] || fail "no throttle_until: $json"
[[ $(jq -r .throttle_class <<<"$json") != null ]] || fail "no throttle_class: $json"
until=$(jq -r .throttle_until <<<"$json")
next=$(jq -r .next_round_at <<<"$json")
[[ $next =~ ^20[0-9]{2}- ]] || fail "no next_round_at from the back-off timer: $json"
ct agent-runner status | grep "^$t " | grep -q 'throttled' || fail "status line: $(ct agent-runner status | grep "^$t ")"
ct agent-runner stop $t >/dev/null || fail "stop of a throttled loop failed"
assert_eq "$(active_state agent-runner-backoff@$t.timer)" inactive "back-off timer after a graceful stop"
assert_eq "$(state_of $t)" stopped "state after stopping a throttled loop"
log "throttled until $until, next round $next"

log "drifted: the TOML edited after generate"
sed -i 's/^restart_delay_s = 30/restart_delay_s = 31/' "$WORK/etc-agent-runner/$r.toml"
assert_eq "$(ct agent-runner status $r --json | jq -r .drifted)" true "drifted after editing the TOML"
ct agent-runner status | grep "^$r " | grep -q drifted || fail "the status line does not say drifted"
ct agent-runner generate $r >/dev/null
assert_eq "$(ct agent-runner status $r --json | jq -r .drifted)" false "drifted after generate"

log "no drop-ins, but the templates are loaded: stopped (starting it would run a round)"
g=fresh
new_project $g
ct rm -r /etc/systemd/system/agent-runner@$g.service.d /etc/systemd/system/agent-runner@$g.timer.d \
    /etc/systemd/system/agent-runner@$g.path.d /etc/systemd/system/agent-runner-halt@$g.service.d
ct systemctl daemon-reload
assert_eq "$(state_of $g)" stopped "state of a project without drop-ins"

log "all projects: one line each, and a JSON array with every project"
table=$(ct agent-runner status)
for p in $r $s $d $m $b $c $o $t $g; do grep -q "^$p " <<<"$table" || fail "no line for $p: $table"; done
all=$(ct agent-runner status --json)
assert_eq "$(jq length <<<"$all")" 9 "projects in status --json"
objects=$(jq -c '.[]' <<<"$all") || fail "status --json is no array: $all"
while read -r one; do check_fields "$one"; done <<<"$objects"

log "systemd unreachable: exit 69, one clear line"
rc=0
out=$(ct env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent agent-runner status 2>&1) || rc=$?
assert_eq "$rc" 69 "exit status"
assert_eq "$(grep -c . <<<"$out")" 2 "lines of the error (message + hint)"

log "not generated: no drop-ins and no template units loaded"
# Last: without the templates every project's units are gone.
ct rm /etc/systemd/system/agent-runner@.service /etc/systemd/system/agent-runner@.timer \
    /etc/systemd/system/agent-runner@.path /etc/systemd/system/agent-runner-loop@.service \
    /etc/systemd/system/agent-runner-halt@.service
ct systemctl daemon-reload
assert_eq "$(unit_prop agent-runner@$g.service LoadState)" not-found "LoadState without templates"
assert_eq "$(state_of $g)" not-generated "state of a project neither generated nor templated"
ct agent-runner status | grep "^$g " | grep -q not-generated || fail "status line: $(ct agent-runner status | grep "^$g ")"
