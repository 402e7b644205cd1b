#!/bin/sh
# Prints its final result, then hangs in-process (no child): a grace kill is safe.
echo "working"
echo '{"type":"result","is_error":false,"result":"done"}'
echo "$$" > "$AGENT_RUNNER_LOG_DIR/pids"
exec sleep 300
