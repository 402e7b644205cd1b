# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# [hooks] and [agent] exec_prefix under the units: pre_round and post_round hooks run around each
# agent as the project's user, their output in the round log; an exec_prefix wraps the agent; a
# failing pre_round hook skips the agent (hook_failed, no agent_spawn) and backs the loop off on
# the transient back-off instead of spinning.

log "hooks run around each round's agent, and exec_prefix wraps it"
n=hooks
# shellcheck disable=SC2016 # the hooks' shell expands them, not this one
new_project $n 'max_rounds = 2' '[hooks]' \
    'pre_round = [["sh", "-c", "echo pre $AGENT_RUNNER_ROUND $(id -un) >>hooks.log; echo pre-hook-output"]]' \
    'post_round = [["sh", "-c", "echo post $AGENT_RUNNER_ROUND $AGENT_RUNNER_OUTCOME >>hooks.log"]]'
ctsh "printf '#!/bin/sh\necho \"wrapped \$AGENT_RUNNER_ROUND\" >>wrapped.log\nexec \"\$@\"\n' >/srv/$n/wrap.sh
    chmod 755 /srv/$n/wrap.sh"
sed -i "s|^prompt_delivery = .*|&\nexec_prefix = [\"/srv/$n/wrap.sh\"]|" "$WORK/etc-agent-runner/$n.toml"
ct agent-runner generate $n >/dev/null || fail "generate $n failed"
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_event $n loop_halted 30
assert_event $n loop_halted reason=max_rounds
assert_eq "$(ct cat /srv/$n/hooks.log)" "pre 1 $TEST_USER
post 1 ok
pre 2 $TEST_USER
post 2 ok" "the hooks' record"
assert_eq "$(ct cat /srv/$n/wrapped.log)" "wrapped 1
wrapped 2" "the wrapper's record"
assert_eq "$(agent_rounds $n)" 2 "agent rounds"
round_log=$(ct cat /var/log/agent-runner/$n/rounds/round-2.log) || fail "no round log"
for line in "pre-hook-output" "pre_round hook 0 (sh) passed" "fake agent: round 2" "post_round hook 0 (sh) passed"; do
    grep -qF "$line" <<<"$round_log" || fail "the round log lacks '$line': $round_log"
done
assert_no_event $n hook_failed

log "a failing pre_round hook skips the agent and backs off"
n=hookgate
new_project $n 'restart_delay_s = 2' '[hooks]' 'pre_round = [["sh", "-c", "echo gate closed; exit 3"]]'
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_event $n hook_failed 20
assert_event $n hook_failed hook=pre_round index=0 command=sh exit_code=3 round_skipped=true
assert_event $n round_end outcome=transient classification=pre_round_hook
ct grep -qF "gate closed" /var/log/agent-runner/$n/rounds/round-1.log || fail "the hook's output is not in the round log"
sleep 8
assert_no_event $n agent_spawn
assert_eq "$(agent_rounds $n)" 0 "agent runs"
# Back-offs of 2, 4 and 8 s: at most three tries in the ten seconds since the first.
tries=$(journal_count $n hook_failed)
((tries >= 2 && tries <= 3)) || fail "$tries pre_round tries in about 10 s: the loop does not back off"
assert_eq "$(state_field $n verdict.reason)" pre_round_hook "the back-off's reason"
ct systemctl stop agent-runner@$n
