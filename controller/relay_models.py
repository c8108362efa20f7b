"""Tables for tiếp sóng: upstream sources, relays of a source to speakers, and the relay log.

Kept out of controller/models.py (like web_models.py) so parallel work there never collides;
they share `Base`, so Alembic and create_all see them once this module is imported.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controller.models import Base, UTCDateTime, utcnow
from controller.stream_models import StreamSession


class StreamSource(Base):
    """An upstream station the commune relays (VOV1, the provincial station, …)."""

    __tablename__ = "stream_sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    url: Mapped[str] = mapped_column(sa.String(1000))
    backup_url: Mapped[str | None] = mapped_column(sa.String(1000))
    format_name: Mapped[str | None] = mapped_column(sa.String(80))
    """What ffprobe said at registration: container (mp3, ogg, hls, aac …)."""
    codec: Mapped[str | None] = mapped_column(sa.String(40))
    bitrate: Mapped[int | None]
    probe_error: Mapped[str | None] = mapped_column(sa.String(500))
    """Set when it was saved anyway although the probe failed (a station off the air at night)."""
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Relay(Base):
    """One relay: a source to these speakers from starts_at to until (now, or a schedule occurrence)."""

    __tablename__ = "relays"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("stream_sources.id"), index=True)
    targets: Mapped[dict] = mapped_column(sa.JSON)
    speakers: Mapped[list] = mapped_column(sa.JSON)
    """Speaker ids the targets resolved to when the relay was made (for conflicts and the log)."""
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default="running", index=True)
    """running, ended (reached until), stopped (by a user) or failed."""
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stream_sessions.id"))
    """The stream session that carries it to the speakers (deliveries, tokens, airtime, gaps)."""
    on_backup: Mapped[bool] = mapped_column(default=False)
    fed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Last time the supervisor saw audio flowing; a restart logs the gap since then."""
    occurrence_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    """Set when a schedule occurrence opened it: the once-only guard."""
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[StreamSource] = relationship()
    session: Mapped[StreamSession | None] = relationship()
    events: Mapped[list[RelayEvent]] = relationship(back_populates="relay",
                                                    order_by="RelayEvent.id")


class RelayEvent(Base):
    """An append-only fact about a relay: started, backup, main, ended, stopped.

    Gaps (outages and silences) are the stream session's (StreamGap), so the per-speaker log
    and the relay page show the same ones.
    """

    __tablename__ = "relay_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    relay_id: Mapped[int] = mapped_column(sa.ForeignKey("relays.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    relay: Mapped[Relay] = relationship(back_populates="events")
