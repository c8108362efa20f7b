"""Is this machine's clock believable before schedules fire on it?

A Pi has no battery-backed clock: after a power cut it boots at the time it last saved
(fake-hwclock) or at 1970 until NTP answers, and a controller on it would fire — or mark
missed — every schedule on a wrong clock. systemd's time-sync.target makes the service wait
for NTP, but only when systemd-time-wait-sync is enabled and NTP is reachable at all. So
the controller also refuses a clock that is clearly behind what it has already recorded:
the newest instant written by this same machine (audit trail, delivery log) is a floor the
true time cannot be under. Schedules start only once the clock has passed that floor.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa

from controller.models import AuditEvent, DeliveryEvent, utcnow

log = logging.getLogger(__name__)
TOLERANCE = timedelta(minutes=5)
"""A clock this far behind the newest record is taken as wrong (small steps are NTP's)."""


def newest_record(s) -> datetime | None:
    """The newest instant this controller has written: a floor for the true time."""
    audit = s.scalar(sa.select(sa.func.max(AuditEvent.at)))
    recorded = s.scalar(sa.select(sa.func.max(DeliveryEvent.recorded_at)))
    found = [t for t in (audit, recorded) if t is not None]
    return max(found) if found else None


def behind_by(ctl, now: datetime | None = None) -> timedelta | None:
    """How far the clock is behind the newest record, when that is beyond the tolerance."""
    now = now or utcnow()
    with ctl.db.session() as s:
        floor = newest_record(s)
    if floor is None or now >= floor - TOLERANCE:
        return None
    return floor - now


def start_when_sane(ctl, start, clock=utcnow, poll_s: float = 15.0) -> threading.Thread | None:
    """Call start() now if the clock is believable, else from a thread once it has caught up."""
    gap = behind_by(ctl, clock())
    if gap is None:
        start()
        return None
    ctl.clock_problem = f"the clock is {gap} behind the newest record; schedules wait for NTP"
    log.error("clock: %s", ctl.clock_problem)

    def wait():
        while behind_by(ctl, clock()) is not None:
            if ctl.stopping.wait(poll_s):
                return
        ctl.clock_problem = None
        log.warning("clock: caught up with the records; starting the schedules")
        start()

    t = threading.Thread(target=wait, name="clock-wait", daemon=True)
    t.start()
    return t
