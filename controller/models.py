"""ORM models. Delivery state is an append-only list of events; `Delivery.state` caches the latest."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns aware UTC (SQLite drops tzinfo)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention (Alembic-friendly)."""

    metadata = sa.MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Hamlet(Base):
    """An ấp: a group of speakers."""

    __tablename__ = "hamlets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    speakers: Mapped[list[Speaker]] = relationship(back_populates="hamlet")


class Speaker(Base):
    """One speaker agent (a Pi with its amplifier and horns)."""

    __tablename__ = "speakers"
    id: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    hamlet_id: Mapped[int] = mapped_column(sa.ForeignKey("hamlets.id"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(120))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    secret_hash: Mapped[str | None] = mapped_column(sa.String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[dict | None] = mapped_column(sa.JSON)
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hamlet: Mapped[Hamlet] = relationship(back_populates="speakers")


class User(Base):
    """A person who logs in: admin, editor, approver or viewer."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    areas: Mapped[list | None] = mapped_column(sa.JSON)
    """Ids of the hamlets this user is limited to; empty or None means the whole commune."""
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    """Bumped to end every web session of the user (logout, password/role/area change, disable)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginAddress(Base):
    """Login attempts from one client address in the current window (the per-address limit)."""

    __tablename__ = "login_addresses"
    ip: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class AudioAsset(Base):
    """A mastered MP3 in the content-addressed store."""

    __tablename__ = "audio_assets"
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    bytes: Mapped[int]
    duration_ms: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(20))
    engine: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Announcement(Base):
    """What is said: text (spoken by an engine) or uploaded/recorded audio."""

    __tablename__ = "announcements"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str | None] = mapped_column(sa.Text)
    spoken_text: Mapped[str | None] = mapped_column(sa.Text)
    audio_sha256: Mapped[str | None] = mapped_column(sa.ForeignKey("audio_assets.sha256"))
    engine: Mapped[str | None] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audio: Mapped[AudioAsset | None] = relationship()


class Broadcast(Base):
    """One airing of an announcement to a set of speakers (send-now or a schedule occurrence)."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(sa.ForeignKey("announcements.id"), index=True)
    priority: Mapped[str] = mapped_column(sa.String(20), default="normal")
    emergency_override: Mapped[bool] = mapped_column(default=False)
    occurrence_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    play_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatch_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """When commands go out: now for send-now, play_at minus the lead time when scheduled."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    announcement: Mapped[Announcement] = relationship()
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="broadcast")


class Delivery(Base):
    """One broadcast to one speaker: the unit of the outbox and of the delivery log."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(sa.ForeignKey("broadcasts.id"), index=True)
    speaker_id: Mapped[str] = mapped_column(sa.ForeignKey("speakers.id"), index=True)
    command_id: Mapped[str] = mapped_column(sa.String(80), unique=True)
    state: Mapped[str] = mapped_column(sa.String(20), default="queued", index=True)
    state_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sends: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_seen: Mapped[bool] = mapped_column(default=False)
    broadcast: Mapped[Broadcast] = relationship(back_populates="deliveries")
    events: Mapped[list[DeliveryEvent]] = relationship(
        back_populates="delivery", order_by="DeliveryEvent.id"
    )


class DeliveryEvent(Base):
    """An append-only fact about a delivery: queued, sent, received, played, failed, …"""

    __tablename__ = "delivery_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(12))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    delivery: Mapped[Delivery] = relationship(back_populates="events")


class AuditEvent(Base):
    """Append-only audit trail: who did what (logins, approvals, sends, role changes, rejections)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    target: Mapped[str | None] = mapped_column(sa.String(200))
    detail: Mapped[str | None] = mapped_column(sa.String(1000))
    ip: Mapped[str | None] = mapped_column(sa.String(64))


class Abbreviation(Base):
    """An admin-editable entry of the speech normalizer's abbreviation dictionary."""

    __tablename__ = "abbreviations"
    id: Mapped[int] = mapped_column(primary_key=True)
    short: Mapped[str] = mapped_column(sa.String(40), unique=True)
    spoken: Mapped[str] = mapped_column(sa.String(200))


class Schedule(Base):
    """When an announcement plays: a SchedulePlan (recurrence, repeats, validity, priority) and targets."""

    __tablename__ = "schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("announcements.id"),
                                                       index=True)
    """What each occurrence plays; None for a scheduled relay."""
    relay_source_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stream_sources.id"))
    """A scheduled relay (tiếp sóng): each occurrence relays this source for relay_duration_s."""
    relay_duration_s: Mapped[int | None]
    plan: Mapped[dict] = mapped_column(sa.JSON)
    """schedules.plan.SchedulePlan.to_dict()."""
    targets: Mapped[dict] = mapped_column(sa.JSON)
    """{"all": true} | {"hamlets": [...]} | {"speakers": [...]}, resolved at each occurrence."""
    status: Mapped[str] = mapped_column(sa.String(20), default="active", index=True)
    """active, paused or cancelled."""
    planned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Occurrences due before this instant have a row; the runner expands from here."""
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    announcement: Mapped[Announcement | None] = relationship()
    relay_source = relationship("StreamSource")  # controller/relay_models.py

    @property
    def title(self) -> str:
        """What the calendar shows: the announcement's title, or 'Tiếp sóng <station>'."""
        if self.announcement is not None:
            return self.announcement.title
        return f"Tiếp sóng {self.relay_source.name}" if self.relay_source else "Tiếp sóng"

    @property
    def airtime_s(self) -> float:
        """Seconds one play lasts: the announcement's audio, or the relay's duration."""
        if self.relay_duration_s is not None:
            return float(self.relay_duration_s)
        audio = self.announcement.audio if self.announcement else None
        return audio.duration_ms / 1000 if audio else 0.0


class Occurrence(Base):
    """One due instant of a schedule and what became of it: planned, dispatched, missed, cancelled."""

    __tablename__ = "occurrences"
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id"), index=True)
    occurrence_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default="planned", index=True)
    reason_code: Mapped[str | None] = mapped_column(sa.String(20))
    """Why it did not play: expired, superseded, paused, cancelled, failed."""
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    reason_vi: Mapped[str | None] = mapped_column(sa.String(500))
    broadcast_id: Mapped[int | None] = mapped_column(sa.ForeignKey("broadcasts.id"))
    """The first play's broadcast; repeats carry the key suffixed '#2', '#3', …"""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    schedule: Mapped[Schedule] = relationship()


# Tables that refer to these (sources, relays, stream sessions) live in their own modules;
# importing them here registers them whenever the models are used, so string relationships
# such as Schedule.relay_source always resolve.
import controller.relay_models  # noqa: E402, F401
