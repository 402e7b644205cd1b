# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# `diagnose` runs its layers (systemd, units, unit state, battery, events, rounds, disk)
# top-down and stops at the first failing one with evidence and the fix: healthy (exit 0),
# a failed after-round step (the units layer warns), drift (units), a failed unit state
# (crash_loop), a broken startup battery, systemd unreachable (exit 69); --json parses and
# names the failing layer.

diag_json() { ct agent-runner diagnose "$1" --json; }
failed_layer() { diag_json "$1" | jq -r '.failed_layer // "none"'; }
check_report() {
    # `jq -en 'input | F'`: no answer at all fails the check, where `jq -e F` would pass it.
    jq -en 'input | .project and (.healthy | type) == "boolean" and (.layers | length == 7)
        and all(.layers[]; has("layer") and has("status") and has("summary") and has("evidence") and has("fix"))
        and ([.layers[].layer] == ["systemd","units","unit_state","battery","events","rounds","disk"])' <<<"$1" >/dev/null ||
        fail "diagnose --json lacks documented fields: $1"
}

log "healthy: a running loop, exit 0"
h=healthy
AGENT_ENV='FAKE_SLEEP = "1"' new_project $h
ct agent-runner start $h >/dev/null
wait_event $h round_end 20
out=$(ct agent-runner diagnose $h) || fail "diagnose of a healthy project failed: $out"
grep -q "$h: healthy" <<<"$out" || fail "diagnose said: $out"
json=$(diag_json $h)
check_report "$json"
assert_eq "$(jq -r .healthy <<<"$json")" true "healthy"

log "the step after a round failed: the units layer warns, restart clears it"
slow=/etc/systemd/system/agent-runner-after@$h.service.d/90-test-fail.conf
ctsh "printf '[Service]\nExecStartPre=/bin/false\n' >$slow && systemctl daemon-reload"
wait_for 20 "the after-round step of $h to fail" is_state agent-runner-after@$h.service failed
json=$(diag_json $h) || fail "a failed after-round step made diagnose fail: $json"
assert_eq "$(jq -r '.layers[1].status' <<<"$json")" warn "units layer with a failed after-round step"
jq -en 'input | .layers[1].fix | test("journalctl -u agent-runner-after@'$h'.service")' <<<"$json" >/dev/null ||
    fail "fix: $(jq .layers[1] <<<"$json")"
ctsh "rm $slow && systemctl daemon-reload"
ct agent-runner restart $h >/dev/null || fail "restart of $h failed"
[[ $(active_state agent-runner-after@$h.service) != failed ]] || fail "restart left the after-round step failed"
assert_eq "$(diag_json $h | jq -r '.layers[1].status')" ok "units layer after restart"

log "drift: the units layer fails and says to generate"
echo '# edited' >>"$WORK/etc-agent-runner/$h.toml"
rc=0
out=$(ct agent-runner diagnose $h) || rc=$?
assert_eq "$rc" 1 "exit status with drift"
grep -q 'FAIL.*units' <<<"$out" || fail "no failing units layer: $out"
grep -q "fix: agent-runner generate $h" <<<"$out" || fail "no generate fix: $out"
json=$(diag_json $h) || true
check_report "$json"
assert_eq "$(jq -r .failed_layer <<<"$json")" units "failed layer"
assert_eq "$(jq -r '.layers[2].status' <<<"$json")" skipped "layers below a failure"
ct agent-runner generate $h >/dev/null

log "crash_loop: the unit_state layer fails with evidence"
c=crashy
AGENT_ENV='FAKE_MODE = "crash"' new_project $c 'crash_loop_threshold = 2'
ct agent-runner start $c >/dev/null 2>&1 || true
wait_event $c crash_loop 30
wait_for 10 "the loop of $c to halt" is_state agent-runner-loop@$c.service inactive
json=$(diag_json $c) || true
check_report "$json"
assert_eq "$(jq -r .failed_layer <<<"$json")" unit_state "failed layer of a crash loop"
jq -en 'input | .layers[2].summary | test("crash_loop")' <<<"$json" >/dev/null || fail "summary: $(jq .layers[2] <<<"$json")"
jq -en 'input | .layers[2].fix | test("agent-runner start '$c'")' <<<"$json" >/dev/null || fail "fix: $(jq .layers[2] <<<"$json")"

log "startup battery: a missing prompt fails the battery layer"
b=nobattery
new_project $b
ct rm /srv/prompts/$b.md
json=$(diag_json $b) || true
check_report "$json"
assert_eq "$(jq -r .failed_layer <<<"$json")" battery "failed layer without a prompt"
jq -en 'input | .layers[3].evidence | length >= 1' <<<"$json" >/dev/null || fail "no evidence: $(jq .layers[3] <<<"$json")"

log "systemd unreachable: the first layer fails, exit 69"
rc=0
out=$(ct env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent agent-runner diagnose $h) || rc=$?
assert_eq "$rc" 69 "exit status when systemd is unreachable"
grep -q 'FAIL.*systemd' <<<"$out" || fail "diagnose said: $out"
