"""Tables the web workflow adds: broadcast requests awaiting approval and used form tokens.

Kept out of controller/models.py so the schedule work appending there never collides with
this; both share `Base`, so Alembic and create_all see them once this module is imported.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controller.models import Announcement, Base, Broadcast, UTCDateTime, utcnow

# The delivery log orders by play_at; declared here (with migration 0003) so the model
# metadata matches the schema without touching controller/models.py.
sa.Index("ix_broadcasts_play_at", Broadcast.__table__.c.play_at)


class BroadcastRequest(Base):
    """What an editor asks for with a draft: targets, priority, and now or a schedule.

    Carried out when the announcement is approved (a send-now becomes a broadcast, a
    schedule becomes a schedule), so an approver approves content and plan together.
    """

    __tablename__ = "broadcast_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(sa.ForeignKey("announcements.id"), index=True)
    targets: Mapped[dict] = mapped_column(sa.JSON)
    priority: Mapped[str] = mapped_column(sa.String(20), default="normal")
    when: Mapped[str] = mapped_column(sa.String(20), default="now")
    """"now" (send when approved) or "schedule"."""
    schedule_form: Mapped[dict | None] = mapped_column(sa.JSON)
    schedule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schedules.id"))
    """For a change to an existing schedule: the schedule it replaces once approved."""
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    """pending, done or cancelled."""
    result: Mapped[str | None] = mapped_column(sa.String(200))
    """e.g. "broadcast:12" or "schedule:3" once carried out."""
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    announcement: Mapped[Announcement] = relationship()


class FormSubmission(Base):
    """A one-time form token already used: a double-click or resubmit lands on the first result."""

    __tablename__ = "form_submissions"
    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    result_url: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
