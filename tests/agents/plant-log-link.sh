#!/bin/sh
# A hostile agent: plants the next round's log as a symbolic link to a file outside the log
# directory (`secret`, next to it), hoping the runner truncates it.
next=$((AGENT_RUNNER_ROUND + 1))
ln -sf "$AGENT_RUNNER_LOG_DIR/../secret" "$AGENT_RUNNER_LOG_DIR/rounds/round-$next.log"
echo planted
