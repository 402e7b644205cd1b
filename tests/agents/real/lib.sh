# shellcheck shell=bash
# What capture.sh and live.sh share: start the fake provider, give a CLI a throwaway home that
# points it at the provider, and run the CLI the way its preset runs it (src/config/presets.rs),
# with a timeout. Sourced; the caller sets `set -euo pipefail`.
# shellcheck disable=SC2034 # the REAL_*, PROVIDER_* and RUN_* variables are read by the callers

REAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$REAL_DIR/../../.." && pwd)
PROVIDER=$REPO_DIR/tests/provider/fake_provider.py

# Every CLI the captures know: the four presets, and claude once more with a subscription (OAuth)
# token, the only way claude shows its account limits.
REAL_CLIS=(claude claude-oauth codex gemini aider)

# How hard each CLI tries before it gives up, cut down from minutes to seconds with the CLIs' own
# knobs (the preset leaves them at their defaults; the README says which defaults).
CLAUDE_MAX_RETRIES=2
CLAUDE_API_TIMEOUT_MS=20000
CODEX_MAX_RETRIES=2
CODEX_STREAM_IDLE_TIMEOUT_MS=20000
GEMINI_MAX_ATTEMPTS=3

# The silent answers are held longer than any case may run, so only the CLI or the timeout ends
# them.
SILENT_S=900

# CASE SCRIPT EXPECTED: the provider's script for the case and the class the issue says the round
# should get (hang and stall: api_timeout when the CLI's own timeout ends them, or round_timeout
# when only the capture's timeout does, which is no class of the output but the round's own).
REAL_CASES=(
    "ok ok ok"
    "rate_limit rate_limit@1 rate_limit_model"
    "rate_limit_then_ok rate_limit@1x2,ok ok"
    "usage_limit usage_limit@18000 rate_limit_account"
    "quota quota@18000 rate_limit_account"
    "500 500 api_transient_5xx"
    "500_then_ok 500x2,ok ok"
    "503 503 api_transient_5xx"
    "529 529 api_transient_5xx"
    "stream_error stream_error api_transient_5xx"
    "stream_cut stream_cut api_transient_5xx"
    "401 401 auth_fail"
    "bad_key bad_key auth_fail"
    "hang hang@$SILENT_S api_timeout"
    "stall stall@$SILENT_S api_timeout"
)

# How long a case may run before it gets what a round's timeout gives. aider's retries (about
# 100 s, no knob) fit in the usual 180 s; gemini's "auto" model router retries a failing
# request on its own, with backoff up to 30 s and no knob, before the main model even starts:
# five minutes and more. A silent provider is never waited on longer than 180 s.
case_timeout() {
    local cli=$1 case=$2
    if [[ $cli == gemini && $case != hang && $case != stall ]]; then
        echo 600
    else
        echo 180
    fi
}
# cases_of CLI: the cases the CLI is captured in, one "CASE SCRIPT EXPECTED" a line: bad_key
# differs from 401 only for gemini; the subscription login changes what claude says for the
# account limit and for a bad credential. (Under a subscription every Anthropic answer carries the
# unified headers, and claude calls any 429 with them the five-hour limit: a per-minute limit
# there would say nothing new.)
cases_of() {
    case $1 in
    gemini) printf '%s\n' "${REAL_CASES[@]}" ;;
    claude-oauth) printf '%s\n' "${REAL_CASES[@]}" | grep -E '^(ok|usage_limit|401) ' ;;
    *) printf '%s\n' "${REAL_CASES[@]}" | grep -v '^bad_key ' ;;
    esac
}

PROVIDER_PID=
PROVIDER_PORT=

# provider_start SCRIPT LOG [PORT]: starts the fake provider and waits until it listens.
provider_start() {
    local script=$1 log=$2 port=${3:-0} port_file errors waited=0
    port_file=$(mktemp)
    errors=$(mktemp)
    rm -f "$port_file"
    # Its stderr repeats each request's log line: only the start-up is worth keeping.
    python3 "$PROVIDER" --port "$port" --script "$script" --log "$log" --port-file "$port_file" \
        >/dev/null 2>"$errors" &
    PROVIDER_PID=$!
    until [[ -s $port_file ]]; do
        if ! kill -0 "$PROVIDER_PID" 2>/dev/null || ((waited++ > 100)); then
            echo "the fake provider did not start on port $port:" >&2
            tail -n 3 "$errors" >&2
            rm -f "$errors"
            return 1
        fi
        sleep 0.1
    done
    PROVIDER_PORT=$(<"$port_file")
    rm -f "$port_file" "$errors"
}

provider_stop() {
    [[ -n $PROVIDER_PID ]] || return 0
    kill "$PROVIDER_PID" 2>/dev/null || true
    wait "$PROVIDER_PID" 2>/dev/null || true
    PROVIDER_PID=
}

# prepare_work DIR: a git work tree with one commit, as an agent's project would be.
prepare_work() {
    local dir=$1
    mkdir -p "$dir"
    git -C "$dir" init -q -b main
    git -C "$dir" config user.name "Agent Runner Test"
    git -C "$dir" config user.email "agent@example.invalid"
    echo "A project the agent works on." >"$dir/README.md"
    git -C "$dir" add README.md
    git -C "$dir" commit -q -m "start"
}

# prepare_home CLI HOME PORT: what the CLI needs in its home to talk to the provider on PORT.
prepare_home() {
    local cli=$1 home=$2 port=$3
    mkdir -p "$home"
    case $cli in
    codex)
        mkdir -p "$home/.codex"
        cat >"$home/.codex/config.toml" <<EOF
model_provider = "fake"

[model_providers.fake]
name = "fake"
base_url = "http://127.0.0.1:$port/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
request_max_retries = $CODEX_MAX_RETRIES
stream_max_retries = $CODEX_MAX_RETRIES
stream_idle_timeout_ms = $CODEX_STREAM_IDLE_TIMEOUT_MS
EOF
        ;;
    gemini)
        # With GOOGLE_GEMINI_BASE_URL set and no auth type chosen, gemini picks "gateway" and
        # refuses it ("Invalid auth method selected.", exit 41): the key type is named here.
        mkdir -p "$home/.gemini"
        printf '{"security":{"auth":{"selectedType":"gemini-api-key"}},"general":{"maxAttempts":%s}}\n' \
            "$GEMINI_MAX_ATTEMPTS" >"$home/.gemini/settings.json"
        ;;
    aider)
        # aider fetches the model price list from GitHub at start unless a day-old copy is in its
        # cache: seed the copy litellm ships, so the output does not depend on the network.
        local prices
        prices=$(find "$(real_agents_dir)/venv/lib" -path '*/litellm/model_prices_and_context_window_backup.json' | head -1)
        mkdir -p "$home/.aider/caches"
        cp "$prices" "$home/.aider/caches/model_prices_and_context_window.json"
        ;;
    esac
}

REAL_AGENTS_DIR=
real_agents_dir() {
    [[ -n $REAL_AGENTS_DIR ]] || REAL_AGENTS_DIR=$("$REAL_DIR/install.sh")
    echo "$REAL_AGENTS_DIR"
}

# cli_version CLI: the version install.sh recorded.
cli_version() {
    local name=${1%-oauth}
    awk -F'\t' -v cli="$name" '$1 == cli {print $2}' "$(real_agents_dir)/versions.tsv"
}

# cli_env CLI HOME PORT: the environment the CLI runs with, one NAME=VALUE a line: a clean one,
# the preset's own variables, the fake credential and the provider's address.
cli_env() {
    local cli=$1 home=$2 port=$3 url=http://127.0.0.1:$3
    printf '%s\n' "PATH=$(real_agents_dir)/bin:/usr/local/bin:/usr/bin:/bin" "HOME=$home" \
        "TZ=UTC" "LANG=C.UTF-8" "USER=agent" "LOGNAME=agent"
    case $cli in
    claude | claude-oauth)
        # IS_SANDBOX: the captures run as root, where claude refuses
        # --dangerously-skip-permissions without it; under the units the agent is not root.
        printf '%s\n' "DISABLE_AUTOUPDATER=1" "IS_SANDBOX=1" "ANTHROPIC_BASE_URL=$url" \
            "CLAUDE_CODE_MAX_RETRIES=$CLAUDE_MAX_RETRIES" "API_TIMEOUT_MS=$CLAUDE_API_TIMEOUT_MS"
        if [[ $cli == claude-oauth ]]; then
            echo "CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-fake-subscription-token"
        else
            echo "ANTHROPIC_API_KEY=sk-ant-api03-fake-key"
        fi
        ;;
    codex) echo "OPENAI_API_KEY=sk-fake-openai-key" ;;
    gemini)
        # Without a trusted folder gemini overrides --yolo back to "default" approvals.
        printf '%s\n' "GEMINI_API_KEY=fake-gemini-key" "GOOGLE_GEMINI_BASE_URL=$url" \
            "GEMINI_CLI_TRUST_WORKSPACE=true"
        ;;
    aider) printf '%s\n' "OPENAI_API_KEY=sk-fake-openai-key" "OPENAI_API_BASE=$url/v1" ;;
    esac
}

# cli_argv CLI PROMPT_FILE: the preset's command line, one argument a line.
cli_argv() {
    local cli=$1 prompt_file=$2
    case $cli in
    claude | claude-oauth)
        printf '%s\n' claude --dangerously-skip-permissions --verbose --output-format stream-json -p
        ;;
    codex) printf '%s\n' codex exec --dangerously-bypass-approvals-and-sandbox --json - ;;
    gemini) printf '%s\n' gemini --yolo -o stream-json -p "$(<"$prompt_file")" ;;
    aider)
        printf '%s\n' aider --yes-always --no-stream --analytics-disable --no-check-update \
            --message-file "$prompt_file"
        ;;
    esac
}

# cli_stdin CLI PROMPT_FILE: what the CLI reads on stdin (the prompt, or nothing).
cli_stdin() {
    case $1 in
    claude | claude-oauth | codex) echo "$2" ;;
    *) echo /dev/null ;;
    esac
}

# run_cli CLI HOME WORK PROMPT_FILE PORT OUT_DIR TIMEOUT_S: runs the CLI in WORK; writes
# OUT_DIR/stdout, OUT_DIR/stderr and OUT_DIR/exit (its exit status, 128+N after signal N). After
# TIMEOUT_S its process group gets SIGTERM (SIGKILL 10 s later), as a round's timeout would do,
# and RUN_TIMED_OUT is 1. RUN_SECONDS is how long it ran.
RUN_TIMED_OUT=0
RUN_SECONDS=0
run_cli() {
    local cli=$1 home=$2 work=$3 prompt_file=$4 port=$5 out=$6 limit=$7
    local -a env argv
    mapfile -t env < <(cli_env "$cli" "$home" "$port")
    mapfile -t argv < <(cli_argv "$cli" "$prompt_file")
    mkdir -p "$out"
    local status=0 start end started
    started=$(mktemp)
    start=$(date +%s%N)
    timeout --preserve-status -k 10 "$limit" env -i -C "$work" "${env[@]}" "${argv[@]}" \
        <"$(cli_stdin "$cli" "$prompt_file")" >"$out/stdout" 2>"$out/stderr" || status=$?
    end=$(date +%s%N)
    # gemini leaves a report of each failed request in the system's temporary directory.
    find /tmp -maxdepth 1 -name 'gemini-client-error-*.json' -newer "$started" -delete
    rm -f "$started"
    echo "$status" >"$out/exit"
    RUN_SECONDS=$(((end - start) / 1000000000))
    RUN_TIMED_OUT=0
    ((end - start >= limit * 1000000000)) && RUN_TIMED_OUT=1
    return 0
}
