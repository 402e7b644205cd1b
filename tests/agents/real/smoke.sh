#!/usr/bin/env bash
# The quick live check: the fake provider's own tests, then each pinned real CLI once against it,
# the way its preset runs it, for a success and for a failure it recovers from; each must exit as
# its committed fixture did (live.sh --check). About a minute; the CLIs are installed first if the
# pins changed. Exits 1 naming what failed.
set -euo pipefail
cd "$(dirname "$0")/../../.."

failed=()
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests/provider -q || failed+=(provider)
for run in claude/ok claude/rate_limit_then_ok claude-oauth/ok codex/ok codex/500_then_ok \
    gemini/ok aider/ok; do
    if tests/agents/real/live.sh "${run%%/*}" "${run#*/}" --check >"/var/tmp/agent-runner-smoke.out" 2>&1; then
        echo "ok: $run"
    else
        echo "FAILED: $run"
        tail -n 30 /var/tmp/agent-runner-smoke.out
        failed+=("$run")
    fi
done
rm -f /var/tmp/agent-runner-smoke.out
if ((${#failed[@]})); then
    echo "smoke: failed: ${failed[*]}" >&2
    exit 1
fi
echo "smoke: all passed"
