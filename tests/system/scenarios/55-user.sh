# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# --user: the lifecycle and read commands against an unprivileged user's own manager (session
# bus), for a lingering user: start, status (JSON), a graceful stop, events, diagnose.
n=own
user_manager_up
ctsh "set -e; mkdir -p /srv/$n /srv/prompts; cd /srv/$n; git init -q
    git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
    echo 'Work on the next task in the backlog, then commit what you changed.' >/srv/prompts/$n.md
    chown -R $TEST_USER: /srv/$n
    mkdir -p /home/$TEST_USER/.config/agent-runner
    printf '%s\n' 'schema_version = 1' '[agent]' 'command = [\"$AGENT\"]' 'prompt_delivery = \"stdin\"' \
        '[agent.env]' 'FAKE_SLEEP = \"3\"' '[runtime]' 'work_dir = \"/srv/$n\"' 'restart_delay_s = 1' \
        '[prompt]' 'files = [\"/srv/prompts/$n.md\"]' \
        >/home/$TEST_USER/.config/agent-runner/$n.toml
    chown -R $TEST_USER: /home/$TEST_USER/.config"
as_user agent-runner --user generate $n >/dev/null || fail "agent-runner --user generate failed"

log "start and status in the user manager"
out=$(as_user agent-runner --user start $n) || fail "--user start failed: $out"
json=$(as_user agent-runner --user status $n --json)
assert_eq "$(jq -r .scope <<<"$json")" user "scope"
assert_eq "$(jq -r .state <<<"$json")" running "state after --user start"
as_user agent-runner --user status | grep -q "^$n .*running" || fail "--user status table: $(as_user agent-runner --user status)"
# The system manager knows nothing of it.
ct systemctl is-active agent-runner@$n.service >/dev/null 2>&1 && fail "the system manager runs the user's loop"

log "graceful stop in the user manager"
out=$(as_user agent-runner --user stop $n 2>&1) || fail "--user stop failed: $out"
[[ $out == *"stopped $n in"* ]] || fail "--user stop said: $out"
assert_eq "$(as_user systemctl --user is-active agent-runner@$n.timer)" inactive "user timer after stop"
as_user agent-runner --user events $n --kind round_end --json | jq -e -s 'length >= 1' >/dev/null ||
    fail "--user events returned no round_end"
out=$(as_user agent-runner --user diagnose $n) || fail "--user diagnose of a stopped, healthy project failed: $out"
