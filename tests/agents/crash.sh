#!/bin/sh
# Fails at once, printing a secret it was given (which events must redact).
echo "starting with key ${API_TOKEN:-none}"
echo "fatal: something broke" >&2
exit 3
