"""Health figures for the retained state: uptime, disk, CPU temperature, clock offset, last error."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import deque
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from protocol.messages import SpeakerState

THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")


def version() -> str:
    """The installed commune-radio version."""
    try:
        return metadata.version("commune-radio")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def cpu_temp_c(path: Path = THERMAL) -> float | None:
    """CPU temperature where the kernel exposes it (a Pi does; most containers do not)."""
    try:
        return round(int(path.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


def disk_free_bytes(path: Path) -> int | None:
    """Free bytes on the file system holding `path`."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


class Health:
    """Collects what the state message reports; safe to call from any thread."""

    def __init__(self, speaker_id: str, data_dir: Path):
        self.speaker_id = speaker_id
        self.data_dir = data_dir
        self.started = time.monotonic()
        self.version = version()
        self._lock = threading.Lock()
        self._offsets: deque[float] = deque(maxlen=20)
        self.last_error: str | None = None
        self.on_change = lambda: None  # set by the agent: publish the state soon

    def note_offset(self, issued_at: datetime, received_at: float) -> None:
        """Record local receive time minus the controller's issued_at for one fresh command."""
        with self._lock:
            self._offsets.append((received_at - issued_at.timestamp()) * 1000)

    def clock_offset_ms(self) -> float | None:
        """Estimated local clock minus controller clock, in ms.

        Each sample is offset + network and queueing delay, which is never
        negative, so the smallest recent sample is the best estimate (NTP's idea).
        """
        with self._lock:
            return round(min(self._offsets), 1) if self._offsets else None

    def error(self, message: str) -> None:
        """Remember the last problem, for the state message."""
        with self._lock:
            self.last_error = message[:500]
        self.on_change()

    def state(self, online: bool, **live) -> SpeakerState:
        """The state message; `live` carries queue_len, playing, volume and relay_on."""
        return SpeakerState(
            speaker_id=self.speaker_id,
            online=online,
            at=datetime.now(UTC),
            version=self.version,
            uptime_s=round(time.monotonic() - self.started, 1),
            disk_free_bytes=disk_free_bytes(self.data_dir),
            cpu_temp_c=cpu_temp_c(),
            clock_offset_ms=self.clock_offset_ms(),
            last_error=self.last_error,
            **live,
        )


HEALTH_FILE = "health.json"


def write_file(data_dir: Path, connected: bool, state: SpeakerState) -> None:
    """Leave the agent's own health where `speaker-agent --health` (and systemd, a watchdog
    script or a technician) can read it without the broker: written atomically each heartbeat."""
    payload = {"at": time.time(), "connected": connected, "playing": state.playing,
               "last_error": state.last_error, "version": state.version}
    tmp = data_dir / f"{HEALTH_FILE}.tmp"
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, data_dir / HEALTH_FILE)


def read_verdict(data_dir: Path, heartbeat_s: float, now: float | None = None) -> tuple[bool, str]:
    """(healthy, why) from the health file: fresh (within 3 heartbeats) and connected."""
    now = time.time() if now is None else now
    try:
        h = json.loads((data_dir / HEALTH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, "no health file: the agent is not running (or never reached its first heartbeat)"
    age = now - float(h.get("at", 0))
    if age > 3 * heartbeat_s:
        return False, f"the last heartbeat is {age:.0f} s old: the agent is stuck or stopped"
    if not h.get("connected"):
        return False, "not connected to the broker" + (f" ({h['last_error']})" if h.get("last_error") else "")
    return True, f"ok: connected, version {h.get('version')}, playing {h.get('playing') or 'nothing'}"
