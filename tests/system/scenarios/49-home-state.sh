# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The agent CLI's own state under the real units: the round may write exactly the state paths below
# its user's home (here claude's ~/.claude, with the global config moved into it by
# CLAUDE_CONFIG_DIR) and nothing else there. `check` names what is missing with the command that
# fixes it, and recognises the claude CLI in a project without a preset. One round: the writer's
# log is its last round's.
n=home
home=/home/$TEST_USER
new_project $n "max_rounds = 1"
sed -i "s|^command = .*|preset = \"claude\"\ncommand = [\"/usr/local/lib/agent-runner-test/state-writer\"]|" \
    "$WORK/etc-agent-runner/$n.toml"
ct agent-runner generate $n >/dev/null
# state_hints PROJECT: the hints of check's state-path warnings, one a line.
state_hints() {
    local json
    json=$(ct agent-runner check "$1" --json) || fail "check $1 failed: $json"
    jq -r '.problems[] | select(.check | startswith("state_path")) | .hint' <<<"$json"
}

log "check names the missing state directory and the command that creates it"
hint=$(state_hints $n)
assert_eq "$hint" "runuser -u $TEST_USER -- mkdir -p -m 0700 $home/.claude" "check's fix"
ctsh "$hint"
log "check tells to copy the global config an earlier login left in the home"
ctsh "echo '{\"oauthAccount\": {}}' >$home/.claude.json && chown $TEST_USER: $home/.claude.json"
hint=$(state_hints $n)
[[ $hint == "copy it once: runuser -u $TEST_USER -- cp -p $home/.claude.json $home/.claude/.claude.json" ]] ||
    fail "check's hint about ~/.claude.json: $hint"
ctsh "${hint#copy it once: }"
hint=$(state_hints $n)
assert_eq "$hint" "" "state-path hints once fixed"

log "a round writes its state below ~/.claude and nothing else of the home"
[[ $(unit_prop agent-runner@$n.service ReadWritePaths) == *"$home/.claude"* ]] ||
    fail "ReadWritePaths=: $(unit_prop agent-runner@$n.service ReadWritePaths)"
ct systemctl start agent-runner@$n
wait_for 10 "the state writer" ct test -s /srv/$n/state.log
wait_for 10 "round 1 to finish" is_state agent-runner@$n.service inactive
ct cat /srv/$n/state.log | sed 's/^/    /'
ct grep -qx "as $TEST_USER home $home config $home/.claude" /srv/$n/state.log ||
    fail "the agent did not run as $TEST_USER with CLAUDE_CONFIG_DIR=$home/.claude"
for file in .claude/.claude.json .claude/projects/session.jsonl .claude/.credentials.json; do
    ct grep -qx "WROTE $home/$file" /srv/$n/state.log || fail "the agent could not write $file in its home"
done
ct grep -q '"numStartups": 1' "$home/.claude/.claude.json" || fail "the agent did not replace .claude/.claude.json"
for file in .bashrc planted; do
    ct grep -qx "DENIED $home/$file" /srv/$n/state.log || fail "the agent could write $file in its home"
done
ct test ! -e "$home/planted" || fail "the agent created a file in its home"
if ct grep -q planted "$home/.bashrc"; then fail "the agent changed .bashrc"; fi
assert_eq "$(ct stat -c %U "$home/.claude/.claude.json")" "$TEST_USER" "owner of .claude/.claude.json"

log "a project running claude without a preset gets claude's state path, and check says why"
g=guess
new_project $g
sed -i "s|^command = .*|command = [\"/usr/local/lib/agent-runner-test/claude\", \"--output-format\", \"stream-json\"]|" \
    "$WORK/etc-agent-runner/$g.toml"
ct agent-runner generate $g >/dev/null
json=$(ct agent-runner check $g --json) || fail "check $g failed: $json"
note=$(jq -r '.problems[] | select(.check == "preset_inferred") | .message' <<<"$json")
[[ $note == *"runs the claude CLI, so rounds use its stop signal SIGINT"* ]] || fail "check's note: $note"
[[ $(unit_prop agent-runner@$g.service ReadWritePaths) == *"$home/.claude"* ]] ||
    fail "ReadWritePaths= of $g: $(unit_prop agent-runner@$g.service ReadWritePaths)"
