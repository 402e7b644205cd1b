#!/bin/sh
# Prints the round context and the prompt it got on stdin, then exits 0.
echo "round=$AGENT_RUNNER_ROUND phase=$AGENT_RUNNER_PHASE project=$AGENT_RUNNER_PROJECT"
echo "log_dir=$AGENT_RUNNER_LOG_DIR"
echo "notify=${NOTIFY_SOCKET:-unset} token=${API_TOKEN:+set}"
echo "--- prompt"
cat
echo "--- end"
