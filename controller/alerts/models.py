"""Tables for public warnings: alerts received, hamlet areas, feed polling state.

Kept out of controller/models.py (like web_models) so other work appending there does not
collide; they share `Base`, so Alembic and create_all see them once this is imported.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from controller.models import Base, UTCDateTime, utcnow


class AlertRecord(Base):
    """One CAP document received, and what was done with it (refused ones too)."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(sa.String(120))
    """'api:<user>' or 'feed:<name>'."""
    identifier: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    sender: Mapped[str | None] = mapped_column(sa.String(255))
    sent: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str | None] = mapped_column(sa.String(20))
    msg_type: Mapped[str | None] = mapped_column(sa.String(20))
    event: Mapped[str | None] = mapped_column(sa.String(255))
    headline: Mapped[str | None] = mapped_column(sa.String(500))
    language: Mapped[str | None] = mapped_column(sa.String(20))
    severity: Mapped[str | None] = mapped_column(sa.String(20))
    urgency: Mapped[str | None] = mapped_column(sa.String(20))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    areas: Mapped[list] = mapped_column(sa.JSON, default=list)
    """Area descriptions as the alert gives them."""
    matched_hamlets: Mapped[list] = mapped_column(sa.JSON, default=list)
    """[{"id": 1, "name": "Ấp Mỹ An"}, …]"""
    action: Mapped[str] = mapped_column(sa.String(20), index=True)
    """emergency, priority, draft, ignored, refused, not_for_us, test, duplicate, update, cancel."""
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    state: Mapped[str] = mapped_column(sa.String(20), default="done")
    """active (repeating), ended (expired), cancelled, replaced (by an Update) or done."""
    broadcast_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    schedule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schedules.id"))
    announcement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("announcements.id"), index=True)
    refers_to: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id"))
    """For Update/Cancel: the alert it changes."""
    raw_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signed: Mapped[bool] = mapped_column(default=False)


class HamletArea(Base):
    """Where a hamlet is, for matching alert areas: a GeoJSON polygon and geocodes."""

    __tablename__ = "hamlet_areas"
    hamlet_id: Mapped[int] = mapped_column(sa.ForeignKey("hamlets.id"), primary_key=True)
    polygon: Mapped[dict | None] = mapped_column(sa.JSON)
    geocodes: Mapped[list] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertFeedState(Base):
    """What the poller last learnt about one configured feed (kept across restarts)."""

    __tablename__ = "alert_feeds"
    name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    etag: Mapped[str | None] = mapped_column(sa.String(255))
    last_modified: Mapped[str | None] = mapped_column(sa.String(80))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    seen: Mapped[list] = mapped_column(sa.JSON, default=list)
    """Entry links already fetched (the newest few hundred), so a feed is not re-read each poll."""
