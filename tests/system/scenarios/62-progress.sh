# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The progress brake and the goal checks under the units: an agent that changes nothing halts its
# loop with stalled_no_progress after stall_rounds rounds (the first round sets the mark); goal
# checks run after each round as the project's user and, once every one passes, end the loop with
# goal_reached through the halt request and the path unit. The repository's fsmonitor and hooks,
# set by the agent's user, never run: not in the round's git, and not as root (the after-round
# step runs no git at all). Both loops end with the round service's result `success`.

# prepare NAME: the fake agent's own files ignored (they change every round; an operator's agent
# would not write its bookkeeping into the tree), and a hostile .git/config that records the uid
# of whoever runs it.
prepare() {
    local n=$1
    ctsh "set -e
        cd /srv/$n
        printf '%s\n' rounds.log timeline.log term.log fake-mode ran-as >.gitignore
        printf '#!/bin/sh\nid -u >>/srv/$n/ran-as\n' >/srv/$n-evil.sh
        chmod 755 /srv/$n-evil.sh
        mkdir -p /srv/$n-hooks
        for h in post-index-change pre-commit post-checkout; do cp /srv/$n-evil.sh /srv/$n-hooks/\$h; done
        chown -R $TEST_USER: /srv/$n
        runuser -u $TEST_USER -- git add .gitignore
        runuser -u $TEST_USER -- git -c user.name=t -c user.email=t@t commit -qm ignore
        runuser -u $TEST_USER -- git config core.fsmonitor /srv/$n-evil.sh
        runuser -u $TEST_USER -- git config core.hooksPath /srv/$n-hooks"
}
no_code_ran() {
    local ran
    ran=$(ct cat "/srv/$1/ran-as" 2>/dev/null || true)
    assert_eq "$ran" "" "uids that ran the repository's code in $1"
}

log "stall_rounds = 2: an agent that changes nothing halts after the marking round and two more"
n=stall
new_project $n '[progress]' 'stall_rounds = 2'
prepare $n
ct systemctl start agent-runner@$n
wait_event $n stalled_no_progress 40
wait_for 10 "the loop of $n to halt" is_state agent-runner-loop@$n.service inactive
assert_event $n stalled_no_progress rounds=2 stall_rounds=2
assert_event $n loop_halted reason=stalled_no_progress
assert_event $n round_progress rounds_unchanged=2 files_changed=0
assert_eq "$(agent_rounds $n)" 3 "rounds run"
assert_eq "$(state_field $n verdict.reason)" stalled_no_progress "state verdict"
wait_for 10 "the last round to end" is_state agent-runner@$n.service inactive
sleep 3
assert_eq "$(agent_rounds $n)" 3 "rounds after the halt"
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path"
assert_eq "$(unit_prop agent-runner@$n.service Result)" success "round service result"
no_code_ran $n

log "goal checks: failing checks let the loop go on; all passing end it with goal_reached"
n=goal
new_project $n '[[goal.checks]]' 'name = "builds"' 'cmd = ["sh", "-c", "echo building"]' \
    '[[goal.checks]]' 'name = "done"' 'cmd = ["test", "-f", "done.txt"]' 'timeout_s = 10'
prepare $n
ct systemctl start agent-runner@$n
wait_event $n goal_check_result 20 3
assert_event $n goal_check_result name=builds passed=true
assert_event $n goal_check_result name=done passed=false exit_code=1
assert_eq "$(is_state agent-runner-loop@$n.service active && echo yes)" yes "loop running after a failing check"
ctsh "runuser -u $TEST_USER -- touch /srv/$n/done.txt"
wait_event $n goal_reached 20
wait_for 10 "the loop of $n to end" is_state agent-runner-loop@$n.service inactive
assert_event $n goal_reached
assert_event $n loop_halted reason=goal_reached
wait_for 10 "the last round to end" is_state agent-runner@$n.service inactive
rounds=$(agent_rounds $n)
sleep 3
assert_eq "$(agent_rounds $n)" "$rounds" "rounds after goal_reached"
assert_eq "$(loop_states $n)" "inactive inactive inactive inactive" "service loop timer path"
assert_eq "$(unit_prop agent-runner@$n.service Result)" success "round service result"
ct grep -q "goal check done passed" "/var/log/agent-runner/$n/rounds/round-$rounds.log" ||
    fail "the last round's log lacks the check's result"
no_code_ran $n
