# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# Schedule windows: a pause window over now parks the loop on the back-off timer a rate limit uses
# (schedule_paused once, no agent started, status shows the next start), and the window's end,
# a whole minute of the container's clock less than a minute and a half away, resumes it by
# itself (schedule_resumed, then the agent runs).

log "a pause window over now parks the loop until it ends"
n=windows
now=$(ct date +%s) || fail "the container's clock"
# The pause ends at the next whole minute, or the one after when the next is under 20 s away; it
# began a minute before now (a window over midnight wraps, which is fine).
end=$(((now / 60 + 1) * 60))
((end - now < 20)) && end=$((end + 60))
hhmm() { date -u -d "@$1" +%H:%M; }
AGENT_ENV='FAKE_MODE = "ok"' new_project $n 'restart_delay_s = 2' '[schedule]' \
    'run_windows = ["00:00-24:00"]' \
    "pause_windows = [\"$(hhmm $((now - 60)))-$(hhmm "$end")\"]" 'timezone = "UTC"'
ct systemctl start agent-runner@$n 2>/dev/null || true
wait_event $n schedule_paused 20
assert_event $n schedule_paused reason=pause_window resume_at="$end" timezone=UTC
wait_for 5 "the back-off timer" is_state agent-runner-backoff@$n.timer active
assert_state agent-runner@$n.timer inactive
assert_eq "$(agent_rounds $n)" 0 "agent runs during the pause"
assert_no_event $n agent_spawn
status=$(ct agent-runner status $n) || fail "status $n failed"
grep -qF "next start $(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)" <<<"$status" ||
    fail "status does not show the next start: $status"
json=$(ct agent-runner status $n --json) || fail "status --json failed"
assert_eq "$(jq -r '.schedule_pause.resume_at' <<<"$json")" "$end" "status --json next start"
assert_eq "$(jq -r '.schedule_pause.timezone' <<<"$json")" UTC "status --json zone"

log "the pause window's end resumes the loop"
wait_event $n schedule_resumed $((end - $(date +%s) + 20))
wait_for 10 "a round after the pause" rounds_at_least 1 $n
assert_eq "$(journal_count $n schedule_paused)" 1 "schedule_paused events (once per pause)"
first=$(journal_events $n agent_spawn | head -1 | jq -r '.__REALTIME_TIMESTAMP | tonumber / 1000000 | floor')
((first >= end)) || fail "the agent started at $first, before the pause ended at $end"
ct systemctl stop agent-runner@$n
