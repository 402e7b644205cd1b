# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# `systemctl enable agent-runner@NAME` starts the loop at boot: the container is booted again
# with the same /etc (and /srv), and round 1 of a new loop runs without anyone starting it.
n=boot
AGENT_ENV='FAKE_SLEEP = "1"' new_project $n 'restart_delay_s = 2'
ct systemctl enable agent-runner@$n 2>&1 | sed 's/^/    /'
ct test -L /etc/systemd/system/multi-user.target.wants/agent-runner@$n.service ||
    fail "enable did not link the round service into multi-user.target"
assert_eq "$(agent_rounds $n)" 0 "rounds before the reboot"

log "boot again with the same /etc"
reboot
wait_for 20 "round 1 after boot" rounds_at_least 1 $n
assert_eq "$(ct systemctl is-system-running)" running "system state after the boot"
ct journalctl -b --no-pager | grep -i "ordering cycle" && fail "the boot transaction had an ordering cycle"
# Booting does not wait for the agent's first output: round 1 starts after multi-user.target.
boot_json=$(ct journalctl -b -o json --no-pager _PID=1)
reached=$(jq -r 'select(.MESSAGE | tostring | startswith("Reached target multi-user.target")) | .__MONOTONIC_TIMESTAMP' <<<"$boot_json" | head -1)
started=$(jq -r "select(.MESSAGE | tostring | startswith(\"Starting agent-runner@$n.service\")) | .__MONOTONIC_TIMESTAMP" <<<"$boot_json" | head -1)
[[ -n $reached && -n $started ]] || fail "no boot record of multi-user.target ($reached) or round 1 ($started)"
((started > reached)) || fail "round 1 started before multi-user.target was reached: boot waits for the agent"
assert_state agent-runner-loop@$n.service active
assert_state agent-runner@$n.timer active
assert_state agent-runner@$n.path active
assert_event $n loop_started
wait_for 10 "round 2 after boot (the timer runs)" rounds_at_least 2 $n

log "disable: the next boot starts nothing"
ct systemctl disable --now agent-runner@$n 2>&1 | sed 's/^/    /'
rounds=$(agent_rounds $n)
reboot
sleep 3
assert_eq "$(agent_rounds $n)" "$rounds" "rounds after a boot with the loop disabled"
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path"
