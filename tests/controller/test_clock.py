"""Schedules never start on a clock that is behind what this controller already recorded
(a Pi booting after a power cut, before NTP), and start by themselves once it catches up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from controller import clock
from controller.metrics import health
from controller.models import AuditEvent
from tests.support.processes import wait_for


def test_a_clock_behind_the_records_holds_the_schedules_until_it_catches_up(controller):
    now = datetime.now(UTC)
    with controller.db.session() as s:
        s.add(AuditEvent(action="login", actor="chu-tich", at=now))
    booted = {"t": now - timedelta(days=400)}  # fake-hwclock from last year
    started = threading.Event()
    clock.start_when_sane(controller, started.set, clock=lambda: booted["t"], poll_s=0.05)
    assert not started.wait(0.3)
    assert "behind the newest record" in health(controller)[1]["clock"]
    assert health(controller)[0] is True  # reported, not a reason for systemd to restart us
    booted["t"] = now + timedelta(seconds=1)  # NTP answered
    wait_for(started.is_set, timeout=10, what="schedules started after the clock caught up")
    assert "clock" not in health(controller)[1]


def test_a_believable_clock_starts_at_once(controller):
    started = threading.Event()
    assert clock.start_when_sane(controller, started.set) is None
    assert started.is_set()
    with controller.db.session() as s:
        s.add(AuditEvent(action="login", actor="a", at=datetime.now(UTC) + timedelta(minutes=2)))
    assert clock.behind_by(controller) is None  # NTP-sized steps are not a broken clock
