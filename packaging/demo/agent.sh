#!/bin/sh
# The demo's agent: a stand-in for an agent CLI that needs no API key and no network. It reads
# the prompt on stdin, "works" for a moment, and leaves a trace of each round in the work dir.
set -eu
prompt=$(cat)
round=${AGENT_RUNNER_ROUND:-?}
echo "demo agent: round $round of ${AGENT_RUNNER_PROJECT:-demo}, phase ${AGENT_RUNNER_PHASE:-none}"
echo "demo agent: the prompt says: $(printf '%s' "$prompt" | head -n 1)"
sleep 1
echo "- round $round: looked at the backlog, picked a task, did it" >>NOTES.md
echo "demo agent: wrote NOTES.md; done for this round"
