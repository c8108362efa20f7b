"""Over-the-air updates with real parts: two built agent versions, real venvs, a real broker.

The agent runs under a supervisor that does what systemd does (Restart=always, the
rollback guard as ExecStartPre). One test walks the whole story, because each step
needs the installed state the previous one left: refusals, the switch, the rollback.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from protocol.messages import Command, Update
from speaker_agent import venvs
from tests.support.agent_builds import Supervisor, build_wheel, wheel_of_version
from tests.support.agent_proc import AgentProcess

pytestmark = pytest.mark.process

OLD, NEW, BROKEN = "90.0.1", "90.0.2", "90.0.3"


@pytest.fixture(scope="session")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """Three agent wheels built once per session: old, new and a broken one."""
    work = tmp_path_factory.mktemp("agent-builds")
    out = work / "wheels"
    out.mkdir()
    built = build_wheel(work, work)
    return {OLD: wheel_of_version(built, OLD, out), NEW: wheel_of_version(built, NEW, out),
            BROKEN: wheel_of_version(built, BROKEN, out, broken=True)}


def update(controller, speaker_id: str, manifest: Update) -> Command:
    """An unsigned update command."""
    now = datetime.now(UTC)
    return Command(id=f"up-{manifest.version}-{os.urandom(3).hex()}", type="update",
                   speaker_id=speaker_id, issued_at=now, expires_at=now + timedelta(days=1),
                   update=manifest)


def serve(media, wheel: Path, body: bytes | None = None) -> Update:
    """Serve a wheel (or tampered bytes under its name) and return the true manifest."""
    real = wheel.read_bytes()
    media.add(wheel.name, body if body is not None else real, duration_ms=1)
    version = wheel.name.split("-")[1]
    return Update(version=version, url=media.url(wheel.name), sha256=hashlib.sha256(real).hexdigest(),
                  bytes=len(real))


def test_rollout_switches_versions_refuses_bad_updates_and_rolls_back(tmp_path, broker, controller,
                                                                        media, wheels, mp3s):
    base = tmp_path / "opt"
    (base / "venvs").mkdir(parents=True)
    venvs.build_venv(base / "venvs" / OLD, wheels[OLD], source_path=sys.path, system_site_packages=False)
    venvs.switch_current(base, base / "venvs" / OLD)
    agent = AgentProcess(tmp_path, "ap-1", broker, [controller.public_key],
                         update={"base_dir": str(base), "confirm_within_s": 120, "max_starts": 2,
                                 "system_site_packages": False})
    sup = Supervisor(base, agent.config_path, agent.log_path).start()
    try:
        controller.wait_state("ap-1", lambda s: s.online and s.version == OLD, timeout=60)

        # Refused before any download: a downgrade, an unsigned and a wrongly signed update.
        older = replace(serve(media, wheels[NEW]), version="90.0.0")
        down = controller.send(update(controller, "ap-1", older))
        assert "downgrade refused" in controller.wait_ack(down.id, "rejected").detail
        unsigned = controller.send(update(controller, "ap-1", serve(media, wheels[NEW])), signed=False)
        assert "signature refused" in controller.wait_ack(unsigned.id, "rejected").detail
        forged = controller.sign(update(controller, "ap-1", serve(media, wheels[NEW])))
        forged = replace(forged, update=replace(forged.update, sha256="0" * 64))
        controller.publish_raw("ap-1", forged.encode())
        assert "bad signature" in controller.wait_ack(forged.id, "rejected").detail

        # A tampered wheel (same size, other bytes) fails its hash; nothing is switched.
        real = wheels[NEW].read_bytes()
        tampered = controller.send(update(controller, "ap-1",
                                          serve(media, wheels[NEW], real[:-10] + b"0123456789")))
        assert "sha256 mismatch" in controller.wait_ack(tampered.id, "update_failed", timeout=60).detail
        assert os.readlink(base / "current") == str(base / "venvs" / OLD)

        # The real new version, sent while an announcement plays: it waits for silence, then is
        # installed in its own venv, switched, restarted, and reports its version.
        tone = controller.send(controller.command("ap-1", media=media.add("tone.mp3", mp3s["medium"], 3000)))
        controller.wait_ack(tone.id, "playing")
        good = controller.send(update(controller, "ap-1", serve(media, wheels[NEW])))
        assert controller.wait_ack(good.id, "update_installed", timeout=90).detail == f"version {NEW}"
        controller.wait_state("ap-1", lambda s: s.online and s.version == NEW, timeout=30)
        assert os.readlink(base / "current") == str(base / "venvs" / NEW)
        assert (base / "venvs" / OLD / "bin" / "speaker-agent").exists()  # kept for a rollback
        assert 75 in sup.exits  # it exited for systemd to restart it
        assert controller.unique_events(tone.id) == ["received", "downloaded", "playing", "played"]
        arrival = [(a.command_id, a.event) for a in controller.acks]
        assert arrival.index((tone.id, "played")) < arrival.index((good.id, "update_installed"))

        # A broken version (its entry point exits at once) rolls back by itself.
        broken = controller.send(update(controller, "ap-1", serve(media, wheels[BROKEN])))
        ack = controller.wait_ack(broken.id, "rolled_back", timeout=120)
        assert f"version {BROKEN} rolled back to {NEW}" in ack.detail
        assert os.readlink(base / "current") == str(base / "venvs" / NEW)
        controller.wait_state("ap-1", lambda s: s.online and s.version == NEW, timeout=30)
        assert 3 in sup.exits
    finally:
        sup.stop()
