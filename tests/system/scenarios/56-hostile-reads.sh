# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The agent against root's read commands. Under the real units, an agent plants links to a file
# only root may read in its log directory; then its user puts links, FIFOs, a link to /dev/zero
# and garbage where the state file, a round log and the mirror are. Root's status, peek, logs,
# events and diagnose leak nothing, end within a bound, and name what they could not read (exit
# 1). And a user who may not read the state, the logs or the journal is told so, where it used to
# be told "healthy" or nothing at all.

n=planted
logdir=/var/log/agent-runner/$n
statedir=/var/lib/agent-runner/$n
ctsh 'printf "{\"round\": 4242, \"last_error\": \"TOP-SECRET-4242\"}\n" >/root/secret.json
    echo "TOP-SECRET-4242" >/root/secret.log
    chmod 600 /root/secret.json /root/secret.log'
AGENT=/usr/local/lib/agent-runner-test/planting-agent new_project $n 'max_rounds = 2'
ctsh "chmod a+r /etc/agent-runner/$n.toml"
ct agent-runner start $n >/dev/null || fail "start failed"
wait_event $n max_rounds_reached 30
wait_for 10 "the loop of $n to halt" is_state "agent-runner-loop@$n.service" inactive
ct test -L $logdir/rounds/round-99.log || fail "the agent could not plant its link in $logdir/rounds"

# read_cmd STATUS [--as USER] ARGS...: `agent-runner ARGS` in the container (as root, or as USER),
# ended after 20 s; its stdout in $out, its stderr in $err. Fails on a hang, on the root-only file
# in either, or on another exit status.
read_cmd() {
    local want=$1 rc=0
    local -a as=()
    shift
    if [[ $1 == --as ]]; then
        as=(runuser -u "$2" --)
        shift 2
    fi
    out=$(ct timeout 20 "${as[@]}" agent-runner "$@" 2>"$WORK/stderr") || rc=$?
    err=$(<"$WORK/stderr")
    [[ $rc != 124 ]] || fail "agent-runner $* did not end within 20 s"
    [[ "$out$err" != *TOP-SECRET* ]] || fail "agent-runner $* printed the root-only file: $out $err"
    [[ $rc == "$want" ]] || fail "agent-runner $* exited $rc, expected $want: $out $err"
}
# says TEXT...: the stderr of the last read_cmd holds each TEXT.
says() {
    local text
    for text in "$@"; do
        [[ $err == *"$text"* ]] || fail "stderr lacks '$text': $err"
    done
}
# As the agent's user: what the agent itself could do.
plant() { ct runuser -u "$TEST_USER" -- sh -c "$1" || fail "could not plant: $1"; }

log "a user who may read neither the state nor the logs nor the journal is told so"
ct chmod 700 $statedir $logdir
read_cmd 0 status $n
[[ $out == *"halted(max_rounds)"* ]] || fail "root's status: $out"
read_cmd 1 --as nobody status $n
says "cannot read $statedir/state.json: permission denied — run it with sudo"
[[ $out == *"(partial view)"* ]] || fail "the partial status is not marked: $out"
read_cmd 1 --as nobody status $n --json
# `jq -en 'input | F'`: no answer at all fails the check, where `jq -e F` would pass it.
jq -en 'input | .unreadable | map(.source) | index("state") != null' <<<"$out" >/dev/null ||
    fail "status --json does not name the state as unreadable: $out"
read_cmd 1 --as nobody events $n
says "cannot read /var/log/journal: only your own entries are readable — run it with sudo, or join group systemd-journal (or adm)" \
    "cannot read $logdir"
[[ -z $out ]] || fail "events printed as if it had seen: $out"
read_cmd 1 --as nobody diagnose $n
[[ $out != *"$n: healthy"* ]] || fail "diagnose said healthy without seeing: $out"
says "permission denied"
read_cmd 1 --as nobody logs $n
says "cannot read $logdir" "permission denied"
ct chmod 755 $statedir $logdir

log "links the agent planted in its round: no round log is read through them"
read_cmd 1 logs $n
says "round-99.log: is a symbolic link"
read_cmd 1 logs $n --round 99
read_cmd 0 logs $n --round 2
[[ $out == *"planting agent: round 2 done"* ]] || fail "logs --round 2: $out"
read_cmd 1 peek $n --log
says "round-99.log: is a symbolic link"
read_cmd 0 events $n

log "the state file a link to a root-only file"
plant "ln -sfn /root/secret.json $statedir/state.json"
for args in "status $n" "status" "peek $n --json" "diagnose $n --json"; do
    # shellcheck disable=SC2086 # the words of $args are the arguments
    read_cmd 1 $args
    says "state.json: is a symbolic link"
done
jq -en 'input | .healthy == false and .failed_layer == "unit_state"' <<<"$out" >/dev/null ||
    fail "diagnose of an unreadable state: $out"

log "FIFOs in place of the state file, a round log and the mirror's rotation"
plant "rm -f $statedir/state.json $logdir/rounds/round-99.log
    mkfifo $statedir/state.json $logdir/rounds/round-99.log $logdir/events.jsonl.1"
read_cmd 1 status $n
says "state.json: is a FIFO, not a regular file" "events.jsonl.1: is a FIFO, not a regular file"
read_cmd 1 peek $n
read_cmd 1 logs $n
says "round-99.log: is a FIFO, not a regular file"
read_cmd 1 diagnose $n
read_cmd 0 events $n

log "links to /dev/zero, then garbage"
plant "rm -f $statedir/state.json $logdir/rounds/round-99.log $logdir/events.jsonl.1
    ln -s /dev/zero $statedir/state.json; ln -s /dev/zero $logdir/rounds/round-99.log"
read_cmd 1 status $n
read_cmd 1 logs $n --json
[[ -z $out ]] || fail "logs printed $(wc -c <<<"$out") bytes through a link to /dev/zero"
plant "rm -f $statedir/state.json $logdir/rounds/round-99.log
    head -c 100000 /dev/urandom >$statedir/state.json"
read_cmd 1 status $n
says "state.json: is not a JSON object"
plant "rm -f $statedir/state.json"
read_cmd 0 status $n

log "the round and the after-round step against garbage state and a FIFO halt request"
round2=$(ct cat $logdir/rounds/round-2.log)
plant "head -c 100000 /dev/urandom >$statedir/state.json; rm -f $statedir/halt-request; mkfifo $statedir/halt-request"
ct agent-runner start $n >/dev/null || fail "start over a garbage state failed"
wait_event $n state_recovered 30
# The agent's round-99.log link is gone (above): the logs say round 2 was the last.
wait_for 30 "round 3 to end" bash -c \
    "$SANDBOX exec journalctl -q --no-pager -o cat AGENT_RUNNER_PROJECT=$n AGENT_RUNNER_EVENT=round_end AGENT_RUNNER_ROUND=3 | grep -q ."
recovered=$(journal_events $n state_recovered | jq -rs '.[-1].AGENT_RUNNER_RECOVERED_ROUND')
assert_eq "$recovered" 2 "the round recovered from the round logs"
wait_event $n max_rounds_reached 30 2
wait_for 20 "the loop to halt again" \
    bash -c "[[ \$($SANDBOX exec systemctl show -p ActiveState --value agent-runner@$n.service) == inactive ]]"
wait_for 10 "the step after the last round" after_round_done $n
assert_eq "$(unit_prop agent-runner-after@$n.service Result)" success "the after-round step over a recovered state"
assert_eq "$(unit_prop agent-runner-loop@$n.service Result)" success "the loop unit's start over a garbage state"
assert_eq "$(journal_count $n round_end)" 4 "round_end events: two rounds, then two of the new loop (max_rounds 2)"
assert_eq "$(ct cat $logdir/rounds/round-2.log)" "$round2" "round-2.log after the recovered round"
ct grep -q "planting agent: round 3 done" $logdir/rounds/round-3.log || fail "round-3.log: $(ct ls -l $logdir/rounds)"
ct journalctl -q --no-pager -o cat | grep -q TOP-SECRET && fail "the journal holds the root-only file"
ct agent-runner stop --now $n >/dev/null 2>&1 || true
