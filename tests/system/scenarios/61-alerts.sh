# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Detectors under systemd: each alert is raised (alert_raised, with the detector and its
# evidence, in root's store and in `status --json`) and cleared (alert_cleared) — after a round by
# the after-round step, and between rounds by agent-runner-watch.service (a stale loop). A disk
# alert that halts stops the loop with the detector as the reason. The agent cannot clear an
# alert: the store is root's.

# alerts_of PROJECT: the detectors of the open alerts, as `status --json` shows them.
alerts_of() { ct agent-runner status "$1" --json 2>/dev/null | jq -r '[.alerts[].detector] | join(" ")'; }
has_alert() { [[ " $(alerts_of "$1") " == *" $2 "* ]]; }
no_alert() { ! has_alert "$1" "$2"; }
watch_now() { ct systemctl start agent-runner-watch.service || fail "the watch service failed"; }

log "the round service pulls in the watch timer; the store is root's"
n=authy
AGENT_ENV='FAKE_MODE = "auth"' new_project $n
ct systemctl start agent-runner@$n
wait_for 10 "the watch timer" is_state agent-runner-watch.timer active
assert_eq "$(ct stat -c '%U %a' /var/lib/agent-runner-alerts)" "root 755" "store directory"

log "auth failure streak: halted by the round, alert with the login hint, cleared by a round that authenticates"
wait_event $n auth_failed 30
wait_for 10 "the auth alert of $n" has_alert $n auth_failure_streak
assert_event $n alert_raised detector=auth_failure_streak severity=halt
ct agent-runner status $n --json | jq -e '.alerts[0].evidence.hint | length > 10' >/dev/null ||
    fail "the auth alert carries no login hint"
assert_eq "$(ct stat -c '%U %a' /var/lib/agent-runner-alerts/$n.json)" "root 644" "store file"
ct runuser -u "$TEST_USER" -- sh -c "echo '{\"alerts\":[]}' >/var/lib/agent-runner-alerts/$n.json" 2>/dev/null &&
    fail "the agent's user could clear an alert"
agent_mode $n ok
ct agent-runner restart $n >/dev/null
wait_event $n alert_cleared 30
assert_event $n alert_cleared detector=auth_failure_streak
no_alert $n auth_failure_streak || fail "the auth alert is still open"

log "the same error N rounds running, then cleared"
n=samey
AGENT_ENV='FAKE_MODE = "crash"' new_project $n 'crash_loop_threshold = 10' '[alerts]' 'repeated_error_rounds = 2'
ct systemctl start agent-runner@$n
wait_for 40 "the repeated-error alert of $n" has_alert $n repeated_error
assert_event $n alert_raised detector=repeated_error severity=warn
agent_mode $n ok
wait_for 60 "the repeated-error alert of $n to clear" no_alert $n repeated_error
assert_event $n alert_cleared detector=repeated_error
ct systemctl stop agent-runner@$n

log "timeout rate and repeated stashes, then cleared"
n=slowy
AGENT_ENV='FAKE_SLEEP = "6"' new_project $n 'round_timeout_s = 4' 'checkin_timeout_s = 2' \
    '[vcs]' 'dirty_action = "stash"' '[alerts]' 'window_rounds = 1' 'timeout_percent = 50' 'repeated_stashes = 2'
ct systemctl start agent-runner@$n
wait_for 40 "the timeout alert of $n" has_alert $n timeout_rate
assert_event $n alert_raised detector=timeout_rate
wait_for 40 "the stash alert of $n" has_alert $n repeated_stashes
assert_event $n alert_raised detector=repeated_stashes
ct sed -i 's/^FAKE_SLEEP = .*/FAKE_SLEEP = "0"/; s/^dirty_action = .*/dirty_action = "ignore"/' /etc/agent-runner/$n.toml
ct agent-runner generate $n >/dev/null
wait_for 60 "the timeout and stash alerts of $n to clear" bash -c "[[ -z \$(\"\$0\" exec agent-runner status $n --json 2>/dev/null | jq -r '.alerts[].detector') ]]" "$SANDBOX"
assert_event $n alert_cleared detector=timeout_rate
assert_event $n alert_cleared detector=repeated_stashes
ct systemctl stop agent-runner@$n

log "network failure rate, then cleared after the back-off"
n=netty
AGENT_ENV='FAKE_MODE = "network"' new_project $n '[alerts]' 'window_rounds = 1' 'network_failure_percent = 50'
ct systemctl start agent-runner@$n
wait_for 20 "the network alert of $n" has_alert $n network_failure_rate
assert_event $n alert_raised detector=network_failure_rate severity=warn
agent_mode $n ok
wait_for 70 "the network alert of $n to clear" no_alert $n network_failure_rate
assert_event $n alert_cleared detector=network_failure_rate
ct systemctl stop agent-runner@$n

log "disk usage: a loop halted for a full disk (thresholds driven down), cleared by the watch"
n=disky
used=$(ct df --output=pcent /srv | tail -1 | tr -dc 0-9)
((used >= 2 && used < 98)) || skip "the sandbox's /srv is ${used}% full: cannot drive the thresholds around it"
new_project $n '[alerts]' 'disk_warn_percent = 1' 'disk_halt_percent = 2'
ct systemctl start agent-runner@$n
wait_event $n loop_halted 20
assert_event $n loop_halted reason=disk_usage
assert_event $n alert_raised detector=disk_usage severity=halt
wait_for 10 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
ct agent-runner status $n | grep -q "alert: *disk_usage (halt" || fail "status shows no disk alert"
ct sed -i 's/^disk_warn_percent = .*/disk_warn_percent = 98/; s/^disk_halt_percent = .*/disk_halt_percent = 99/' /etc/agent-runner/$n.toml
watch_now
assert_event $n alert_cleared detector=disk_usage
no_alert $n disk_usage || fail "the disk alert is still open"

log "stale loop: the watch service sees a loop whose timer died, and its recovery"
n=stale
new_project $n 'restart_delay_s = 2'
ct systemctl start agent-runner@$n
wait_event $n round_end 20
ct systemctl stop agent-runner@$n.timer
wait_for 10 "the round of $n to end" is_state agent-runner@$n.service inactive
assert_state agent-runner-loop@$n.service active
watch_now
assert_event $n alert_raised detector=stale_loop severity=warn
has_alert $n stale_loop || fail "status shows no stale-loop alert"
ct systemctl start agent-runner@$n.timer
wait_event $n round_end 20 2
watch_now
assert_event $n alert_cleared detector=stale_loop
check_message_ids
