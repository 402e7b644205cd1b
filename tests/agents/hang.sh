#!/bin/sh
# Prints, then hangs with a background child; records its pids so the test can check for orphans.
echo "working"
sleep 300 &
echo "$$ $!" > "$AGENT_RUNNER_LOG_DIR/pids"
sleep 301
