"""Tables of the province link: the upward outbox and the bulletins received from the province."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from controller.models import Base, UTCDateTime, utcnow


class ProvinceRecord(Base):
    """One upward record (device status or aired-bulletin log) waiting for, or sent to, the province."""

    __tablename__ = "province_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    """status or aired."""
    speaker_id: Mapped[str] = mapped_column(sa.String(63), index=True)
    record_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """Sent with the record (MaBanGhi and the Idempotency-Key header): the province dedupes on it."""
    delivery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deliveries.id"))
    body: Mapped[dict] = mapped_column(sa.JSON)
    """The facts at the time of the cause; rendered with the mapping when sent."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))


class ProvinceBulletin(Base):
    """A bulletin the province sent down, by its BanTinId: seen once, processed once."""

    __tablename__ = "province_bulletins"
    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[int] = mapped_column(default=3)
    """MucDoUuTien: 1 emergency, 2 priority, 3 normal."""
    field: Mapped[int | None] = mapped_column()
    """LinhVuc."""
    announcement_id: Mapped[int] = mapped_column(sa.ForeignKey("announcements.id"))
    schedule_ids: Mapped[list | None] = mapped_column(sa.JSON)
    """Ids of the schedules (one per airing instant of LichPhat)."""
    state: Mapped[str] = mapped_column(sa.String(20), default="scheduled")
    """scheduled, waiting (for an approver), cancelled or ignored."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
