"""The ingestor's SQL: reads and bulk writes of one batch of acks and speaker states.

SQLAlchemy Core, a fixed number of statements per batch whatever its size: the ORM
unit of work (an object per event, a per-row UPDATE per delivery at flush) was about
60 % of the ingestor's time (docs/benchmarks.md, "Fan-out"). Same SQL on SQLite and
PostgreSQL; IN lists are chunked to stay under every backend's parameter limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import AuditEvent, Delivery, DeliveryEvent, Speaker

CHUNK = 500
_deliveries = Delivery.__table__
_events = DeliveryEvent.__table__
_speakers = Speaker.__table__


@dataclass(frozen=True)
class DeliveryRow:
    """What the ingestor needs of a delivery: no ORM object, no lazy loads."""

    id: int
    command_id: str
    speaker_id: str
    state: str


def _chunks(values) -> list:
    ids = sorted(values)
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def deliveries(s: Session, command_ids: set[str]) -> dict[str, DeliveryRow]:
    """File deliveries by command id (one SELECT per 500 ids)."""
    t = _deliveries
    found: dict[str, DeliveryRow] = {}
    for chunk in _chunks(command_ids):
        for r in s.execute(sa.select(t.c.id, t.c.command_id, t.c.speaker_id, t.c.state)
                           .where(t.c.command_id.in_(chunk))):
            found[r.command_id] = DeliveryRow(r.id, r.command_id, r.speaker_id, r.state)
    return found


def seen_agent_events(s: Session, delivery_ids) -> set[tuple[int, str, datetime]]:
    """(delivery id, event, at) of agent events already recorded for these deliveries."""
    t = _events
    seen: set = set()
    for chunk in _chunks(set(delivery_ids)):
        rows = s.execute(sa.select(t.c.delivery_id, t.c.event, t.c.at).where(
            t.c.delivery_id.in_(chunk), t.c.source == "agent"))
        seen.update((r[0], r[1], r[2]) for r in rows)
    return seen


def audited_rejections(s: Session, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """(speaker, command id) of these rejections already in the audit log."""
    seen: set = set()
    for chunk in _chunks({cmd for _, cmd in keys}):
        rows = s.execute(sa.select(AuditEvent.actor, AuditEvent.target).where(
            AuditEvent.action == "command_rejected", AuditEvent.target.in_(chunk)))
        seen.update((r[0], r[1]) for r in rows)
    return seen & keys


def add_agent_events(s: Session, rows: list[dict]) -> None:
    """Append agent events: one INSERT … executemany.

    Each row: delivery_id, event, at, recorded_at, detail.
    """
    if rows:
        s.execute(_events.insert().values(source="agent"), rows)


def advance_states(s: Session, moves: list[dict], final: tuple[str, ...]) -> None:
    """Move deliveries to the state agents reported: one UPDATE … CASE, executemany.

    Each move: did, new_state, new_at. The CASE reads the row's state as stored at
    UPDATE time, not as the batch read it: a final state (played, cancelled, …) written
    meanwhile by anyone is kept, as the dispatcher's `sent` keeps an agent's state.
    """
    if not moves:
        return
    # Rows are locked in id order, as the dispatcher locks them (dispatcher._record_sent):
    # in arrival order, a batch of acks and the `sent` of a 10,000-speaker group command
    # deadlocked on PostgreSQL (seen in bench.fanout --province).
    moves = sorted(moves, key=lambda m: m["did"])
    t = _deliveries
    done = sa.or_(*(t.c.state == sa.literal(x) for x in final))  # no IN: executemany
    s.execute(t.update().where(t.c.id == sa.bindparam("did")).values(
        state=sa.case((done, t.c.state), else_=sa.bindparam("new_state", type_=t.c.state.type)),
        state_at=sa.case((done, t.c.state_at),
                         else_=sa.bindparam("new_at", type_=t.c.state_at.type)),
        agent_seen=True), moves)


def speaker_states(s: Session, speaker_ids: set[str]) -> dict[str, dict | None]:
    """The stored state of each registered speaker among these (absent: not registered)."""
    t = _speakers
    found: dict[str, dict | None] = {}
    for chunk in _chunks(speaker_ids):
        for r in s.execute(sa.select(t.c.id, t.c.state).where(t.c.id.in_(chunk))):
            found[r.id] = r.state
    return found


def store_states(s: Session, rows: list[dict], now: datetime) -> None:
    """Write speakers' latest states: one UPDATE executemany per online/offline group.

    Each row: sid, online, state. `last_seen` moves only when the speaker says it is online.
    """
    t = _speakers
    for online in (True, False):
        group = [{"sid": r["sid"], "b_state": r["state"]} for r in rows if r["online"] is online]
        if not group:
            continue
        values = {"online": online, "state": sa.bindparam("b_state", type_=t.c.state.type),
                  "state_at": now}
        if online:
            values["last_seen"] = now
        s.execute(t.update().where(t.c.id == sa.bindparam("sid")).values(**values), group)
