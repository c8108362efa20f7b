"""Fixtures for the DB-facing schedule tests: speakers, an approved announcement, a fake clock."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from controller.models import Announcement, AudioAsset
from controller.services import registry


class FakeClock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """That wall-clock time in Ho Chi Minh City, as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), HCM).astimezone(UTC)


def local_day(now: datetime) -> str:
    """The Ho Chi Minh City calendar day of an instant, as a schedule's ISO start_date."""
    return now.astimezone(HCM).date().isoformat()


@pytest.fixture
def clock():
    """An injected clock at 05:00 local (Asia/Ho_Chi_Minh) tomorrow.

    Derived from today's date, never a fixed calendar date: a fixed one goes off once the
    date passes if anything on the path still reads the wall clock. Tests with special
    days (29 February, New Year's Eve) build their own FakeClock explicitly.
    """
    tomorrow = datetime.now(HCM).date() + timedelta(days=1)
    return FakeClock(local_at(tomorrow, 5))


@pytest.fixture
def due(clock):
    """06:00 local on the clock's day: the first occurrence of the daily 06:00 test schedule."""
    return clock.now + timedelta(hours=1)


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
