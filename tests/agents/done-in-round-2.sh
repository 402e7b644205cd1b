#!/bin/sh
# Commits nothing in round 1, creates done.txt from round 2 on (what the goal check tests).
if [ "$AGENT_RUNNER_ROUND" -ge 2 ]; then
    echo "finished" > done.txt
fi
echo "round $AGENT_RUNNER_ROUND"
