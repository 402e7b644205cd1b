#!/bin/bash
# Ignores SIGINT and SIGTERM (recording each) so the runner must escalate to SIGKILL.
f="$AGENT_RUNNER_LOG_DIR/signals"
trap 'echo INT >> "$f"' INT
trap 'echo TERM >> "$f"' TERM
sleep 300 &
echo "$$ $!" > "$AGENT_RUNNER_LOG_DIR/pids"
echo ready
while :; do sleep 0.1; done
