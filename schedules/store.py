"""The only module that speaks SQL for schedules and occurrences (the DB is their source of truth).

Everything here runs inside the caller's session/transaction; nothing commits on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from controller.models import Broadcast, Delivery, Occurrence, Schedule

STATUSES = ("active", "paused", "cancelled")
STATES = ("planned", "dispatched", "missed", "cancelled")


def add_schedule(s: Session, *, announcement_id: int | None, plan: dict, targets: dict,
                 user_id: int | None, now: datetime, relay_source_id: int | None = None,
                 relay_duration_s: int | None = None) -> Schedule:
    """Insert an active schedule (an announcement's, or a relay's); occurrences follow from `now`."""
    sch = Schedule(announcement_id=announcement_id, relay_source_id=relay_source_id,
                   relay_duration_s=relay_duration_s, plan=plan, targets=targets, status="active",
                   planned_until=now, created_by=user_id, created_at=now, updated_at=now)
    s.add(sch)
    s.flush()
    return sch


def get_schedule(s: Session, schedule_id: int) -> Schedule | None:
    """A schedule by id with its announcement loaded."""
    return s.scalar(sa.select(Schedule).where(Schedule.id == schedule_id)
                    .options(selectinload(Schedule.announcement)))


def list_schedules(s: Session, status: str | None = None) -> list[Schedule]:
    """Schedules, newest first, optionally of one status."""
    q = sa.select(Schedule).options(selectinload(Schedule.announcement)).order_by(Schedule.id.desc())
    if status:
        q = q.where(Schedule.status == status)
    return list(s.scalars(q))


def active_schedules(s: Session) -> list[Schedule]:
    """Schedules the runner expands."""
    return list_schedules(s, "active")


def existing_keys(s: Session, keys: Iterable[str]) -> set[str]:
    """Which of these occurrence keys already have a row."""
    keys = list(keys)
    found: set[str] = set()
    for i in range(0, len(keys), 500):  # stay under bind-parameter limits
        found |= set(s.scalars(sa.select(Occurrence.occurrence_key)
                               .where(Occurrence.occurrence_key.in_(keys[i:i + 500]))))
    return found


def insert_occurrences(s: Session, schedule_id: int, rows: Iterable[tuple[str, datetime]], now: datetime,
                       state: str = "planned", code: str | None = None, reason: str | None = None,
                       reason_vi: str | None = None) -> int:
    """Add rows for (key, due) pairs not stored yet; returns how many were added."""
    rows = list(rows)
    have = existing_keys(s, [k for k, _ in rows])
    added = 0
    for key, due in rows:
        if key in have:
            continue
        have.add(key)
        s.add(Occurrence(schedule_id=schedule_id, occurrence_key=key, due_at=due, state=state,
                         reason_code=code, reason=reason, reason_vi=reason_vi, updated_at=now))
        added += 1
    s.flush()
    return added


def get_occurrence(s: Session, occurrence_id: int) -> Occurrence | None:
    """An occurrence with its schedule and announcement loaded."""
    return s.scalar(sa.select(Occurrence).where(Occurrence.id == occurrence_id)
                    .options(selectinload(Occurrence.schedule).selectinload(Schedule.announcement)))


def occurrence_by_key(s: Session, key: str) -> Occurrence | None:
    """An occurrence by its unique key."""
    return s.scalar(sa.select(Occurrence).where(Occurrence.occurrence_key == key))


def planned(s: Session, *, due_before: datetime | None = None,
            due_after: datetime | None = None) -> list[Occurrence]:
    """Planned occurrences of active schedules, by due time."""
    q = (sa.select(Occurrence).join(Schedule)
         .where(Occurrence.state == "planned", Schedule.status == "active")
         .options(selectinload(Occurrence.schedule)).order_by(Occurrence.due_at, Occurrence.id))
    if due_before is not None:
        q = q.where(Occurrence.due_at <= due_before)
    if due_after is not None:
        q = q.where(Occurrence.due_at > due_after)
    return list(s.scalars(q))


def claim(s: Session, occurrence_id: int, now: datetime, to_state: str = "dispatched") -> bool:
    """Move a planned occurrence on, atomically: True for exactly one caller, however many try."""
    result = s.execute(sa.update(Occurrence)
                       .where(Occurrence.id == occurrence_id, Occurrence.state == "planned")
                       .values(state=to_state, updated_at=now)
                       .execution_options(synchronize_session=False))
    return result.rowcount == 1


def set_outcome(s: Session, occ: Occurrence, state: str, now: datetime, code: str | None = None,
                reason: str | None = None, reason_vi: str | None = None) -> None:
    """Record what became of an occurrence (reasons are cut to their column size)."""
    occ.state = state
    occ.reason_code = code
    occ.reason = reason[:500] if reason else None
    occ.reason_vi = reason_vi[:500] if reason_vi else None
    occ.updated_at = now


def delete_future_planned(s: Session, schedule_id: int, after: datetime) -> int:
    """Drop planned rows due after `after` (they are re-derived from the edited plan)."""
    result = s.execute(sa.delete(Occurrence).where(
        Occurrence.schedule_id == schedule_id, Occurrence.state == "planned",
        Occurrence.due_at > after).execution_options(synchronize_session=False))
    return result.rowcount


def cancel_future(s: Session, schedule_id: int, after: datetime, now: datetime, code: str,
                  reason: str, reason_vi: str) -> int:
    """Mark planned rows due after `after` cancelled, with the reason."""
    result = s.execute(sa.update(Occurrence).where(
        Occurrence.schedule_id == schedule_id, Occurrence.state == "planned",
        Occurrence.due_at > after).values(state="cancelled", reason_code=code, reason=reason,
                                          reason_vi=reason_vi, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


def restore_paused(s: Session, schedule_id: int, after: datetime, now: datetime) -> int:
    """Put rows cancelled by a pause and due after `after` back to planned."""
    result = s.execute(sa.update(Occurrence).where(
        Occurrence.schedule_id == schedule_id, Occurrence.state == "cancelled",
        Occurrence.reason_code == "paused", Occurrence.due_at > after)
        .values(state="planned", reason_code=None, reason=None, reason_vi=None, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


def occurrences_between(s: Session, start: datetime, end: datetime, limit: int = 5000
                        ) -> list[Occurrence]:
    """Stored occurrences due in [start, end), with their schedule and announcement."""
    return list(s.scalars(
        sa.select(Occurrence).where(Occurrence.due_at >= start, Occurrence.due_at < end)
        .options(selectinload(Occurrence.schedule).selectinload(Schedule.announcement))
        .order_by(Occurrence.due_at, Occurrence.id).limit(limit)))


def broadcasts_for_keys(s: Session, keys: Iterable[str]) -> dict[str, Broadcast]:
    """Broadcasts by occurrence_key (repeats included), with deliveries loaded."""
    keys = list(keys)
    out: dict[str, Broadcast] = {}
    for i in range(0, len(keys), 500):
        q = (sa.select(Broadcast).where(Broadcast.occurrence_key.in_(keys[i:i + 500]))
             .options(selectinload(Broadcast.deliveries).selectinload(Delivery.events)))
        out.update({b.occurrence_key: b for b in s.scalars(q)})
    return out


def broadcast_by_key(s: Session, key: str) -> Broadcast | None:
    """The broadcast already written for an occurrence key, if any."""
    return s.scalar(sa.select(Broadcast).where(Broadcast.occurrence_key == key))
