# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The round under systemd's own watchdog and stop timeout (what tests/integration/round.rs's
# notify_protocol_and_watchdog checks against a stand-in socket): `watchdog_s` becomes
# WatchdogSec=; an agent that keeps printing for longer than the watchdog is kept alive by the
# runner's WATCHDOG=1 pings and its round ends ok; an agent that falls silent is ended by the
# runner itself before systemd's watchdog fires, so the round still records why;
# EXTEND_TIMEOUT_USEC= keeps systemd from killing the runner while it stops an agent that ignores
# SIGTERM for longer than the unit's TimeoutStopSec=. While the agent's silence does not count,
# the runner keeps systemd's watchdog from firing (before the check-in by WATCHDOG=1, during a kill
# that outlasts the watchdog by EXTEND_TIMEOUT_USEC= and WATCHDOG=1), and only a runner that stops
# answering is ended by systemd (Result=watchdog).

# no_watchdog_timeout PROJECT: systemd's watchdog never fired for the round service of PROJECT.
no_watchdog_timeout() {
    local journal
    journal=$(ct journalctl -o cat --no-pager -u "agent-runner@$1.service") || fail "journalctl failed for $1"
    ! grep -qi 'watchdog timeout' <<<"$journal" || fail "systemd's watchdog fired for $1: $(tail -5 <<<"$journal")"
}

log "watchdog_s = 3 is WatchdogSec=3s"
n=chatty
AGENT_ENV='FAKE_MODE = "chatty"
FAKE_SLEEP = "8"' new_project $n 'watchdog_s = 3' 'max_rounds = 1'
ct systemctl start agent-runner@$n
# systemd shows the watchdog of a running service.
wait_for 5 "the round of $n running" is_state agent-runner@$n.service active
assert_eq "$(unit_prop agent-runner@$n.service WatchdogUSec)" 3s "WatchdogUSec of the round service"

log "output for 8 s under a 3 s watchdog: WATCHDOG=1 keeps the round alive, it ends ok"
wait_event $n round_end 30
wait_for 10 "the round of $n to end" is_state agent-runner@$n.service inactive
assert_event $n round_end round=1 outcome=ok
assert_eq "$(unit_prop agent-runner@$n.service Result)" success "Result of the round service"
assert_no_event $n round_timeout_kill
ct grep -q 'fake agent: round 1 done' /var/log/agent-runner/$n/rounds/round-1.log ||
    fail "the agent did not finish its 8 s of work: $(ct tail -3 /var/log/agent-runner/$n/rounds/round-1.log)"
no_watchdog_timeout $n

log "an agent silent after its first lines: the runner ends it before systemd's watchdog would"
m=mute
AGENT_ENV='FAKE_SLEEP = "60"' new_project $m 'watchdog_s = 3' 'max_rounds = 1'
ct systemctl start agent-runner@$m
wait_event $m round_end 30
wait_for 10 "the round of $m to fail" is_state agent-runner@$m.service failed
assert_event $m round_timeout_kill reason=watchdog_s limit_s=3 service_watchdog_ms=3000
assert_event $m round_end round=1 outcome=timeout exit_code=124
# systemd saw the runner exit 124 (its own verdict), not its watchdog expire.
assert_eq "$(unit_prop agent-runner@$m.service Result)" exit-code "Result of the round service"
assert_eq "$(unit_prop agent-runner@$m.service ExecMainStatus)" 124 "exit status"
ct grep -q 'round 1 got SIGTERM' /srv/$m/term.log || fail "the silent agent was not stopped by the runner"
no_watchdog_timeout $m

log "stopping an agent that ignores SIGTERM takes longer than TimeoutStopSec=2: EXTEND_TIMEOUT_USEC"
s=stubborn
AGENT_ENV='FAKE_MODE = "stubborn"' new_project $s
ctsh "mkdir -p /etc/systemd/system/agent-runner@$s.service.d && printf '[Service]\nTimeoutStopSec=2\n' >/etc/systemd/system/agent-runner@$s.service.d/99-test.conf && systemctl daemon-reload"
assert_eq "$(unit_prop agent-runner@$s.service TimeoutStopUSec)" 2s "TimeoutStopUSec"
ct systemctl start agent-runner@$s
wait_for 10 "the stubborn agent running" ct grep -q 'ignoring SIGTERM' /var/log/agent-runner/$s/rounds/round-1.log
ct systemctl stop agent-runner@$s
ct grep -q 'round 1 got SIGTERM' /srv/$s/term.log || fail "the stubborn agent never got SIGTERM"
# The runner outlived TimeoutStopSec=, escalated to SIGKILL itself and recorded the round.
assert_event $s round_end round=1 outcome=stopped
assert_eq "$(unit_prop agent-runner@$s.service Result)" success "Result of the round service (timeout: systemd killed the runner)"
ctsh "! pgrep -u $TEST_USER -f fake-agent" || fail "the stubborn agent survived the stop"

log "under a 3 s watchdog, three rounds at once: silent before its check-in, deaf to SIGTERM, a hung runner"
# Silent from the start: its silence does not count before the check-in, the runner feeds
# systemd's watchdog until the 6 s check-in deadline ends the round.
q=late
AGENT_ENV='FAKE_MODE = "silent"' new_project $q 'watchdog_s = 3' 'checkin_timeout_s = 6' \
    'checkin_attempts = 1' 'max_rounds = 1'
# Checks in, falls silent and ignores SIGTERM: the runner's kill (SIGTERM, SIGKILL 5 s later)
# outlasts the 3 s watchdog, which the runner holds off through it.
k=deaf
AGENT_ENV='FAKE_MODE = "stubborn"' new_project $k 'watchdog_s = 3' 'max_rounds = 1'
# Keeps printing, but its runner is frozen (SIGSTOP): nothing feeds the watchdog, systemd fires.
h=hung
AGENT_ENV='FAKE_MODE = "chatty"
FAKE_SLEEP = "60"' new_project $h 'watchdog_s = 3' 'max_rounds = 1' 'restart_delay_s = 60'
for p in $q $k $h; do ct systemctl start --no-block "agent-runner@$p"; done
wait_for 10 "the agent of $h working" ct grep -q 'still working' /var/log/agent-runner/$h/rounds/round-1.log
runner=$(unit_prop agent-runner@$h.service MainPID)
[[ $runner =~ ^[1-9][0-9]*$ ]] || fail "no main process of agent-runner@$h.service: '$runner'"
ct kill -STOP "$runner"

# Systemd's verdict first: had its watchdog fired, the round would have recorded nothing.
wait_for 30 "the round of $q to fail" is_state agent-runner@$q.service failed
assert_eq "$(unit_prop agent-runner@$q.service Result)" exit-code "Result of the round of $q"
no_watchdog_timeout $q
assert_event $q checkin_failed checkin_timeout_s=6
assert_event $q round_end round=1 outcome=no_checkin

wait_for 30 "the round of $k to fail" is_state agent-runner@$k.service failed
assert_eq "$(unit_prop agent-runner@$k.service Result)" exit-code "Result of the round of $k"
no_watchdog_timeout $k
ct grep -q 'round 1 got SIGTERM' /srv/$k/term.log || fail "the deaf agent never got SIGTERM"
assert_event $k round_timeout_kill reason=watchdog_s limit_s=3
assert_event $k round_end round=1 outcome=timeout exit_code=124

wait_for 15 "systemd's watchdog to end the hung round of $h" is_state agent-runner@$h.service failed
assert_eq "$(unit_prop agent-runner@$h.service Result)" watchdog "Result of the round with a frozen runner"
ct journalctl -o cat --no-pager -u agent-runner@$h.service | grep -q 'Watchdog timeout (limit 3s)' ||
    fail "systemd logged no watchdog timeout for $h: $(ct journalctl -o cat --no-pager -u agent-runner@$h.service | tail -5)"
# The frozen runner recorded nothing: the round ended by systemd's hand, not its own.
assert_no_event $h round_end
