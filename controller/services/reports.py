"""The period report a commune sends to the city: broadcasts, airtime, success per hamlet, problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Announcement, AudioAsset, Broadcast, Delivery, Hamlet, Speaker
from controller.services import delivery_log, stream_log


@dataclass(frozen=True)
class HamletLine:
    """Deliveries to one hamlet in the period."""

    hamlet: str
    deliveries: int
    played: int

    @property
    def success_pct(self) -> float:
        """Share of deliveries that played, in percent."""
        return 100.0 * self.played / self.deliveries if self.deliveries else 0.0


@dataclass(frozen=True)
class Report:
    """Everything the printed report shows."""

    date_from: date
    date_to: date
    broadcasts: int
    by_priority: dict[str, int]
    emergency_overrides: int
    airtime_s: float
    """Sum over played deliveries of the audio duration (speaker-seconds on air)."""
    deliveries: int
    played: int
    hamlets: list[HamletLine]
    problems: list[delivery_log.LogRow]
    streams: list[stream_log.StreamLogRow] = field(default_factory=list)
    """Relay and live sessions per speaker: start, stop, seconds aired, gaps."""
    stream_hamlets: list[stream_log.StreamHamletLine] = field(default_factory=list)
    """Minutes of relay and live aired per hamlet."""

    @property
    def success_pct(self) -> float:
        """Share of all deliveries that played, in percent."""
        return 100.0 * self.played / self.deliveries if self.deliveries else 0.0


def period(s: Session, date_from: date, date_to: date, tz: ZoneInfo) -> Report:
    """Build the report for local dates date_from..date_to inclusive."""
    start = datetime.combine(date_from, time(0), tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=tz)
    in_period = sa.and_(Broadcast.play_at >= start, Broadcast.play_at < end)
    by_priority = dict(s.execute(sa.select(Broadcast.priority, sa.func.count())
                                 .where(in_period).group_by(Broadcast.priority)).all())
    overrides = s.scalar(sa.select(sa.func.count()).select_from(Broadcast)
                         .where(in_period, Broadcast.emergency_override.is_(True))) or 0
    played = Delivery.state == "played"
    lines = s.execute(
        sa.select(Hamlet.name, sa.func.count(Delivery.id),
                  sa.func.sum(sa.case((played, 1), else_=0)))
        .select_from(Delivery).join(Broadcast, Delivery.broadcast_id == Broadcast.id)
        .join(Speaker, Delivery.speaker_id == Speaker.id).join(Hamlet, Speaker.hamlet_id == Hamlet.id)
        .where(in_period).group_by(Hamlet.name).order_by(Hamlet.name)).all()
    airtime_ms = s.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(AudioAsset.duration_ms), 0))
        .select_from(Delivery).join(Broadcast, Delivery.broadcast_id == Broadcast.id)
        .join(Announcement, Broadcast.announcement_id == Announcement.id)
        .join(AudioAsset, Announcement.audio_sha256 == AudioAsset.sha256)
        .where(in_period, played)) or 0
    hamlets = [HamletLine(name, n, int(p or 0)) for name, n, p in lines]
    problems = []
    for state in delivery_log.PROBLEM_STATES:
        f = delivery_log.LogFilter(date_from=date_from, date_to=date_to, state=state)
        problems += list(delivery_log.iter_rows(s, f, tz))
    problems.sort(key=lambda r: (r.play_at, r.speaker_id))
    stream_rows = stream_log.rows(s, date_from, date_to, tz)
    return Report(date_from=date_from, date_to=date_to, broadcasts=sum(by_priority.values()),
                  by_priority=by_priority, emergency_overrides=overrides,
                  airtime_s=airtime_ms / 1000, deliveries=sum(h.deliveries for h in hamlets),
                  played=sum(h.played for h in hamlets), hamlets=hamlets, problems=problems,
                  streams=stream_rows, stream_hamlets=stream_log.airtime_by_hamlet(stream_rows))
