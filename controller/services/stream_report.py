"""Minutes of relay (tiếp sóng) and live audio aired per hamlet, for the period report.

Counted from what each speaker acknowledged (stream_playing until stalled or stopped, as in
streams.aired_seconds), so a hamlet whose speaker lost the stream is not credited for it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from controller.models import Speaker
from controller.services import streams
from controller.stream_models import StreamDelivery, StreamSession


@dataclass(frozen=True)
class StreamLine:
    """One hamlet's stream airtime in the period, in speaker-minutes."""

    hamlet: str
    relay_min: float
    live_min: float


def minutes_per_hamlet(s: Session, start: datetime, end: datetime) -> list[StreamLine]:
    """Speaker-minutes of relay and live aired per hamlet, for sessions starting in [start, end)."""
    sessions = s.scalars(
        sa.select(StreamSession).where(StreamSession.starts_at >= start,
                                       StreamSession.starts_at < end)
        .options(selectinload(StreamSession.deliveries).selectinload(StreamDelivery.events),
                 selectinload(StreamSession.deliveries).selectinload(StreamDelivery.speaker)
                 .selectinload(Speaker.hamlet))).all()
    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"relay": 0.0, "live": 0.0})
    for session in sessions:
        for d in session.deliveries:
            aired = streams.aired_seconds(session, d)
            if aired > 0:
                totals[d.speaker.hamlet.name][session.kind] += aired / 60
    return [StreamLine(h, round(v["relay"], 1), round(v["live"], 1))
            for h, v in sorted(totals.items())]
