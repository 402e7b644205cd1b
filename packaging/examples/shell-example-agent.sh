#!/bin/sh
# The example agent `agent-runner init --preset shell` wrote: replace it with the command that runs
# your agent. Each round runs it in work_dir with the prompt on stdin; an agent says it is finished
# by writing why into $AGENT_RUNNER_LOG_DIR/.agent-done, which ends the loop.
set -eu
prompt=$(cat)
lines=$(printf '%s\n' "$prompt" | wc -l)
echo "example agent: round ${AGENT_RUNNER_ROUND:-?} of ${AGENT_RUNNER_PROJECT:-?} in $(pwd)"
echo "example agent: the prompt has $lines lines; a real agent would act on them"
if [ -n "${AGENT_RUNNER_LOG_DIR:-}" ]; then
    echo "the example agent has nothing to do: replace $0 with a real agent" \
        >"$AGENT_RUNNER_LOG_DIR/.agent-done"
fi
