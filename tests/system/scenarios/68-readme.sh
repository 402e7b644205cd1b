# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# README.md's Workflow block, pasted as a newcomer would: as root into the system manager, then as
# an unprivileged user with the changes the README names for --user. Any line that fails fails the
# scenario; what the lines print shows that a round ran and that stop stopped the loop.

# The first ```sh block below "## Workflow", comments dropped (the lines themselves are unchanged).
workflow=$(awk '/^## Workflow/ { section = 1 } section && /^```sh/ { block = 1; next }
    block && /^```/ { exit } block' "$ROOT/README.md" | sed -E 's/[[:space:]]+#.*$//')
[[ $workflow == *"agent-runner start"* ]] || fail "no Workflow block with a start line in README.md: $workflow"

# The operator's editor (Debian's `editor`): it adds a line to the file it is given.
ctsh "printf '%s\n' '#!/bin/sh' 'echo \"Keep NOTES.md under one page.\" >>\"\$1\"' >/usr/local/bin/editor
    chmod 755 /usr/local/bin/editor"

# as_script: the block as one shell script that shows each command it runs and stops at the first
# line that fails, in any of its parts (`set -e` alone lets `a && b` go on when a fails); a line
# that follows (--follow) runs for 3 s, as if ended with Ctrl-C.
as_script() {
    printf 'set -x\n'
    local line
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        if [[ $line == *--follow* ]]; then
            printf '{ timeout 3 %s || [ $? = 124 ]; } || exit 1\n' "$line"
        else
            printf '{ %s\n} || exit 1\n' "$line"
        fi
    done
}

# what_it_printed OUTPUT MANAGER: every line ran and did its part.
what_it_printed() {
    local out=$1 manager=$2 expect
    for expect in "wrote .*/research.toml" "research: ok" "generated research" \
        "started research .*first round running" "enabled research" "^research  *[a-z(_)]*  *1 " \
        "round 1 summary: ok.*the loop stops (.agent-done is there)" "round 1 ended: ok" \
        "example agent: round 1 of research" "stopped research in"; do
        grep -q -- "$expect" <<<"$out" || fail "$manager: the workflow did not print '$expect':
$out"
    done
}

log "the Workflow block as root (system manager)"
out=$(as_script <<<"$workflow" | ct env HOME=/root bash 2>&1) || fail "root: a line of the workflow failed:
$out"
what_it_printed "$out" root
assert_state agent-runner-loop@research.service inactive
assert_state agent-runner@research.timer inactive
assert_eq "$(ct systemctl is-enabled agent-runner@research.service)" enabled "root: enabled"
assert_event research round_end outcome=ok

log "the Workflow block as $TEST_USER with --user and the files in the home, as the README says"
user_manager_up
user_workflow=$(sed -E -e 's#/srv/research#~/research#g' -e 's#/etc/agent-runner#~/.config/agent-runner#g' \
    -e 's/(^|[[:space:]])agent-runner([[:space:]]|$)/\1agent-runner --user\2/g' <<<"$workflow")
[[ $user_workflow == *"agent-runner --user start research"* ]] || fail "no --user start line: $user_workflow"
out=$(as_script <<<"$user_workflow" | as_user bash -c 'cd && exec bash' 2>&1) ||
    fail "$TEST_USER: a line of the --user workflow failed:
$out"
what_it_printed "$out" "$TEST_USER"
[[ $out == *"/home/$TEST_USER/.config/agent-runner/research.toml"* ]] || fail "--user init did not write into the home: $out"
assert_eq "$(as_user systemctl --user is-active agent-runner-loop@research.service)" inactive "user loop after stop"
assert_eq "$(as_user systemctl --user is-enabled agent-runner@research.service)" enabled "user: enabled"
