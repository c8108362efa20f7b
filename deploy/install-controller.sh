#!/usr/bin/env bash
# Install the commune-radio controller on Debian 12 / Raspberry Pi OS (bookworm), as a service.
#
#   sudo deploy/install-controller.sh --site radio.xa-myhoahung.vn      # public name: Let's Encrypt
#   sudo deploy/install-controller.sh --site 192.168.1.10 --tls-internal # LAN only: Caddy's own CA
#   sudo deploy/install-controller.sh --no-proxy                         # no Caddy (plain HTTP on :8080)
#
# --source DIR_OR_WHEEL  what to pip install (default: the repository this script lives in)
# --root DIR             install into DIR instead of / (files only: no apt, no users, no systemctl);
#                        for checking the script, and for building an image
# Safe to run again: it upgrades the code and keeps the existing config, data and keys.
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
ROOT=""
SITE=""
TLS=""
PROXY=1
while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE="$2"; shift 2 ;;
    --root) ROOT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --site) SITE="$2"; shift 2 ;;
    --tls-internal) TLS="tls internal"; shift ;;
    --no-proxy) PROXY=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
HERE="$(cd "$(dirname "$0")" && pwd)"
LIVE=1
[ -n "$ROOT" ] && LIVE=0
[ "$LIVE" = 0 ] || [ "$(id -u)" = 0 ] || { echo "run as root (sudo $0 ...)" >&2; exit 1; }
if [ "$PROXY" = 1 ] && [ -z "$SITE" ]; then
  echo "give --site NAME (the address staff and speakers use), or --no-proxy" >&2; exit 2
fi

PREFIX="$ROOT/opt/commune-radio"
ETC="$ROOT/etc/commune-radio"
DATA="$ROOT/var/lib/commune-radio"
UNIT="$ROOT/etc/systemd/system/commune-radio.service"
skip() { echo "   (skipped with --root: $*)"; }

echo "== system packages"
PKGS="python3 python3-venv mosquitto ffmpeg espeak-ng icecast2 sqlite3"
[ "$PROXY" = 1 ] && PKGS="$PKGS caddy"
if [ "$LIVE" = 1 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PKGS
  # The controller runs its own Mosquitto and Icecast from generated configs; the packages'
  # system-wide services would hold ports 1883 and 8000 with no authentication.
  systemctl disable --now mosquitto.service icecast2.service 2>/dev/null || true
else
  skip "apt-get install $PKGS"
fi

echo "== service user"
if [ "$LIVE" = 1 ]; then
  id commune-radio >/dev/null 2>&1 || \
    useradd --system --home-dir /var/lib/commune-radio --shell /usr/sbin/nologin commune-radio
else
  skip "useradd commune-radio"
fi
own() { if [ "$LIVE" = 1 ]; then chown "$@"; fi; }

echo "== virtualenv in $PREFIX/venv"
install -d -m 0755 "$PREFIX"
[ -x "$PREFIX/venv/bin/python" ] || python3 -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install -q --upgrade pip
if [ -d "$SOURCE" ]; then
  "$PREFIX/venv/bin/pip" install -q --upgrade "$SOURCE[controller,postgres]"
  # The documentation travels with the install (the unit's Documentation= points here).
  install -d "$PREFIX/src/docs" && cp -r "$SOURCE/docs/." "$PREFIX/src/docs/"
else
  "$PREFIX/venv/bin/pip" install -q --upgrade "commune-radio[controller,postgres] @ file://$SOURCE"
fi

echo "== config in $ETC, data in $DATA"
install -d -m 0750 "$ETC" "$DATA"
own root:commune-radio "$ETC"
own commune-radio:commune-radio "$DATA"
if [ ! -f "$ETC/config.toml" ]; then
  PUBLIC=""
  [ "$PROXY" = 1 ] && PUBLIC="public_url = \"https://$SITE\""
  cat > "$ETC/config.toml" <<CONF
# commune-radio controller settings (docs/install-controller.md; every key: controller/config.py).
# The web listens on loopback only: Caddy serves it over HTTPS to phones and speakers.
web_host = "127.0.0.1"
web_port = 8080
$PUBLIC
# Speakers in the hamlets reach the broker over the network.
broker_bind = "0.0.0.0"
agent_broker_host = "${SITE:-127.0.0.1}"
cookie_secure = $([ "$PROXY" = 1 ] && echo true || echo false)
timezone = "Asia/Ho_Chi_Minh"
backup_hour = 3
backup_keep = 14
CONF
  chmod 0640 "$ETC/config.toml"
  own root:commune-radio "$ETC/config.toml"
fi
# The controller reads DATA/config.toml: link it to the file under /etc.
ln -sfn /etc/commune-radio/config.toml "$DATA/config.toml"

echo "== systemd unit"
install -d "$(dirname "$UNIT")"
install -m 0644 "$HERE/commune-radio.service" "$UNIT"
if [ "$PROXY" = 1 ]; then
  install -d "$ROOT/etc/caddy" "$ROOT/etc/default"
  install -m 0644 "$HERE/Caddyfile" "$ROOT/etc/caddy/Caddyfile"
  printf 'COMMUNE_RADIO_SITE=%s\nCOMMUNE_RADIO_TLS=%s\n' "$SITE" "$TLS" > "$ROOT/etc/default/caddy"
fi
if [ "$LIVE" = 1 ]; then
  "$PREFIX/venv/bin/commune-radio" db upgrade --data "$DATA" >/dev/null
  own -R commune-radio:commune-radio "$DATA"
  systemctl enable --now systemd-time-wait-sync.service 2>/dev/null || true
  systemctl daemon-reload
  systemctl enable --now commune-radio.service
  [ "$PROXY" = 1 ] && systemctl restart caddy.service
  systemctl --no-pager status commune-radio.service | head -5
  echo "installed. Next: sudo -u commune-radio $PREFIX/venv/bin/commune-radio user add NAME --role admin --data $DATA"
else
  skip "systemctl enable --now commune-radio.service"
  echo "files installed under $ROOT"
fi
