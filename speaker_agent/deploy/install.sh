#!/usr/bin/env bash
# Install the commune-radio speaker agent on Raspberry Pi OS bookworm (Python 3.11; also 3.13).
#
#   sudo speaker_agent/deploy/install.sh --config /path/to/agent.toml [--source DIR_OR_WHEEL]
#
# --config  the file `commune-radio speaker add ID --hamlet NAME` wrote on the controller
#           (it holds this speaker's broker password: copy it over ssh, not e-mail).
# --source  what to pip install (default: the repository this script lives in).
# Safe to run again: it upgrades the code and keeps an existing config unless --config is given.
set -euo pipefail

CONFIG=""
SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --source) SOURCE="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run as root (sudo $0 ...)" >&2; exit 1; }

PREFIX=/opt/commune-radio
ETC=/etc/speaker-agent
UNIT=/etc/systemd/system/commune-radio-agent.service

echo "== system packages"
apt-get update -q
# python3-lgpio: gpiozero's pin driver on bookworm (a pip build would need swig);
# mpg123 plays MP3 straight to ALSA; alsa-utils gives amixer; ffmpeg plays relay and live streams
# (and is the file sink).
apt-get install -y -q python3 python3-venv python3-lgpio mpg123 alsa-utils ffmpeg

echo "== service user"
getent group gpio >/dev/null || groupadd --system gpio
id speaker-agent >/dev/null 2>&1 || \
  useradd --system --home-dir /var/lib/speaker-agent --shell /usr/sbin/nologin speaker-agent
usermod -a -G audio,gpio speaker-agent

# Versioned layout (docs/agent-install.md, "Updates over the air"):
#   $PREFIX/venvs/<version>/   one venv per version
#   $PREFIX/current -> venvs/<version>    what systemd runs
#   $PREFIX/previous -> venvs/<version>   runs the rollback guard before each start
if [ -f "$SOURCE" ]; then
  VERSION="$(basename "$SOURCE" | cut -d- -f2)"   # commune_radio-<version>-py3-none-any.whl
else
  VERSION="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$SOURCE/pyproject.toml")"
fi
VENV="$PREFIX/venvs/$VERSION"
echo "== virtualenv in $VENV"
install -d -m 0755 -o speaker-agent -g speaker-agent "$PREFIX" "$PREFIX/venvs"
if [ "$(readlink -f "$PREFIX/current" 2>/dev/null)" = "$VENV" ]; then
  echo "version $VERSION is already current: reinstalling its code in place"
else
  rm -rf "$VENV"
fi
# --system-site-packages so the apt-installed lgpio is importable from the venv.
python3 -m venv --system-site-packages "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# Base dependencies only: paho-mqtt, cryptography, gpiozero, packaging (no controller extras).
"$VENV/bin/pip" install -q --upgrade "$SOURCE"
# Switch with one rename each, like an update does; the first install's previous is itself.
OLD="$(readlink "$PREFIX/current" 2>/dev/null || true)"
ln -sfn "${OLD:-$VENV}" "$PREFIX/.previous.tmp" && mv -Tf "$PREFIX/.previous.tmp" "$PREFIX/previous"
ln -sfn "$VENV" "$PREFIX/.current.tmp" && mv -Tf "$PREFIX/.current.tmp" "$PREFIX/current"
# An install from before versioned venvs: its venv is no longer used.
[ -d "$PREFIX/venv" ] && echo "note: $PREFIX/venv (the old layout) is no longer used; remove it when you like"

echo "== config in $ETC"
install -d -m 0750 -o root -g speaker-agent "$ETC"
if [ -n "$CONFIG" ]; then
  install -m 0640 -o root -g speaker-agent "$CONFIG" "$ETC/agent.toml"
elif [ ! -f "$ETC/agent.toml" ]; then
  echo "no $ETC/agent.toml yet: run again with --config FILE" >&2; exit 1
fi
install -d -m 0750 -o speaker-agent -g speaker-agent /var/lib/speaker-agent

echo "== check (as the service user)"
if ! runuser -u speaker-agent -- "$PREFIX/current/bin/speaker-agent" --config "$ETC/agent.toml" --check; then
  echo "the check failed: fix the lines marked FAIL above, then run this script again" >&2
  exit 1
fi

echo "== systemd"
install -m 0644 "$(dirname "$0")/commune-radio-agent.service" "$UNIT"
# Make time-sync.target wait for a real NTP sync, so play_at is honoured after a cold boot.
systemctl enable --now systemd-time-wait-sync.service 2>/dev/null || true
systemctl daemon-reload
systemctl enable --now commune-radio-agent.service
systemctl --no-pager status commune-radio-agent.service | head -5
echo "installed. Logs: journalctl -u commune-radio-agent -f"
