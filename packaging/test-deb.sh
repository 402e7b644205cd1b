#!/usr/bin/env bash
# The package test (issue 6): build the .deb, install it with dpkg into a real systemd 252 booted
# in systemd-nspawn, run a project from the installed package end to end (generate, start, three
# rounds, events with catalog text via `journalctl -x`), then the generator path (drop a TOML,
# daemon-reload, start; a broken file is reported; `generate`d units win), then `dpkg --purge`
# and check that nothing of ours is left. Run as root:
#
#   packaging/test-deb.sh             builds the package first (packaging/build-deb.sh)
#   DEB=path.deb packaging/test-deb.sh
#   KEEP=1 ...                        leave the sandbox running for inspection
#   SECTIONS="install demo" ...       run only these parts of packaging/test-deb-inside.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export SANDBOX_NAME=${SANDBOX_NAME:-pkg}
export SANDBOX_EXTRA_PACKAGES=${SANDBOX_EXTRA_PACKAGES:-git python3}
sandbox=tests/system/sandbox.sh

deb=${DEB:-}
if [[ -z $deb ]]; then
    deb=$(packaging/build-deb.sh | tail -n1)
fi
[[ -f $deb ]] || { echo "test-deb: no package at '$deb'" >&2; exit 1; }

"$sandbox" down >/dev/null 2>&1 || true
"$sandbox" up
if [[ ${KEEP:-0} != 1 ]]; then
    trap '"$sandbox" down' EXIT
fi
"$sandbox" install-bin "$deb" /tmp >/dev/null
mv_deb=/tmp/$(basename "$deb")
"$sandbox" install-bin packaging/test-deb-inside.sh /tmp >/dev/null
# shellcheck disable=SC2086 # SECTIONS is a word list
"$sandbox" exec env DEB="$mv_deb" /bin/bash /tmp/test-deb-inside.sh ${SECTIONS:-}
