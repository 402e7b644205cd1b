#!/bin/sh
# Fails as if its key were refused, printing the secret-looking [agent.env] value and the
# credential it was given in that line: events must mask both.
echo "Error: 401 Unauthorized: the key ${SERVICE_TOKEN:-none} was refused (credential ${API_TOKEN:-none})"
exit 1
