# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The README's demo command on a machine whose PID 1 is systemd (here: the container): three
# rounds of the bundled agent, their events printed, the status page served and its address
# printed (the demo checks that it answers), and nothing left behind.
out=$(ct env AGENT_RUNNER_BIN=/usr/bin/agent-runner /repo/packaging/demo/run.sh 2>&1) ||
    fail "the demo failed: $out"
# shellcheck disable=SC2001 # indents every line; ${var//…} has no start-of-line anchor
sed 's/^/    /' <<<"$out" | grep -v '^    $' | head -60
for r in 1 2 3; do
    grep -q "round $r ended: ok" <<<"$out" || fail "the demo printed no round_end of round $r"
done
grep -q "max_rounds_reached" <<<"$out" || fail "the demo printed no max_rounds_reached"
grep -q "agent-runner round 3" <<<"$out" || fail "the demo's agent left no commit of round 3"
grep -q "the status page: http://127.0.0.1:8765/" <<<"$out" || fail "the demo did not end with the page's address"
leftovers=$(ctsh 'ls -d /etc/agent-runner/demo.toml /etc/systemd/system/agent-runner* /var/lib/agent-runner* /var/log/agent-runner* 2>/dev/null; systemctl list-units --all --no-legend "agent-runner*"')
[[ -z $leftovers ]] || fail "the demo left things behind: $leftovers"
