#!/bin/sh
# Replays one captured answer of a real agent CLI: its stderr, then its stdout, then its exit
# status (REPLAY_DIR holds stdout, stderr and exit, as tests/fixtures/real/CLI/CASE/ do). With
# REPLAY_HANG=1 it then hangs, as the CLI did when the capture had to be cut off by a timeout.
set -eu
cat "$REPLAY_DIR/stderr"
cat "$REPLAY_DIR/stdout"
if [ "${REPLAY_HANG:-0}" = 1 ]; then
    exec sleep 600
fi
exit "$(cat "$REPLAY_DIR/exit")"
