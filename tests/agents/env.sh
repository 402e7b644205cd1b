#!/bin/sh
# Prints its whole environment, one NAME=value a line, between markers.
echo "--- env"
env | sort
echo "--- end"
