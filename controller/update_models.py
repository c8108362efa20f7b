"""Tables for agent updates over the air: published releases, rollout targets, per-speaker attempts.

A release is a commune-radio wheel kept in the data directory by its SHA-256. A target
says which version a hamlet (or one speaker, or the whole commune) should run; the most
specific target wins, so a rollout is staged by targeting one hamlet first, then all.
An attempt is one signed `update` command to one speaker and how it ended.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from controller.models import Base, UTCDateTime, utcnow

ATTEMPT_STATES = ("sent", "received", "installed", "failed", "rejected", "rolled_back")
FAILED_STATES = ("failed", "rejected", "rolled_back")


class AgentRelease(Base):
    """One published agent version: its wheel, pinned by SHA-256."""

    __tablename__ = "agent_releases"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(40), unique=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
    filename: Mapped[str] = mapped_column(sa.String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(sa.String(80))


class UpdateTarget(Base):
    """The version a hamlet, a speaker or (neither) the whole commune should run."""

    __tablename__ = "update_targets"
    __table_args__ = (sa.UniqueConstraint("hamlet_id", "speaker_id", name="uq_update_targets_scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hamlet_id: Mapped[int | None] = mapped_column(sa.ForeignKey("hamlets.id"))
    speaker_id: Mapped[str | None] = mapped_column(sa.ForeignKey("speakers.id"))
    version: Mapped[str] = mapped_column(sa.String(40))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UpdateAttempt(Base):
    """One `update` command sent to one speaker, and its outcome from the agent's acks."""

    __tablename__ = "update_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    command_id: Mapped[str] = mapped_column(sa.String(80), unique=True)
    speaker_id: Mapped[str] = mapped_column(sa.ForeignKey("speakers.id"), index=True)
    version: Mapped[str] = mapped_column(sa.String(40))
    from_version: Mapped[str | None] = mapped_column(sa.String(40))
    state: Mapped[str] = mapped_column(sa.String(20), default="sent")
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
