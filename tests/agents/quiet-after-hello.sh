#!/bin/sh
# Says hello, stays silent for 10 s, says "still here", then stays silent (a stuck agent for the
# watchdog). A runner bounded by a watchdog shorter than 10 s kills it before the second line.
echo hello
sleep 10 &
echo "$$ $!" > "$AGENT_RUNNER_LOG_DIR/pids"
wait
echo "still here"
exec sleep 300
