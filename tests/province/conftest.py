"""Fixtures for the province link: a mock province on loopback and a controller linked to it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controller.models import Broadcast, Delivery, utcnow
from controller.services import announcements, deliveries, registry
from tests.support.mock_province import PASSWORD, USERNAME, MockProvinceServer

TOKEN = "tinh-gui-xuong-0123456789"
HAMLETS = {"spk-a": "Ấp Mỹ An", "spk-b": "Ấp Mỹ Hòa", "spk-c": "Ấp Mỹ Phú"}
MAPPING = """
[ids]
source_id = "NGUON-XA-TEST"
[ids.speakers]
"spk-a" = "CL-0001"
"spk-b" = "CL-0002"
[ids.areas]
"30001" = "Ấp Mỹ An"
"30002" = "Ấp Mỹ Hòa"
"30003" = "Ấp Mỹ Phú"
"""


@pytest.fixture
def province():
    """The mock province, serving on a free loopback port."""
    server = MockProvinceServer().start()
    yield server
    server.stop()


@pytest.fixture
def linked(tmp_path, province):
    """A Controller (no broker, no threads) with the link on to the mock, and three speakers."""
    from controller.config import load
    from controller.runtime import Controller
    from tests.support.controller import fresh_db_url

    data = tmp_path / "data"
    data.mkdir()
    (data / "province.toml").write_text(MAPPING, encoding="utf-8")
    settings = load(data, database_url=fresh_db_url(tmp_path), tts_engines="espeak",
                    run_scheduler=False,
                    province={"enabled": True, "base_url": province.url, "username": USERNAME,
                              "password": PASSWORD, "inbound_token": TOKEN, "heartbeat_s": 3600,
                              "timeout_s": 5})
    ctl = Controller(settings)
    with ctl.db.session() as s:
        for sid, hamlet in HAMLETS.items():
            registry.add_speaker(s, sid, hamlet, latitude=10.48, longitude=105.32)
    yield ctl
    ctl.stop()


class FakeRendered:
    """A rendered-audio stand-in pointing at a real tiny MP3 made once per test."""

    def __init__(self, path):
        self.mp3_path = path
        self.duration_ms = 1000
        self.engine = "upload"
        self.spoken_text = ""


def make_deliveries(ctl, n: int, tmp_path, speakers=("spk-a", "spk-b")) -> list[int]:
    """One announcement, broadcasts with n deliveries over `speakers`, each ended played/failed."""
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(b"ID3" + b"\0" * 64)
    ids = []
    now = utcnow()
    with ctl.db.session() as s:
        ann = announcements.create(s, ctl, title="Họp dân", text=None, rendered=FakeRendered(mp3),
                                   source="upload", user=None, approved=True)
        b = Broadcast(announcement_id=ann.id, priority="priority", play_at=now, dispatch_at=now,
                      expires_at=now + timedelta(hours=1))
        s.add(b)
        s.flush()
        for i in range(n):
            spk = speakers[i % len(speakers)]
            d = Delivery(broadcast_id=b.id, speaker_id=spk, command_id=f"cmd-{b.id}-{i}",
                         state="queued", state_at=now)
            s.add(d)
            s.flush()
            deliveries.append(s, d, "playing", "agent", at=now + timedelta(seconds=i))
            deliveries.append(s, d, "played" if i % 5 else "failed", "agent",
                              at=now + timedelta(seconds=i + 75))
            ids.append(d.id)
    return ids
