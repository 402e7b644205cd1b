# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The user manager: `agent-runner --user generate` and `systemctl --user start` run the same loop
# for an unprivileged user (lingering, so no login is needed): rounds, a stop trigger, stop.
n=mine
user_manager_up
ctsh "set -e; mkdir -p /srv/$n /srv/prompts; cd /srv/$n; git init -q
    git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
    echo 'Work on the next task in the backlog, then commit what you changed.' >/srv/prompts/$n.md
    chown -R $TEST_USER: /srv/$n
    mkdir -p /home/$TEST_USER/.config/agent-runner
    printf '%s\n' 'schema_version = 1' '[agent]' 'command = [\"$AGENT\"]' 'prompt_delivery = \"stdin\"' \
        '[agent.env]' 'FAKE_SLEEP = \"1\"' '[runtime]' 'work_dir = \"/srv/$n\"' 'restart_delay_s = 1' \
        'stop_file = \"/srv/$n/STOP\"' '[prompt]' 'files = [\"/srv/prompts/$n.md\"]' \
        >/home/$TEST_USER/.config/agent-runner/$n.toml
    chown -R $TEST_USER: /home/$TEST_USER/.config"
as_user agent-runner --user generate $n || fail "agent-runner --user generate failed"
verify=$(as_user systemd-analyze --user verify --recursive-errors=yes --man=no agent-runner@$n.service \
    agent-runner@$n.timer agent-runner@$n.path agent-runner-loop@$n.service \
    agent-runner-halt@$n.service 2>&1) || fail "systemd-analyze --user verify found problems: $verify"
# verify reports ordering cycles without failing.
[[ -z $verify ]] || fail "systemd-analyze --user verify: $verify"

as_user systemctl --user start agent-runner@$n
wait_for 15 "3 rounds in the user manager" rounds_at_least 3 $n
assert_eq "$(as_user systemctl --user is-active agent-runner-loop@$n.service)" active "user loop unit"

as_user touch /srv/$n/STOP
wait_for 5 "the user loop to halt" bash -c "[[ \$(\"\$0\" exec runuser -u $TEST_USER -- env XDG_RUNTIME_DIR=/run/user/1500 systemctl --user is-active agent-runner-loop@$n.service) == inactive ]]" "$SANDBOX"
assert_event $n stop_file_detected
wait_for 10 "the round to finish" bash -c "[[ \$(\"\$0\" exec runuser -u $TEST_USER -- env XDG_RUNTIME_DIR=/run/user/1500 systemctl --user is-active agent-runner@$n.service) != active ]]" "$SANDBOX"
rounds=$(agent_rounds $n)
sleep 3
assert_eq "$(agent_rounds $n)" "$rounds" "rounds after the stop trigger"
as_user systemctl --user stop agent-runner@$n
