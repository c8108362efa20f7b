"""`speaker-agent --health`: the agent's own health, read from the file each heartbeat leaves,
for systemd, a watchdog script or a technician on the Pi (a running demo agent is checked in
tests/test_demo.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from speaker_agent.health import HEALTH_FILE, read_verdict


def _write(d: Path, **fields):
    (d / HEALTH_FILE).write_text(json.dumps({"at": time.time(), "connected": True, "version": "1.0",
                                             "playing": None, "last_error": None, **fields}))


def test_fresh_and_connected_is_healthy(tmp_path):
    _write(tmp_path)
    ok, why = read_verdict(tmp_path, heartbeat_s=30)
    assert ok and "connected" in why


def test_a_stale_heartbeat_a_lost_broker_or_no_file_is_unhealthy(tmp_path):
    assert read_verdict(tmp_path, 30) == (False, read_verdict(tmp_path, 30)[1])
    assert "not running" in read_verdict(tmp_path, 30)[1]
    _write(tmp_path, at=time.time() - 200)
    ok, why = read_verdict(tmp_path, heartbeat_s=30)
    assert not ok and "old" in why
    _write(tmp_path, connected=False, last_error="broker refused: not authorised")
    ok, why = read_verdict(tmp_path, heartbeat_s=30)
    assert not ok and "not connected" in why and "not authorised" in why
