# shellcheck shell=bash
# The system scenarios' library: boot a real systemd 252 in nspawn, drive it, assert on it.
# Sourced by tests/system/run.sh (which runs each scenario in its own fresh boot) and by the
# scenarios themselves. Every assertion fails the scenario with a message naming what was expected.

SYSTEM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SYSTEM_DIR/../.." && pwd)
SANDBOX=$SYSTEM_DIR/sandbox.sh
export SANDBOX_NAME=${SANDBOX_NAME:-agent-runner-test}
# git for the projects' work trees; python3 for the fake model provider (tests/provider/), which
# the scenarios with real agent CLIs run inside the container, where their loopback is.
export SANDBOX_EXTRA_PACKAGES=${SANDBOX_EXTRA_PACKAGES-git python3}
# The binary under test (run.sh builds it).
BIN=${AGENT_RUNNER_BIN:-$ROOT/target/debug/agent-runner}
# The round service's binary, built beside it.
ROUND_BIN=$(dirname "$BIN")/agent-runner-round
# Host directory of this scenario: the persistent parts of the container live below it.
WORK=${WORK:-/tmp/agent-runner-system.$$}
# Inside the container.
AGENT=/usr/local/lib/agent-runner-test/fake-agent
TEST_USER=agent # created in the rootfs by sandbox.sh

log() { printf '  [%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() {
    printf '  FAIL: %s\n' "$*" >&2
    exit 1
}
# skip REASON: ends the scenario as skipped (run.sh's SKIP_STATUS), saying why; only for what the
# machine lacks (a tool tests/setup.sh installs), never for a behaviour that does not hold.
skip() {
    printf '  SKIP: %s\n' "$*"
    exit "$SKIP_STATUS"
}

sandbox() { "$SANDBOX" "$@"; }
# Run a command inside the container (as root).
ct() { "$SANDBOX" exec "$@"; }
# Run a shell snippet inside the container (as root).
ctsh() { "$SANDBOX" exec /bin/bash -c "$1"; }

# Boots the container. /etc/systemd/system, /etc/agent-runner and /srv persist across boots of one
# scenario (host dirs under $WORK bound in), so `reboot` shows what `systemctl enable` did; the
# binaries under test are bound read-only as /usr/bin/agent-runner and /usr/bin/agent-runner-round,
# the repository as /repo.
boot() {
    local rootfs
    rootfs=$(sandbox build)
    mkdir -p "$WORK/etc-agent-runner" "$WORK/srv"
    if [[ ! -d $WORK/etc-systemd-system ]]; then
        cp -a "$rootfs/etc/systemd/system" "$WORK/etc-systemd-system"
    fi
    SANDBOX_BIND="$WORK/etc-systemd-system:/etc/systemd/system $WORK/etc-agent-runner:/etc/agent-runner $WORK/srv:/srv" \
        SANDBOX_BIND_RO="$BIN:/usr/bin/agent-runner $ROUND_BIN:/usr/bin/agent-runner-round $SYSTEM_DIR/agents:/usr/local/lib/agent-runner-test $ROOT:/repo" \
        sandbox up 2>&1 | sed 's/^/  /' >&2
    [[ ${PIPESTATUS[0]} == 0 ]] || fail "the sandbox did not boot"
    # The journal catalog of the event kinds, when it exists: journalctl -x shows it.
    local catalog
    for catalog in "$ROOT"/packaging/*.catalog "$ROOT"/target/*.catalog; do
        [[ -f $catalog ]] || continue
        ct sh -c 'mkdir -p /usr/lib/systemd/catalog && cat >/usr/lib/systemd/catalog/agent-runner.catalog && journalctl --update-catalog' <"$catalog"
        break
    done
}

shutdown() { sandbox down 2>&1 | sed 's/^/  /' >&2 || true; }
# The scenario's EXIT trap: on failure, the container's recent journal, then shutdown.
finish() {
    local rc=$?
    if ((rc == 0)); then
        (check_message_ids) || rc=1
    fi
    if ((rc != 0 && rc != SKIP_STATUS)); then
        echo "  --- the container's journal (last 80 lines) ---"
        ct journalctl --no-pager -n 80 -o short-monotonic 2>/dev/null | sed 's/^/  | /'
    fi
    [[ ${KEEP_SANDBOX:-0} == 1 ]] || shutdown
    exit "$rc"
}

# Every agent-runner event the scenario produced carries the MESSAGE_ID the catalog gives its kind
# (and a project); prints the kinds seen. It runs in finish's `(…) || rc=1`, where `set -e` is off:
# each step checks its own status.
check_message_ids() {
    local journal kinds kind id project
    journal=$(ct journalctl -o json --no-pager) || fail "journalctl -o json failed in the container"
    kinds=$(jq -r 'select(.AGENT_RUNNER_EVENT != null) | "\(.AGENT_RUNNER_EVENT) \(.MESSAGE_ID) \(.AGENT_RUNNER_PROJECT // "")"' <<<"$journal") ||
        fail "jq could not read the container's journal"
    kinds=$(sort -u <<<"$kinds")
    [[ -n $kinds ]] || return 0
    while read -r kind id project; do
        [[ $(message_id "$kind") == "$id" ]] ||
            fail "event $kind was logged with MESSAGE_ID $id; the catalog says '$(message_id "$kind")'"
        [[ -n $project ]] || fail "event $kind was logged without AGENT_RUNNER_PROJECT"
    done <<<"$kinds"
    log "event kinds in the journal: $(cut -d' ' -f1 <<<"$kinds" | sort -u | paste -sd' ')"
}
# A second boot with the same persistent directories.
reboot() {
    shutdown
    boot
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
    local secs=$1 what=$2 deadline
    shift 2
    deadline=$(($(date +%s%N) + secs * 1000000000))
    until "$@" >/dev/null 2>&1; do
        (($(date +%s%N) < deadline)) || fail "timed out after ${secs}s waiting for: $what"
        sleep 0.1
    done
}

unit_prop() { ct systemctl show -p "$2" --value "$1"; }
active_state() { unit_prop "$1" ActiveState; }
is_state() { [[ $(active_state "$1") == "$2" ]]; }
assert_state() {
    local got
    got=$(active_state "$1")
    [[ $got == "$2" ]] || fail "$1 is $got, expected $2"
}
assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: got '$1', expected '$2'"; }

# after_round_done NAME: the step after NAME's last round is done (no after unit runs or is
# queued). Meaningful once the round service is down: its end queues the step at once.
after_round_done() {
    local u
    for u in "agent-runner-after@$1.service" "agent-runner-after-failure@$1.service"; do
        [[ $(active_state "$u") =~ ^(inactive|failed)$ ]] || return 1
        [[ -z $(ct systemctl list-jobs --no-legend "$u") ]] || return 1
    done
}

# The loop's units of project $1, as "service loop timer path" active states.
loop_states() {
    local n=$1
    ct systemctl show -p ActiveState --value "agent-runner@$n.service" "agent-runner-loop@$n.service" \
        "agent-runner@$n.timer" "agent-runner@$n.path" | grep . | paste -sd" "
}

# new_project NAME [TOML lines for [runtime]...] — writes /etc/agent-runner/NAME.toml (agent: the
# fake agent, run as the unprivileged test user in /srv/NAME, a git repository), then `generate`.
# Extra [agent.env] entries come from $AGENT_ENV (lines of KEY = "value").
new_project() {
    local name=$1
    shift
    ctsh "set -e
        mkdir -p /srv/$name /srv/prompts
        cd /srv/$name
        [ -d .git ] || { git init -q; git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init; }
        echo 'Work on the next task in the backlog, then commit what you changed.' >/srv/prompts/$name.md
        chown -R $TEST_USER: /srv/$name"
    {
        printf 'schema_version = 1\n\n[agent]\ncommand = ["%s"]\nprompt_delivery = "stdin"\n\n[agent.env]\n%s\n\n' \
            "$AGENT" "${AGENT_ENV:-}"
        printf '[runtime]\nwork_dir = "/srv/%s"\n' "$name"
        [[ " $* " == *" user = "* ]] || printf 'user = "%s"\n' "$TEST_USER"
        [[ " $* " == *"restart_delay_s = "* ]] || printf 'restart_delay_s = 1\n'
        printf '%s\n' "$@"
        printf '\n[prompt]\nfiles = ["/srv/prompts/%s.md"]\n' "$name"
    } >"$WORK/etc-agent-runner/$name.toml"
    ct agent-runner generate "$name" >/dev/null || fail "generate $name failed"
}

# claude_project NAME [TOML lines...]: a project whose agent is the fake claude (stream-json), so
# that its `cost` mode's total_cost_usd is read; the lines go after [runtime]'s.
claude_project() {
    new_project "$@"
    sed -i "s|^command = .*|command = [\"/usr/local/lib/agent-runner-test/claude\", \"--output-format\", \"stream-json\"]|" \
        "$WORK/etc-agent-runner/$1.toml"
    ct agent-runner generate "$1" >/dev/null || fail "generate $1 failed"
}

# set_account NAME ACCOUNT: `account = ACCOUNT` in NAME's [agent].
set_account() {
    sed -i "s|^prompt_delivery = .*|&\naccount = \"$2\"|" "$WORK/etc-agent-runner/$1.toml"
    ct agent-runner generate "$1" >/dev/null || fail "generate $1 failed"
}

# The fake agent's behaviour for the next rounds of project $1 (see agents/fake-agent).
agent_mode() { ctsh "echo '$2' >/srv/$1/fake-mode && chown $TEST_USER: /srv/$1/fake-mode"; }

# Rounds the fake agent ran for project $1; rounds_at_least N PROJECT for wait_for.
agent_rounds() { ctsh "cat /srv/$1/rounds.log 2>/dev/null | wc -l"; }
rounds_at_least() { (($(agent_rounds "$2") >= $1)); }

# The state file of project $1, one JSON field: state_field NAME KEY
state_field() { ct cat "/var/lib/agent-runner/$1/state.json" 2>/dev/null | jq -r ".$2"; }

# journal_events PROJECT EVENT: the journal entries of one event kind, one JSON object a line.
journal_events() { ct journalctl -o json --no-pager "AGENT_RUNNER_PROJECT=$1" "AGENT_RUNNER_EVENT=$2"; }
# journal_count PROJECT EVENT: how many there are. A query that fails prints nothing and fails the
# scenario (a count of 0 would pass assert_no_event).
journal_count() {
    local entries
    entries=$(journal_events "$1" "$2") || fail "journalctl failed reading $2 events of $1"
    awk 'NF { n++ } END { print n + 0 }' <<<"$entries"
}

# jq_count FILTER: how many of the JSON values on stdin FILTER selects (`jq -e` is no test: it
# exits 0 on empty input). A filter or input jq cannot read fails instead of counting 0.
jq_count() {
    local selected
    selected=$(jq -c "select($1)") || fail "jq could not apply select($1)"
    awk 'NF { n++ } END { print n + 0 }' <<<"$selected"
}

# The MESSAGE_ID of an event kind, from the journal catalog (packaging/agent-runner.catalog, which a
# unit test keeps equal to `agent-runner catalog`): each entry is `-- ID` … `Event KIND of project …`.
message_id() {
    awk -v kind="$1" '$1 == "--" && NF == 2 { id = $2 } $1 == "Event" && $2 == kind && $3 == "of" { print id; exit }' \
        "$ROOT/packaging/agent-runner.catalog"
}

# assert_event PROJECT EVENT [FIELD=VALUE...]: within 5 s, an entry of EVENT carries the kind's
# MESSAGE_ID, the project, and each FIELD=VALUE (AGENT_RUNNER_FIELD in the journal). Events of a
# helper unit may land a little after the state change that a scenario waited for.
assert_event() {
    local project=$1 event=$2 id entries count deadline
    shift 2
    id=$(message_id "$event")
    [[ -n $id ]] || fail "event kind $event is not in the catalog"
    local filter=".MESSAGE_ID == \"$id\" and .AGENT_RUNNER_PROJECT == \"$project\""
    local kv key value
    for kv in "$@"; do
        key=AGENT_RUNNER_$(tr '[:lower:]' '[:upper:]' <<<"${kv%%=*}")
        value=${kv#*=}
        filter+=" and (.$key | tostring) == $(jq -Rn --arg v "$value" '$v')"
    done
    deadline=$((SECONDS + 5))
    while :; do
        entries=$(journal_events "$project" "$event") || fail "journalctl failed reading $event events of $project"
        count=$(jq_count "$filter" <<<"$entries") || exit 1
        ((count > 0)) && return 0
        ((SECONDS < deadline)) || break
        sleep 0.2
    done
    [[ -n $entries ]] || fail "no $event event for $project in the journal"
    fail "no $event event of $project with MESSAGE_ID=$id $*; got: $(head -c 1500 <<<"$entries")"
}
assert_no_event() {
    local n
    n=$(journal_count "$1" "$2") || exit 1
    [[ $n == 0 ]] || fail "unexpected $2 event(s) for $1: $n"
}

# Waits until project $1 has emitted event $2 (at least $4 times, default 1), up to $3 seconds.
wait_event() {
    local project=$1 event=$2 secs=${3:-30} times=${4:-1}
    wait_for "$secs" "$times x $event of $project" \
        bash -c "(( \$(\"\$0\" exec journalctl -o cat --no-pager AGENT_RUNNER_PROJECT=$project AGENT_RUNNER_EVENT=$event | grep -c .) >= $times ))" "$SANDBOX"
}

# user_manager_up: makes $TEST_USER linger and waits for its user manager's bus.
user_manager_up() {
    # From a unit: logind 257 refuses SetUserLinger (EUNATCH) to a caller outside the container's
    # cgroup tree, which is where `exec` (nsenter) leaves a process.
    "$SANDBOX" run loginctl enable-linger "$TEST_USER"
    wait_for 10 "the user manager of $TEST_USER" ct test -S /run/user/1500/bus
}
# as_user CMD...: runs CMD in the container as $TEST_USER, talking to its own user manager.
as_user() {
    ct runuser -u "$TEST_USER" -- env XDG_RUNTIME_DIR=/run/user/1500 \
        DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1500/bus HOME="/home/$TEST_USER" "$@"
}
