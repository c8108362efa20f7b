"""Broadcasts: one announcement aired on a set of speakers, written to the outbox first."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Announcement, Broadcast, Delivery, DeliveryEvent, Speaker, User, utcnow
from controller.services import access, audit, deliveries
from controller.services.errors import Forbidden, NotFound, ServiceError
from protocol.groups import member_command_id, new_group_id
from protocol.messages import PRIORITIES


def create(s: Session, *, announcement: Announcement, speakers: list[Speaker], priority: str,
           user: User | None, play_at: datetime | None = None, ttl_s: int = 900,
           lead_s: int = 0, occurrence_key: str | None = None,
           emergency_override: bool = False, now: datetime | None = None,
           rendering: bool = False) -> Broadcast:
    """Write a broadcast and one queued delivery per speaker (the outbox), in the caller's tx.

    `rendering`: the speech is still being made on the render pool (controller/render_pool.py);
    the deliveries wait in state `rendering`, which the dispatcher never publishes, until
    services.rendering.finish() queues them or fail() ends them with the reason.

    `now` is the caller's clock: the schedule runner fires on its own (injectable) clock, and
    dispatch_at/expiry must be computed on that same clock, never on a second, wall-clock one.
    """
    if priority not in PRIORITIES:
        raise ServiceError("bad_priority", f"priority must be one of {', '.join(PRIORITIES)}",
                           field="priority")
    if announcement.status != "approved" and not emergency_override:
        raise Forbidden("not_approved", "the announcement is not approved yet",
                        field="announcement")
    if announcement.audio_sha256 is None and not rendering:
        raise ServiceError("no_audio", "the announcement has no audio", field="announcement")
    # Every path to the air passes here (send, approval, emergency, schedule firing, test tone).
    access.check_priority(user, priority)
    access.check_speakers(s, user, speakers)
    now = now or utcnow()
    play_at = play_at or now
    b = Broadcast(
        announcement=announcement, priority=priority, play_at=play_at,
        dispatch_at=now,
        expires_at=play_at + timedelta(seconds=ttl_s),
        created_by=user.id if user else None, occurrence_key=occurrence_key,
        emergency_override=emergency_override,
    )
    if lead_s:
        b.dispatch_at = max(now, play_at - timedelta(seconds=lead_s))
    s.add(b)
    s.flush()
    # One group id per broadcast; each delivery's command id is derived from it, so the one
    # group command the dispatcher may publish means this very delivery to each agent.
    group_id = new_group_id()
    first = "rendering" if rendering else "queued"
    _write_deliveries(s, b, [spk.id for spk in speakers], group_id, first, now)
    audit.record(s, "broadcast_emergency" if emergency_override else "broadcast_created",
                 actor=user.username if user else None, target=f"broadcast:{b.id}",
                 detail=f"announcement={announcement.id} priority={priority} "
                        f"speakers={len(speakers)}")
    return b


def _write_deliveries(s: Session, b: Broadcast, speaker_ids: list[str], group_id: str,
                      first: str, now: datetime) -> None:
    """One delivery and its first event per speaker, as two bulk statements.

    Through the ORM unit of work a broadcast to 1,000 speakers took ~0.4 s of flush
    bookkeeping alone (bench/fanout.py's API call); Core executemany with RETURNING
    (SQLAlchemy's "insertmanyvalues", ordered by parameter) writes the same rows on SQLite
    and PostgreSQL in a fraction of that. `b.deliveries` is expired so that any reader in
    this transaction loads the rows just written.
    """
    if not speaker_ids:
        return
    table, events = Delivery.__table__, DeliveryEvent.__table__
    ids = s.execute(
        table.insert().returning(table.c.id, sort_by_parameter_order=True),
        [{"broadcast_id": b.id, "speaker_id": sid, "command_id": member_command_id(group_id, sid),
          "state": first, "state_at": now, "sends": 0, "agent_seen": False}
         for sid in speaker_ids]).scalars().all()
    s.execute(events.insert(), [{"delivery_id": i, "event": first, "source": "controller",
                                 "at": now, "recorded_at": utcnow(), "detail": None} for i in ids])
    s.expire(b, ["deliveries"])


def get(s: Session, broadcast_id: int, user=None) -> Broadcast:
    """A broadcast with its deliveries and events, or NotFound (also outside the user's hamlets)."""
    b = deliveries.broadcast_with_deliveries(s, broadcast_id)
    scope = access.scope_of(user)
    if b is None or (scope.limited and not access.visible_deliveries(s, b, scope)):
        raise NotFound("unknown_broadcast", f"unknown broadcast {broadcast_id}")
    return b


def recent(s: Session, limit: int = 20, user=None) -> list[Broadcast]:
    """The newest broadcasts (those reaching the user's hamlets)."""
    q = (sa.select(Broadcast).where(access.broadcast_filter(access.scope_of(user)))
         .order_by(Broadcast.id.desc()).limit(limit))
    return list(s.scalars(q))


def cancel(s: Session, broadcast_id: int, user: User | None) -> Broadcast:
    """Cancel deliveries not yet sent (sent ones are stopped by a stop command, not here)."""
    b = get(s, broadcast_id, user)
    for d in b.deliveries:
        if d.state in ("queued", "rendering"):
            deliveries.append(s, d, "cancelled", "controller", detail="cancelled by user")
    audit.record(s, "broadcast_cancelled", actor=user.username if user else None,
                 target=f"broadcast:{b.id}")
    return b
