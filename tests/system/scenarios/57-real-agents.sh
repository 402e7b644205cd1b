# shellcheck shell=bash # sourced by tests/system/run.sh after lib.sh
# The real agent CLIs under the generated units: claude (with an API key, and with a subscription
# token) and codex, at their pinned versions, run as the unprivileged agent user against the fake
# provider (tests/provider/), which runs inside the container where the rounds' loopback is. Their
# credentials arrive by LoadCredential= and appear in no unit, argv, event or log; each CLI keeps
# its own state in its directory below the agent's home. Each project tells one story, all three
# at once:
# * claude with an API key: a round with its usage recorded; a burst of 429s that claude retries
#   (one agent_retrying) and gives up on, so the loop backs off and resumes by itself; then two
#   401s, which halt the loop with auth_failed;
# * claude with a subscription: the five-hour rejection parks the loop until the reset time the
#   provider gave (20 s away, not five hours), then the next round runs;
# * codex: a round with its usage recorded, then two 401s, which halt the loop with auth_failed.
real=$("$ROOT/tests/agents/real/install.sh" --installed 2>&1) || skip "${real#install.sh: }"
# shellcheck source=tests/agents/real/lib.sh # the knobs that cut the CLIs' retries to seconds
source "$ROOT/tests/agents/real/lib.sh"
creds=/etc/agent-runner/credentials
home=/home/$TEST_USER

log "the pinned CLIs ($real), and node for codex's launcher, on the PATH of the rounds"
sandbox bind "$real" "$real" ro
sandbox bind "$(readlink -f "$(command -v node)")" /usr/local/bin/node ro
ctsh "ln -s $real/bin/claude $real/bin/codex /usr/local/bin/"

# Secrets unique to this run, so that finding one anywhere is a leak and nothing else.
secret() { printf '%s%s' "$1" "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
api_key=$(secret sk-ant-api03-scenario57-)
oauth_token=$(secret sk-ant-oat01-scenario57-)
openai_key=$(secret sk-scenario57-)
(
    umask 077
    # shellcheck disable=SC2153 # WORK is run.sh's (the `work` of real/lib.sh is another)
    mkdir -p "$WORK/etc-agent-runner/credentials"
    printf '%s' "$api_key" >"$WORK/etc-agent-runner/credentials/anthropic.key"
    printf '%s' "$oauth_token" >"$WORK/etc-agent-runner/credentials/claude-subscription.token"
    printf '%s' "$openai_key" >"$WORK/etc-agent-runner/credentials/openai.key"
    printf '%s\n' "$api_key" "$oauth_token" "$openai_key" >"$WORK/secrets"
)
ct mkdir -p /run/leak-watch
ct sh -c 'umask 077 && cat >/run/leak-watch/secrets' <"$WORK/secrets"
ct systemd-run --quiet --unit=argv-watch /usr/local/lib/agent-runner-test/argv-watch \
    /run/leak-watch/secrets /run/leak-watch/argv

# provider_up NAME PORT SCRIPT: project NAME's own fake provider, a service in the container.
provider_up() {
    ct mkdir -p /run/fake-provider
    ct systemd-run --quiet --unit="fake-provider-$1" python3 /repo/tests/provider/fake_provider.py \
        --port "$2" --script "$3" --log "/run/fake-provider/$1.log" --port-file "/run/fake-provider/$1.port"
    wait_for 10 "the fake provider of $1" ct test -s "/run/fake-provider/$1.port"
}
# usage_events NAME ROUND: how many agent_usage_recorded events round ROUND of NAME has.
usage_events() { journal_events "$1" agent_usage_recorded | jq_count ".AGENT_RUNNER_ROUND == \"$2\""; }
# generations NAME: the generation requests project NAME's provider saw, one JSON object a line.
generations() { ct cat "/run/fake-provider/$1.log" | jq -c 'select(.action == "generate")'; }

# real_project NAME PRESET CREDENTIAL FILE [runtime lines...]: project NAME running the preset's
# real CLI (found on PATH, as an operator's install would be), its secret CREDENTIAL loaded from
# FILE; extra [agent.env] entries from $AGENT_ENV.
real_project() {
    local name=$1 preset=$2 credential=$3 file=$4
    shift 4
    new_project "$name" 'round_timeout_s = 180' "$@"
    sed -i "s|^command = .*|preset = \"$preset\"|" "$WORK/etc-agent-runner/$name.toml"
    printf '\n[agent.credentials]\n%s = "%s"\n' "$credential" "$file" >>"$WORK/etc-agent-runner/$name.toml"
    ct agent-runner generate "$name" >/dev/null || fail "generate $name failed"
}

log "the CLIs' state directories, as check asks an operator to make them; codex's provider"
ctsh "runuser -u $TEST_USER -- mkdir -p -m 0700 $home/.claude $home/.codex"
prepare_home codex "$WORK/codex-home" 47303
ct runuser -u "$TEST_USER" -- sh -c "cat >$home/.codex/config.toml" <"$WORK/codex-home/.codex/config.toml"

log "three projects, each with its provider: claude (API key), claude (subscription), codex"
provider_up claude 47301 "ok,rate_limit@1x$((CLAUDE_MAX_RETRIES + 1)),ok,401"
provider_up claude-sub 47302 "usage_limit@20,ok"
provider_up codex 47303 "ok,401"
claude_env() {
    printf '%s = "%s"\n' ANTHROPIC_BASE_URL "http://127.0.0.1:$1" \
        CLAUDE_CODE_MAX_RETRIES "$CLAUDE_MAX_RETRIES" API_TIMEOUT_MS "$CLAUDE_API_TIMEOUT_MS"
}
AGENT_ENV=$(claude_env 47301) real_project claude claude ANTHROPIC_API_KEY $creds/anthropic.key
AGENT_ENV=$(claude_env 47302) real_project claude-sub claude CLAUDE_CODE_OAUTH_TOKEN \
    $creds/claude-subscription.token 'max_rounds = 2'
real_project codex codex OPENAI_API_KEY $creds/openai.key
for n in claude claude-sub codex; do
    out=$(ct agent-runner check $n --json) || fail "check $n: $out"
    # Every valid project notes the systemd its units are rendered for; nothing else is expected.
    assert_eq "$(jq -r '.problems[] | select(.check != "systemd_version") | .check' <<<"$out" | paste -sd' ')" "" "what check finds in $n"
    ct systemctl cat agent-runner@$n.service | grep -q "^LoadCredential=[A-Z_]*:$creds/" ||
        fail "$n gets no credential by LoadCredential=: $(ct systemctl cat agent-runner@$n.service)"
done
started=$(date +%s)
for n in claude claude-sub codex; do ct systemctl start --no-block agent-runner@$n; done

log "claude: round 1 is ok, its usage recorded"
wait_event claude round_end 60
assert_event claude round_end round=1 outcome=ok
model=$(generations claude | jq -r .model | head -1)
assert_event claude agent_usage_recorded round=1 input_tokens=1200 output_tokens=56 "model=$model"
log "claude keeps its config and its session below ~/.claude, as the agent user"
session=$(ct find "$home/.claude/projects/-srv-claude" -name '*.jsonl' -user "$TEST_USER")
[[ -n $session ]] || fail "claude wrote no session of its own below ~/.claude: $(ct find "$home" -ls)"
ct grep -q '"firstStartVersion"' "$home/.claude/.claude.json" || fail "claude wrote no ~/.claude/.claude.json"
ct test ! -e "$home/.claude.json" || fail "claude wrote ~/.claude.json, outside its state directory"

log "codex: round 1 is ok, its usage recorded, its session below ~/.codex; two 401s halt the loop"
wait_event codex round_end 60
assert_event codex round_end round=1 outcome=ok
assert_event codex agent_usage_recorded round=1 input_tokens=1200 output_tokens=56
session=$(ct find "$home/.codex/sessions" -name 'rollout-*.jsonl' -user "$TEST_USER")
[[ -n $session ]] || fail "codex wrote no session of its own below ~/.codex: $(ct find "$home" -ls)"
wait_event codex loop_halted 60
assert_event codex round_end round=2 outcome=auth_fail verdict=back_off
assert_event codex round_end round=3 outcome=auth_fail verdict=halt
assert_event codex auth_failed round=3 consecutive=2
assert_event codex loop_halted reason=auth_failed

log "claude-sub: the five-hour rejection parks the loop until the reset time the provider gave"
wait_event claude-sub round_end 60
reset_at=$(generations claude-sub | jq -r 'select(.answer == "usage_limit") | .reset_at' | head -1)
((reset_at > started)) || fail "the provider gave no reset time: $(generations claude-sub)"
assert_event claude-sub round_end round=1 outcome=transient classification=rate_limit_account \
    verdict=back_off "until=$reset_at"
assert_event claude-sub transient_error_detected round=1 classification=rate_limit_account "reset_at=$reset_at"
assert_eq "$(usage_events claude-sub 1)" 0 "usage events of the rejected round"
wait_event claude-sub round_start 60 2
spawned=$(journal_events claude-sub agent_spawn | jq -r 'select(.AGENT_RUNNER_ROUND == "2") | .__REALTIME_TIMESTAMP')
((spawned >= reset_at * 1000000)) || fail "round 2 ran at $((spawned / 1000000)), before the reset at $reset_at"
wait_event claude-sub loop_halted 60
assert_event claude-sub round_end round=2 outcome=ok
assert_event claude-sub transient_error_recovered round=2 classification=rate_limit_account
assert_eq "$(generations claude-sub | jq -r .oauth | sort -u)" true "the subscription token reached the provider"

log "claude: a 429 burst that claude retries and gives up on backs the loop off; it resumes by itself"
wait_event claude round_end 60 2
assert_event claude round_end round=2 outcome=transient classification=rate_limit_model verdict=back_off
assert_event claude agent_retrying round=2 burst=1 status=429 classification=rate_limit_model
assert_eq "$(journal_count claude agent_retrying)" 1 "agent_retrying events (one burst)"
assert_eq "$(usage_events claude 2)" 0 "usage events of the round that gave up"
assert_eq "$(generations claude | jq_count '.answer == "rate_limit" and .status == 429')" \
    $((CLAUDE_MAX_RETRIES + 1)) "429s answered to claude (its own retries included)"
until=$(journal_events claude round_end | jq -r 'select(.AGENT_RUNNER_ROUND == "2") | .AGENT_RUNNER_UNTIL')
wait_event claude round_end 120 3
spawned=$(journal_events claude agent_spawn | jq -r 'select(.AGENT_RUNNER_ROUND == "3") | .__REALTIME_TIMESTAMP')
((spawned >= until * 1000000)) || fail "round 3 ran at $((spawned / 1000000)), before the back-off ended at $until"
assert_event claude round_end round=3 outcome=ok
assert_event claude transient_error_recovered round=3 classification=rate_limit_model

log "claude: two 401s halt the loop with auth_failed and say which credential to renew"
wait_event claude loop_halted 60
assert_event claude round_end round=4 outcome=auth_fail verdict=back_off
assert_event claude round_end round=5 outcome=auth_fail verdict=halt
assert_event claude auth_failed round=5 consecutive=2
journal_events claude auth_failed | grep -q 'ANTHROPIC_API_KEY' ||
    fail "auth_failed names no credential to renew: $(journal_events claude auth_failed)"
assert_event claude loop_halted reason=auth_failed
assert_eq "$(loop_states claude)" "failed inactive inactive inactive" "service loop timer path of claude"

log "no secret in a unit, a command line, the journal, a log or the state"
ct systemctl stop argv-watch
out=$(ct cat /run/leak-watch/argv)
assert_eq "$out" "" "command lines with a secret"
# grep -r exits 1 when it finds nothing, 2 when it cannot read something.
out=$(ct grep -rlF -f /run/leak-watch/secrets /etc/systemd/system /run/systemd/system \
    /run/systemd/transient /var/log/agent-runner /var/lib/agent-runner) || (($? == 1)) ||
    fail "grep could not read every unit, log and state file: $out"
assert_eq "$out" "" "files with a secret"
# Read into files first: a command that failed would otherwise look like one that showed nothing.
for n in claude claude-sub codex; do
    for unit in agent-runner@$n.service agent-runner-loop@$n.service agent-runner@$n.timer agent-runner@$n.path; do
        ct systemctl show "$unit" >"$WORK/unit.show" || fail "systemctl show $unit failed"
        if grep -qF -f "$WORK/secrets" "$WORK/unit.show"; then fail "systemctl show $unit shows a secret"; fi
    done
done
ct journalctl -o export --no-pager >"$WORK/journal.export" || fail "journalctl failed"
if grep -aqF -f "$WORK/secrets" "$WORK/journal.export"; then fail "a secret is in the journal"; fi
