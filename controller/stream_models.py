"""Tables for stream sessions (relays and live): the session, one delivery per speaker, gaps.

A session has an integer id; its wire id is "<kind>-<id>" ("relay-12", "live-3") and its
Icecast mount "/<kind>-<id>" (`StreamSession.key`, `.mount`). Like file deliveries, a stream
delivery's history is an append-only list of events; `state` caches the latest meaningful one.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controller.models import Base, Speaker, UTCDateTime, utcnow

SESSION_STATES = ("scheduled", "active", "ended")


class StreamSession(Base):
    """One relay or live session: a mount, a time window, and the speakers that pull it."""

    __tablename__ = "stream_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    """relay or live."""
    title: Mapped[str] = mapped_column(sa.String(200))
    priority: Mapped[str] = mapped_column(sa.String(20), default="normal")
    mount: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    """'/<kind>-<id>', set in the transaction that creates the session."""
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default="scheduled", index=True)
    end_reason: Mapped[str | None] = mapped_column(sa.String(200))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    origin_id: Mapped[int | None] = mapped_column(index=True)
    """The relay (kind relay) or live request (kind live) this session carries out, if any."""
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deliveries: Mapped[list[StreamDelivery]] = relationship(
        back_populates="session", order_by="StreamDelivery.id")
    gaps: Mapped[list[StreamGap]] = relationship(back_populates="session",
                                                 order_by="StreamGap.started_at")

    @property
    def key(self) -> str:
        """The session id on the wire: 'relay-12'."""
        return f"{self.kind}-{self.id}"


class StreamDelivery(Base):
    """One session to one speaker: the play_stream command, its listener token, what aired."""

    __tablename__ = "stream_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("stream_sessions.id"), index=True)
    speaker_id: Mapped[str] = mapped_column(sa.ForeignKey("speakers.id"), index=True)
    command_id: Mapped[str] = mapped_column(sa.String(80), unique=True)
    stop_command_id: Mapped[str] = mapped_column(sa.String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    """SHA-256 of the listener token; the token itself is derived again when (re)sent."""
    state: Mapped[str] = mapped_column(sa.String(20), default="queued", index=True)
    state_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sends: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_seen: Mapped[bool] = mapped_column(default=False)
    stop_wanted: Mapped[bool] = mapped_column(default=False)
    """The session was stopped: a stop command goes (again) to this speaker."""
    stop_sends: Mapped[int] = mapped_column(default=0)
    stop_last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listener_client: Mapped[str | None] = mapped_column(sa.String(40))
    """Icecast's id of this speaker's admitted connection, to drop it on revoke or stop."""
    session: Mapped[StreamSession] = relationship(back_populates="deliveries")
    speaker: Mapped[Speaker] = relationship()
    events: Mapped[list[StreamDeliveryEvent]] = relationship(
        back_populates="delivery", order_by="StreamDeliveryEvent.id")


class StreamDeliveryEvent(Base):
    """An append-only fact about a stream delivery: queued, sent, stream_playing, …"""

    __tablename__ = "stream_delivery_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("stream_deliveries.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(12))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    delivery: Mapped[StreamDelivery] = relationship(back_populates="events")


class StreamGap(Base):
    """An upstream outage in a session (down, silent, switched to backup), with its reason."""

    __tablename__ = "stream_gaps"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("stream_sessions.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """None while the outage lasts."""
    reason: Mapped[str] = mapped_column(sa.String(500))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    session: Mapped[StreamSession] = relationship(back_populates="gaps")
