"""What relays and live sessions aired, per speaker and per hamlet, for the log and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from controller.models import Hamlet, Speaker
from controller.services import streams
from controller.stream_models import StreamDelivery, StreamSession

STOP_EVENTS = ("stream_stopped", "ended", "cancelled", "missed", "rejected", "expired")


@dataclass(frozen=True)
class StreamLogRow:
    """One session on one speaker: when it started and stopped there, what aired, the gaps."""

    session_id: str
    kind: str
    title: str
    hamlet: str
    speaker_id: str
    state: str
    started_at: datetime | None
    """First stream_playing from the speaker (None: it never played)."""
    stopped_at: datetime | None
    stop_reason: str | None
    aired_s: float
    gaps: list[tuple[datetime, datetime | None, str]] = field(default_factory=list)


@dataclass(frozen=True)
class StreamHamletLine:
    """Minutes of relay and live aired in one hamlet (summed over its speakers)."""

    hamlet: str
    relay_min: float
    live_min: float


def _bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(date_from, time(0), tzinfo=tz)
    return start, datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=tz)


def rows(s: Session, date_from: date, date_to: date, tz: ZoneInfo) -> list[StreamLogRow]:
    """Every stream delivery of sessions starting in local dates date_from..date_to."""
    start, end = _bounds(date_from, date_to, tz)
    hamlets = dict(s.execute(sa.select(Speaker.id, Hamlet.name).join(Hamlet)).all())
    sessions = s.scalars(
        sa.select(StreamSession)
        .where(StreamSession.starts_at >= start, StreamSession.starts_at < end)
        .options(selectinload(StreamSession.deliveries).selectinload(StreamDelivery.events),
                 selectinload(StreamSession.gaps))
        .order_by(StreamSession.starts_at, StreamSession.id)).all()
    out = []
    for session in sessions:
        gaps = [(g.started_at, g.ended_at, g.reason) for g in session.gaps]
        for d in session.deliveries:
            played = [e.at for e in d.events if e.source == "agent" and e.event == "stream_playing"]
            stops = [e for e in d.events if e.event in STOP_EVENTS]
            last = stops[-1] if stops else None
            out.append(StreamLogRow(
                session_id=session.key, kind=session.kind, title=session.title,
                hamlet=hamlets.get(d.speaker_id, ""), speaker_id=d.speaker_id, state=d.state,
                started_at=min(played) if played else None,
                stopped_at=last.at if last else None,
                stop_reason=(last.detail or last.event) if last else None,
                aired_s=streams.aired_seconds(session, d), gaps=gaps))
    return out


def airtime_by_hamlet(log_rows: list[StreamLogRow]) -> list[StreamHamletLine]:
    """Relay and live minutes per hamlet from the rows of `rows()`."""
    sums: dict[str, dict[str, float]] = {}
    for r in log_rows:
        per = sums.setdefault(r.hamlet, {"relay": 0.0, "live": 0.0})
        per[r.kind] = per.get(r.kind, 0.0) + r.aired_s
    return [StreamHamletLine(h, round(v["relay"] / 60, 1), round(v["live"] / 60, 1))
            for h, v in sorted(sums.items())]
