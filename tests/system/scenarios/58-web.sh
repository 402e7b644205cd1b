# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The status page under systemd: agent-runner-web.socket starts the service on the first request,
# the service exits when idle (no process of ours left) and the socket starts it again; the JSON
# API lists every project; `promtool check metrics` accepts /metrics; headless Chromium loads `/`
# and `/p/NAME` against projects in several states (running, waiting, halted, stopped), the DOM
# shows each, and what a project wrote (a hostile narrative) is text, not markup. Screenshots go to
# $ARTIFACT_DIR (default target/system-artifacts/web/), kept for CI.
#
# The container has its own network namespace; the host's chromium, curl and promtool reach its
# loopback by entering only that namespace (nsenter -n), so nothing is installed inside.

command -v chromium >/dev/null || skip "chromium is not installed (tests/setup.sh installs it)"
command -v promtool >/dev/null || skip "promtool is not installed (tests/setup.sh installs prometheus)"
ARTIFACT_DIR=${ARTIFACT_DIR:-$ROOT/target/system-artifacts/web}
mkdir -p "$ARTIFACT_DIR"
port=8765
url=http://127.0.0.1:$port

# in_net CMD...: runs a host command inside the container's network namespace.
in_net() { nsenter -t "$(sandbox pid)" -n "$@"; }
fetch() { in_net curl -sS --max-time 20 "$@"; }
browser() {
    # Root on the host: chromium's own sandbox needs user namespaces it may not get here.
    in_net timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$WORK/chromium" "$@" 2>>"$WORK/chromium.log"
}
web_pids() { ct pgrep -f '^/usr/bin/agent-runner web' || true; }

log "install the socket, the service and its user as the package does, with a short idle exit"
ct sh -c 'cat >/usr/lib/sysusers.d/agent-runner.conf && systemd-sysusers agent-runner.conf' <"$ROOT/packaging/sysusers/agent-runner.conf"
for unit in agent-runner-web.socket agent-runner-web.service; do
    ct sh -c "cat >/etc/systemd/system/$unit" <"$ROOT/units/system/$unit"
done
ct mkdir -p /etc/systemd/system/agent-runner-web.service.d
ct sh -c 'printf "[Service]\nExecStart=\nExecStart=/usr/bin/agent-runner web --idle-exit 4\n" >/etc/systemd/system/agent-runner-web.service.d/idle.conf'
ct systemctl daemon-reload

log "projects in several states"
AGENT_ENV='FAKE_SLEEP = "600"' new_project busy
AGENT_ENV='FAKE_SLEEP = "1"' new_project waiter 'restart_delay_s = 600' 'narrative_file = "/srv/waiter/NARRATIVE.md"'
ctsh "printf '%s\n' 'plan: <script>alert(1)</script>' '\"><img src=x onerror=alert(2)>' >/srv/waiter/NARRATIVE.md && chown $TEST_USER: /srv/waiter/NARRATIVE.md"
AGENT_ENV='FAKE_SLEEP = "1"' new_project stopper 'stop_file = "/srv/stopper/STOP"'
new_project idle
ct agent-runner start busy >/dev/null
ct agent-runner start waiter >/dev/null
ct agent-runner start stopper >/dev/null
ct touch /srv/stopper/STOP
state_is() { [[ $(ct agent-runner status "$1" --json | jq -r .state) == "$2" ]]; }
wait_for 20 "busy running" state_is busy running
wait_for 20 "waiter waiting" state_is waiter waiting
wait_for 20 "stopper halted" state_is stopper halted

log "the socket listens; the service is not running before the first request"
ct systemctl start agent-runner-web.socket
assert_eq "$(active_state agent-runner-web.socket)" active "socket"
assert_eq "$(active_state agent-runner-web.service)" inactive "service before the first request"
[[ -z $(web_pids) ]] || fail "a web process runs before any request"

log "the first request starts the service: the JSON API lists every project"
api=$(fetch -f "$url/api/v1/projects") || fail "GET /api/v1/projects failed: $(fetch "$url/api/v1/projects")"
assert_eq "$(active_state agent-runner-web.service)" active "service after the first request"
assert_eq "$(jq -r 'map(.project) | sort | join(",")' <<<"$api")" "busy,idle,stopper,waiter" "projects in the API"
assert_eq "$(jq -r '.[] | select(.project == "stopper") | .reason' <<<"$api")" stop_file "stopper's reason"
one=$(fetch -f "$url/api/v1/projects/waiter") || fail "GET /api/v1/projects/waiter failed"
jq -en 'input | .project == "waiter" and (.recent_rounds | length) >= 1 and (.narrative | length) == 2' <<<"$one" >/dev/null ||
    fail "the project's document lacks rounds or narrative: $one"
assert_eq "$(fetch -o /dev/null -w '%{http_code}' "$url/p/nosuch")" 404 "an unknown project"

log "promtool accepts /metrics"
fetch -f "$url/metrics" >"$WORK/metrics.prom" || fail "GET /metrics failed"
promtool check metrics <"$WORK/metrics.prom" || fail "promtool rejects /metrics: $(head -20 "$WORK/metrics.prom")"
grep -q '^agent_runner_state{project="busy",state="running"} 1$' "$WORK/metrics.prom" ||
    fail "no running state for busy in: $(grep agent_runner_state "$WORK/metrics.prom")"
grep -q '^agent_runner_halted{project="stopper",reason="stop_file"} 1$' "$WORK/metrics.prom" ||
    fail "no halt of stopper in the metrics"

log "Chromium: the overview, problems first"
browser --dump-dom "$url/" >"$WORK/index.html" || fail "chromium could not load /: $(tail -5 "$WORK/chromium.log")"
for pair in busy:running waiter:waiting stopper:halted idle:stopped; do
    grep -q "data-project=\"${pair%%:*}\" data-state=\"${pair#*:}\"" "$WORK/index.html" ||
        fail "the page does not show ${pair%%:*} ${pair#*:}: $(grep -o '<tr class="project"[^>]*>' "$WORK/index.html")"
done
order=$(grep -o 'data-project="[a-z]*"' "$WORK/index.html" | cut -d'"' -f2 | paste -sd,)
[[ $order == stopper,* ]] || fail "the halted project is not listed first: $order"
browser --screenshot="$ARTIFACT_DIR/index.png" --window-size=1280,800 "$url/" >/dev/null ||
    fail "no screenshot of /"

log "Chromium: one project, its timeline, and its hostile narrative as text"
browser --dump-dom "$url/p/waiter" >"$WORK/waiter.html" || fail "chromium could not load /p/waiter"
grep -q '<svg id="timeline"' "$WORK/waiter.html" || fail "no timeline on /p/waiter"
grep -q '<rect class="round" data-outcome="ok"' "$WORK/waiter.html" || fail "no ok round in the timeline"
grep -q 'plan: &lt;script&gt;alert(1)&lt;/script&gt;' "$WORK/waiter.html" ||
    fail "the narrative is not shown as text: $(grep -A3 'id="narrative"' "$WORK/waiter.html")"
grep -q '<img' "$WORK/waiter.html" && fail "the narrative's markup reached the DOM"
grep -q 'id="events" data-src="/p/waiter/events"' "$WORK/waiter.html" || fail "no live event list"
browser --screenshot="$ARTIFACT_DIR/project.png" --window-size=1280,1400 "$url/p/waiter" >/dev/null ||
    fail "no screenshot of /p/waiter"
log "screenshots: $ARTIFACT_DIR/index.png, $ARTIFACT_DIR/project.png"

log "idle: the service exits, nothing of ours is left, the socket stays"
wait_for 30 "the web service to exit when idle" is_state agent-runner-web.service inactive
[[ -z $(web_pids) ]] || fail "web processes left after the idle exit: $(web_pids)"
assert_eq "$(unit_prop agent-runner-web.service Result)" success "result of the idle exit"
assert_eq "$(active_state agent-runner-web.socket)" active "socket after the idle exit"
fetch -f -o /dev/null "$url/" || fail "the socket did not start the service again"
assert_eq "$(active_state agent-runner-web.service)" active "service after a request past the idle exit"
