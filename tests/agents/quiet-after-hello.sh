#!/bin/sh
# Says hello once, then stays silent (a stuck agent for the watchdog).
echo hello
echo "$$" > "$AGENT_RUNNER_LOG_DIR/pids"
exec sleep 300
