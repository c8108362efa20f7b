"""Turning one due occurrence into broadcasts (one per repeat), or into a recorded miss.

The claim (UPDATE … WHERE state='planned') and the broadcasts are written in one transaction,
so two timers, a refresh racing a timer, or a restart can never air one occurrence twice;
Broadcast.occurrence_key UNIQUE is the second guard (Relay.occurrence_key for a scheduled
relay, whose occurrence opens a relay instead). Anything that stops an occurrence from playing
ends as state 'missed' with a reason in English and Vietnamese, never as silence.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from controller.models import Occurrence, User
from controller.services import audit, broadcasts, registry
from controller.services.errors import ServiceError
from schedules import store
from schedules.plan import SchedulePlan
from schedules.runtime import Due, decide, missed_reason, play_at_for

log = logging.getLogger(__name__)


def repeat_key(key: str, index: int) -> str:
    """Broadcast.occurrence_key of the index-th play (0-based) of an occurrence."""
    return key if index == 0 else f"{key}#{index + 1}"


@dataclass(frozen=True)
class Outcome:
    """What fire() did."""

    state: str
    """dispatched, missed, waiting, or skipped (someone else already handled it)."""
    broadcast_ids: tuple[int, ...] = ()
    """Broadcasts written, one per repeat."""


def _plays(plan: SchedulePlan, due: datetime, now: datetime, duration_s: float
           ) -> list[tuple[datetime, int]]:
    """(play_at, ttl_s) per repeat; each repeat may start until its nominal time + validity."""
    step = timedelta(seconds=duration_s + plan.repeat_gap_s)
    first = play_at_for(due, now)
    plays = []
    for i in range(plan.repeat_count):
        play_at = first + i * step
        last_start = due + i * step + timedelta(seconds=plan.validity_s)
        plays.append((play_at, max(1, math.ceil((last_start - play_at).total_seconds()))))
    return plays


def record_missed(s, occ: Occurrence, now: datetime, code: str, reason: str, reason_vi: str) -> None:
    """Mark an occurrence missed with its reason, and say so in the audit log."""
    store.set_outcome(s, occ, "missed", now, code, reason, reason_vi)
    audit.record(s, "occurrence_missed", target=f"occurrence:{occ.occurrence_key}",
                 detail=f"{code}: {reason}")
    log.warning("occurrence %s missed (%s): %s", occ.occurrence_key, code, reason)


def fire(ctx, occurrence_id: int, now: datetime, timezone: str) -> Outcome:
    """Claim a planned occurrence and write its broadcasts; a late or unplayable one is recorded missed."""
    lead_s = ctx.settings.lead_time_s
    with ctx.db.session() as s:
        occ = store.get_occurrence(s, occurrence_id)
        if occ is None or occ.state != "planned" or occ.schedule.status != "active":
            return Outcome("skipped")
        plan = SchedulePlan.from_dict(occ.schedule.plan)
        verdict = decide(occ.due_at, plan.validity_s, now, lead_s)
        if verdict == "wait":
            return Outcome("waiting")  # the timer ran early; the next refresh re-arms it
        if not store.claim(s, occ.id, now):
            return Outcome("skipped")
        if verdict == "missed":
            en, vi = missed_reason(Due(str(occ.schedule_id), occ.due_at), plan.validity_s, now, timezone)
            record_missed(s, occ, now, "expired", en, vi)
            return Outcome("missed")
        try:
            # broadcasts.create checks approval, audio and priority before writing anything,
            # so a ServiceError leaves only the claim in this transaction (no savepoint needed:
            # pysqlite's SAVEPOINT handling is unreliable).
            if occ.schedule.relay_source_id is not None:
                _write_relay(s, occ, now)
                ids = []
            else:
                ids = _write_broadcasts(s, occ, plan, now, lead_s)
        except ServiceError as exc:
            record_missed(s, occ, now, "failed", f"Not played: {exc.message}.",
                          f"Không phát: {exc.message} (lỗi khi gửi lệnh phát).")
            return Outcome("missed")
        store.set_outcome(s, occ, "dispatched", now)
        occ.broadcast_id = ids[0] if ids else None
        due_to_send = occ.due_at - timedelta(seconds=lead_s)
    metrics = getattr(ctx, "metrics", None)
    if metrics is not None:  # how late the timer fired against the moment it should have sent
        metrics.scheduler_lag_seconds.observe(max(0.0, (now - due_to_send).total_seconds()))
    ctx.kick()
    if not ids and getattr(ctx, "relays", None) is not None:
        ctx.relays.kick()
    log.info("occurrence %s dispatched as broadcast(s) %s", occ.occurrence_key, list(ids))
    return Outcome("dispatched", tuple(ids))


def fire_safely(ctx, occurrence_id: int, now: datetime, timezone: str) -> Outcome:
    """fire(), but a duplicate-key race ends as 'skipped' with the existing broadcast linked."""
    try:
        return fire(ctx, occurrence_id, now, timezone)
    except IntegrityError:
        # Another controller process wrote this occurrence's broadcast first.
        with ctx.db.session() as s:
            occ = store.get_occurrence(s, occurrence_id)
            existing = store.broadcast_by_key(s, occ.occurrence_key) if occ else None
            if occ is not None and existing is not None and occ.state == "planned":
                store.set_outcome(s, occ, "dispatched", now)
                occ.broadcast_id = existing.id
        log.warning("occurrence %s was already dispatched elsewhere", occurrence_id)
        return Outcome("skipped")


def _write_broadcasts(s, occ: Occurrence, plan: SchedulePlan, now: datetime, lead_s: int) -> list[int]:
    sch = occ.schedule
    ann = sch.announcement
    speakers = registry.resolve_targets(s, sch.targets)
    user = s.get(User, sch.created_by) if sch.created_by else None
    duration_s = (ann.audio.duration_ms / 1000) if ann.audio else 0.0
    ids = []
    for i, (play_at, ttl_s) in enumerate(_plays(plan, occ.due_at, now, duration_s)):
        b = broadcasts.create(s, announcement=ann, speakers=speakers, priority=plan.priority,
                              user=user, play_at=play_at, ttl_s=ttl_s, lead_s=lead_s,
                              occurrence_key=repeat_key(occ.occurrence_key, i), now=now)
        ids.append(b.id)
    return ids


def _write_relay(s, occ: Occurrence, now: datetime) -> None:
    """A scheduled relay's occurrence opens a relay (and its stream session) for its duration.

    It starts at the due time (or now, if the occurrence fires late within its validity) and
    ends at due + duration in any case: a late relay is shorter, never longer.
    """
    from controller.services import relays

    sch = occ.schedule
    until = occ.due_at + timedelta(seconds=sch.relay_duration_s)
    if until <= now:
        raise ServiceError("relay_over", "the relay's time was over before it could start")
    user = s.get(User, sch.created_by) if sch.created_by else None
    relays.create(s, source_id=sch.relay_source_id, targets=sch.targets,
                  starts_at=max(occ.due_at, now), until=until, user=user,
                  occurrence_key=occ.occurrence_key)
