#!/bin/sh
# Leaves an untracked file and a modified tracked file behind.
echo "new work $AGENT_RUNNER_ROUND" > "new-$AGENT_RUNNER_ROUND.txt"
echo "changed" >> tracked.txt
echo "done"
