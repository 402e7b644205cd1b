# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Notifications under systemd: a project that reaches max_rounds halts, and a webhook receiver on
# loopback inside the container (python3's http.server) gets loop_halted as JSON from
# agent-runner-notify@NAME.service, run as its own user; the URL's secret reaches no event, no
# log and no unit file. With the receiver dead the notifier logs notify_failed and systemd's
# restart delivers once it is back. A second project gets the ntfy body, its URL from a systemd
# credential.
port=8931
requests=/srv/hook/requests.log

log "the notifier's user as the package makes it; a webhook receiver on loopback"
ct sh -c 'cat >/usr/lib/sysusers.d/agent-runner.conf && systemd-sysusers agent-runner.conf' <"$ROOT/packaging/sysusers/agent-runner.conf"
ct mkdir -p /srv/hook
ct sh -c 'cat >/srv/hook/receiver.py' <<'PY'
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "type": self.headers.get("Content-Type"),
                                "title": self.headers.get("Title"), "body": body.decode()}) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
listening() { ct bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"; }
receiver_up() {
    ct systemd-run --quiet --unit=hook-receiver python3 /srv/hook/receiver.py "$port" "$requests"
    wait_for 10 "the receiver to listen" listening
}
# posts FILTER: how many requests the receiver logged that FILTER selects.
posts() { ct cat "$requests" 2>/dev/null | jq_count "$1"; }
posts_at_least() { (($(posts "$2") >= $1)); }
halted_json='.path == "/hook?auth=SECRET" and .type == "application/json" and (.body | fromjson | .event == "loop_halted" and .reason == "max_rounds" and .project == "nt")'
receiver_up

log "a loop that reaches max_rounds: the receiver gets loop_halted as JSON"
new_project nt 'max_rounds = 2' '' '[notify]' \
    "webhook = \"http://127.0.0.1:$port/hook?auth=SECRET\"" 'on = ["loop_halted"]' 'dedup_window_s = 0'
ct systemctl cat agent-runner-halt@nt.service | grep -q '^OnSuccess=agent-runner-notify@nt.service$' ||
    fail "the halt unit of nt does not start the notifier"
ct agent-runner start nt >/dev/null
wait_for 60 "loop_halted at the receiver" posts_at_least 1 "$halted_json"
assert_event nt notify_sent notified=loop_halted
assert_eq "$(posts 'true')" 1 "requests after one halt"
assert_eq "$(ct stat -c '%U %a' /var/lib/agent-runner-notify/nt.json)" "agent-runner-notify 600" "the notifier's store"
assert_eq "$(unit_prop agent-runner-notify@nt.service Result)" success "result of the notifier"
if ct journalctl --no-pager -o json | grep -q SECRET; then fail "the webhook's secret is in the journal"; fi
if ct systemctl cat 'agent-runner*' | grep -q SECRET; then fail "the webhook's secret is in a unit file"; fi

log "a dead receiver: notify_failed, then systemd's restart delivers once it is back"
ct systemctl stop hook-receiver
ct mkdir -p /etc/systemd/system/agent-runner-notify@nt.service.d
ct sh -c 'printf "[Service]\nRestartSec=3\n" >/etc/systemd/system/agent-runner-notify@nt.service.d/fast.conf'
ct systemctl daemon-reload
ct agent-runner start nt >/dev/null
wait_event nt notify_failed 90
assert_event nt notify_failed notified=loop_halted "target=webhook http://127.0.0.1:$port/…" attempts=3
receiver_up
wait_for 60 "the retried loop_halted at the receiver" posts_at_least 2 "$halted_json"
wait_event nt notify_sent 10 2
ct journalctl --no-pager -u agent-runner-notify@nt.service | grep -q "Scheduled restart job" ||
    fail "systemd did not restart the notifier: the delivery came from elsewhere"
if ct journalctl --no-pager -o json | grep -q SECRET; then fail "the webhook's secret is in the journal"; fi

log "ntfy's body, the URL from a systemd credential"
ct sh -c "mkdir -p /etc/agent-runner-secrets && printf 'http://127.0.0.1:$port/alerts-SECRET\n' >/etc/agent-runner-secrets/nf.url && chmod 600 /etc/agent-runner-secrets/nf.url"
ct mkdir -p /etc/systemd/system/agent-runner-notify@nf.service.d
ct sh -c 'printf "[Service]\nLoadCredential=hook:/etc/agent-runner-secrets/nf.url\n" >/etc/systemd/system/agent-runner-notify@nf.service.d/url.conf'
new_project nf 'max_rounds = 1' '' '[notify]' 'webhook_credential = "hook"' 'format = "ntfy"' 'on = ["loop_halted"]'
ct agent-runner start nf >/dev/null
ntfy='.path == "/alerts-SECRET" and (.type | startswith("text/plain")) and .title == "agent-runner nf: loop_halted" and (.body | startswith("loop of nf halted"))'
wait_for 60 "the ntfy request" posts_at_least 1 "$ntfy"
assert_event nf notify_sent notified=loop_halted
if ct journalctl --no-pager -o json | grep -q SECRET; then fail "the credential's URL is in the journal"; fi

log "between rounds: the watch service raises a stale-loop alert and starts the notifier"
stale_json='.path == "/stale" and (.body | fromjson | .event == "alert_raised" and .detector == "stale_loop" and .project == "ns")'
new_project ns 'restart_delay_s = 2' '' '[notify]' \
    "webhook = \"http://127.0.0.1:$port/stale\"" 'on = ["alert_raised"]' 'dedup_window_s = 0'
ct agent-runner start ns >/dev/null
wait_event ns round_end 20
ct systemctl stop agent-runner@ns.timer
wait_for 10 "the round of ns to end" is_state agent-runner@ns.service inactive
sent_before=$(posts 'true')
ct systemctl start agent-runner-watch.service || fail "the watch service failed"
assert_event ns alert_raised detector=stale_loop
wait_for 30 "the stale-loop alert at the receiver" posts_at_least 1 "$stale_json"
ct systemctl start agent-runner-watch.service || fail "the watch service failed"
sleep 3
assert_eq "$(posts 'true')" "$((sent_before + 1))" "requests after two watches of one stale loop"
