"""Relays (tiếp sóng): a source to these speakers from now (or a due occurrence) until an end.

Who may start one: a relay airs at once with no approval step, like sending an approved
bulletin, so it takes the same roles as 'send now' (admin, approver). Editors may register
and listen to sources; what goes on air is decided by an approver.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import User, utcnow
from controller.relay_models import Relay, RelayEvent
from controller.services import access, audit, registry, relay_log, sources, streams
from controller.services.errors import Conflict, Forbidden, NotFound, ServiceError
from controller.services.sending import SEND_ROLES

MAX_DURATION_S = 24 * 3600
RELAY_PRIORITY = "normal"
"""Sessions of kind 'relay' rank between priority and normal announcements (protocol.airtime_rank)."""


def parse_end(now: datetime, until=None, duration_s=None) -> datetime:
    """The end instant from `until` (ISO 8601 with a zone) or `duration_s`; exactly one is given."""
    if (until is None) == (duration_s is None):
        raise ServiceError("end_required", "give either 'until' or 'duration_s'", field="until")
    if duration_s is not None:
        if isinstance(duration_s, bool) or not isinstance(duration_s, int | float) \
                or not 10 <= duration_s <= MAX_DURATION_S:
            raise ServiceError("bad_duration", f"field 'duration_s' must be 10-{MAX_DURATION_S} "
                                               "seconds", field="duration_s")
        return now + timedelta(seconds=duration_s)
    try:
        end = datetime.fromisoformat(until) if isinstance(until, str) else None
    except ValueError:
        end = None
    if end is None or end.tzinfo is None:
        raise ServiceError("bad_until", "field 'until' must be a time with its zone, e.g. "
                                        "2026-01-31T06:30:00+07:00", field="until")
    if end <= now + timedelta(seconds=10):
        raise ServiceError("until_past", "field 'until' is not in the future", field="until")
    if end > now + timedelta(seconds=MAX_DURATION_S):
        raise ServiceError("until_too_far", "a relay lasts at most 24 hours", field="until")
    return end


def conflicts(s: Session, speaker_ids: list[str], starts_at: datetime, until: datetime) -> list[dict]:
    """Relays not ended that overlap this time on any of these speakers: one row per speaker."""
    out = []
    for session, sid in streams.overlapping(s, speaker_ids, starts_at, until, kind="relay"):
        r = s.scalar(sa.select(Relay).where(Relay.session_id == session.id))
        out.append({"speaker_id": sid, "relay_id": r.id if r else None,
                    "title": r.source.name if r else session.title,
                    "starts_at": session.starts_at, "until": session.until})
    return out


def create(s: Session, *, source_id, targets, starts_at: datetime, until: datetime,
           user: User | None, occurrence_key: str | None = None) -> Relay:
    """Write a running relay and open its stream session; a clash with another relay is a Conflict."""
    src = sources.get(s, source_id)
    speakers = registry.resolve_targets(s, targets)
    if not speakers:
        raise ServiceError("no_speakers", "the targets contain no active speaker", field="targets")
    ids = [spk.id for spk in speakers]
    clash = conflicts(s, ids, starts_at, until)
    if clash:
        c = clash[0]
        raise Conflict("relay_conflict",
                       f"speaker {c['speaker_id']} already relays {c['title']!r} (relay "
                       f"{c['relay_id']}) until {c['until'].isoformat(timespec='minutes')}; "
                       f"{len(clash)} speaker(s) clash", field="targets",
                       speaker=c["speaker_id"], relay=c["relay_id"], title=c["title"],
                       until=c["until"])
    r = Relay(source_id=src.id, targets=targets, speakers=ids, starts_at=starts_at, until=until,
              state="running", occurrence_key=occurrence_key,
              created_by=user.id if user else None)
    s.add(r)
    s.flush()
    r.session_id = _open_session(s, r, ids, src.name, user)
    s.add(RelayEvent(relay_id=r.id, event="started", at=starts_at,
                               detail=f"{src.name} to {len(ids)} speaker(s)"))
    audit.record(s, "relay_started", actor=user.username if user else None,
                 target=f"relay:{r.id}",
                 detail=f"{src.name} → {', '.join(ids)[:300]} until {until.isoformat()}")
    return r


def _open_session(s: Session, r: Relay, speaker_ids: list[str], title: str, user) -> int:
    session = streams.open_session(s, kind="relay", speakers=speaker_ids, starts_at=r.starts_at,
                                   until=r.until, user=user, title=f"Tiếp sóng {title}",
                                   priority=RELAY_PRIORITY, origin_id=r.id)
    return session.id


def start_now(ctx, *, source_id, targets, until=None, duration_s=None, user: User) -> int:
    """Start a relay now (admin/approver); returns its id and wakes the supervisor."""
    if user.role not in SEND_ROLES:
        raise Forbidden("forbidden_role", "only an approver or admin may put a relay on air")
    now = utcnow()
    end = parse_end(now, until, duration_s)
    with ctx.db.session() as s:
        access.check_targets(s, user, targets)  # a hamlet chief relays to his hamlets only
        r = create(s, source_id=source_id, targets=targets, starts_at=now, until=end,
                   user=s.merge(user))
        rid = r.id
    _wake(ctx)
    return rid


def stop(ctx, relay_id: int, user: User) -> None:
    """Stop a running relay now: the supervisor ends its ffmpeg, the agents get a stop."""
    if user.role not in SEND_ROLES:
        raise Forbidden("forbidden_role", "only an approver or admin may stop a relay")
    with ctx.db.session() as s:
        r = get(s, relay_id, user)
        access.check_targets(s, user, r.targets)  # it also airs outside his hamlets
        if r.state != "running":
            raise Conflict("relay_not_running", f"relay {relay_id} is already {r.state}")
        relay_log.finish(s, r, "stopped", f"stopped by {user.username}", utcnow(),
                         actor=user.username)
        if r.session_id is not None:
            streams.stop_session(s, r.session_id, "stopped", user.username)
    _wake(ctx)


def _wake(ctx) -> None:
    ctx.kick()
    sup = getattr(ctx, "relays", None)
    if sup is not None:
        sup.kick()


def get(s: Session, relay_id: int, user=None) -> Relay:
    """A relay by id, or NotFound (also when it airs nowhere in the user's hamlets)."""
    r = s.get(Relay, relay_id)
    if r is None or not access.targets_visible(s, access.scope_of(user), r.targets):
        raise NotFound("unknown_relay", f"unknown relay {relay_id}")
    return r


def recent(s: Session, limit: int = 20, user=None) -> list[Relay]:
    """Running relays first, then the most recent (those airing in the user's hamlets)."""
    running = sa.case((Relay.state == "running", 0), else_=1)
    query = sa.select(Relay).order_by(running, Relay.id.desc())
    scope = access.scope_of(user)
    if not scope.limited:  # the whole commune sees every relay: the database cuts the list
        return list(s.scalars(query.limit(limit)))
    rows = s.scalars(query)
    out = []
    for r in rows:
        if access.targets_visible(s, scope, r.targets):
            out.append(r)
            if len(out) == limit:
                break
    return out
