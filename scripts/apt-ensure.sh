#!/usr/bin/env bash
# Install the named Debian packages that are not installed yet (apt-get update once, only if needed).
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "Installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
# Through env: sudo resets the environment, and icecast2's debconf would then ask questions.
# Its postinst leaves the system icecast2 service disabled; should one run on 8000 anyway,
# the managed Icecast takes the next free port.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
