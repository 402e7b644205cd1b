# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# node-exporter's textfile: while /var/lib/prometheus/node-exporter is missing, rounds start
# nothing; once it exists (owned by another user, as Debian's prometheus-node-exporter makes it),
# the end of every round starts agent-runner-metrics.service, which replaces agent-runner.prom with
# the metrics of every project: promtool accepts it, it follows the rounds, and it is replaced
# atomically (a new file each time, never seen half written, no temporary file left behind).

command -v promtool >/dev/null || skip "promtool is not installed (tests/setup.sh installs prometheus)"
dir=/var/lib/prometheus/node-exporter
prom=$dir/agent-runner.prom
round_of() { ct cat "$prom" 2>/dev/null | awk -v p="agent_runner_round{project=\"$1\"}" '$1 == p { print $2 }'; }
round_past() { local r; r=$(round_of "$1"); [[ -n $r ]] && ((r > $2)); }

log "install the metrics unit and its user as the package does"
ct sh -c 'cat >/usr/lib/sysusers.d/agent-runner.conf && systemd-sysusers agent-runner.conf' <"$ROOT/packaging/sysusers/agent-runner.conf"
ct sh -c 'cat >/etc/systemd/system/agent-runner-metrics.service' <"$ROOT/units/system/agent-runner-metrics.service"
ct systemctl daemon-reload

log "without the textfile directory, rounds start nothing"
AGENT_ENV='FAKE_SLEEP = "1"' new_project alpha
new_project beta
ct agent-runner start alpha >/dev/null
wait_for 30 "two rounds of alpha" rounds_at_least 2 alpha
assert_eq "$(unit_prop agent-runner-metrics.service ExecMainStartTimestampMonotonic)" 0 "metrics runs without the directory"

log "with the directory (another user's, 0755), every round's end rewrites the textfile"
ct sh -c "mkdir -p $dir && chown nobody:nogroup $dir && chmod 0755 $dir"
wait_for 30 "the textfile" ct test -f "$prom"
ct cat "$prom" >"$WORK/first.prom"
promtool check metrics <"$WORK/first.prom" || fail "promtool rejects the textfile: $(head -20 "$WORK/first.prom")"
grep -q '^agent_runner_state{project="beta",state="stopped"} 1$' "$WORK/first.prom" ||
    fail "the textfile lacks the stopped project beta: $(grep agent_runner_state "$WORK/first.prom")"
grep -q '^agent_runner_recent_rounds{project="alpha",outcome="ok",classification=""} [1-9]' "$WORK/first.prom" ||
    fail "the textfile counts no ok round of alpha: $(grep recent_rounds "$WORK/first.prom")"
assert_eq "$(ct stat -c '%U %a' "$prom")" "agent-runner-web 644" "owner and mode of the textfile"
assert_eq "$(ct stat -c '%U %a' "$dir")" "nobody 755" "owner and mode of the directory"
assert_eq "$(unit_prop agent-runner-metrics.service Result)" success "result of the metrics unit"

log "later rounds replace it atomically: a new file each time, never half written"
inode=$(ct stat -c %i "$prom")
round=$(round_of alpha)
# A reader inside the container the whole time: every read must end with the last family.
ctsh "for i in \$(seq 400); do tail -n1 $prom; sleep 0.02; done" >"$WORK/reads" &
reader=$!
wait_for 60 "the textfile to follow alpha's rounds past round $round" round_past alpha "$round"
wait "$reader" || fail "the reader failed"
bad=$(grep -cv '^agent_runner_config_errors 0$' "$WORK/reads" || true)
assert_eq "$bad" 0 "reads of a half-written textfile (of $(wc -l <"$WORK/reads"))"
[[ $(ct stat -c %i "$prom") != "$inode" ]] || fail "the textfile was rewritten in place"
left=$(ct find "$dir" -mindepth 1 ! -name agent-runner.prom)
assert_eq "$left" "" "files left beside the textfile"
ct cat "$prom" | promtool check metrics || fail "promtool rejects the rewritten textfile"

log "the round's own sandbox stayed closed: the round unit cannot write there"
writable=$(unit_prop agent-runner@alpha.service ReadWritePaths)
[[ $writable != *prometheus* ]] || fail "the round may write to the textfile directory: $writable"
ct agent-runner stop alpha >/dev/null
