#!/bin/sh
# Prints its arguments; with `--file PATH`, prints that file (file delivery) and its mode.
echo "argc=$#"
for a in "$@"; do echo "arg: $a"; done
if [ "$1" = "--file" ]; then echo "file mode $(stat -c %a "$2")"; cat "$2"; fi
