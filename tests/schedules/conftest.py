"""Fixtures for the DB-facing schedule tests: speakers, an approved announcement, a fake clock."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from controller.models import Announcement, AudioAsset
from controller.services import registry


class FakeClock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    """A clock at 2026-12-01 05:00 local (Asia/Ho_Chi_Minh) = 2026-11-30 22:00 UTC."""
    return FakeClock(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))


@pytest.fixture
def fleet(controller):
    """Three speakers in two hamlets."""
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp Mỹ An")
        registry.add_speaker(s, "spk-2", "Ấp Mỹ An")
        registry.add_speaker(s, "spk-3", "Ấp Mỹ Hòa")
    return ["spk-1", "spk-2", "spk-3"]


def make_announcement(controller, title="Họp dân", duration_ms=30_000, status="approved") -> int:
    """An announcement with a (fake) 30 s asset, inserted directly."""
    sha = hashlib.sha256(f"{title}{duration_ms}{status}".encode()).hexdigest()
    with controller.db.session() as s:
        if s.get(AudioAsset, sha) is None:
            s.add(AudioAsset(sha256=sha, bytes=1000, duration_ms=duration_ms, source="tts",
                             engine="espeak"))
            s.flush()
        ann = Announcement(title=title, text=title, audio_sha256=sha, engine="espeak", status=status)
        s.add(ann)
        s.flush()
        return ann.id


@pytest.fixture
def announcement(controller):
    """Id of an approved 30 s announcement."""
    return make_announcement(controller)
