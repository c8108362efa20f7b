"""Stream sessions (relays and live): open, stop, gaps, what aired, and who may listen.

A session is pulled by each of its speakers from one Icecast mount. Every pull is checked
by `check_listener` (Icecast asks the controller on each connect), which fails closed.

The listener token of a delivery is HMAC(stream token key, command id), derived by the
dispatcher when it sends the command (controller/stream_dispatch.py); only its SHA-256 is
stored, written at the first send. Before that no token exists, so nobody can listen.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from controller.models import Speaker, User, utcnow
from controller.services import audit
from controller.services.errors import NotFound, ServiceError
from controller.stream_models import StreamDelivery, StreamDeliveryEvent, StreamGap, StreamSession
from protocol.messages import PRIORITIES, STREAM_KINDS, format_time

EARLY_LISTEN_S = 120
"""A speaker may connect this long before the session starts (clock skew, prefetch)."""
# States after which a stream delivery does not change by itself. Only an agent's own
# `stream_stopped` (the more precise word) may follow one of them.
FINAL = ("ended", "cancelled", "missed", "rejected", "expired")
AGENT_PLAYING, AGENT_STOPS = "stream_playing", ("stream_stalled", "stream_stopped")


def token_for(key: bytes, command_id: str) -> str:
    """The listener token of one delivery (derived, so resends carry the same token)."""
    return hmac.new(key, command_id.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _user_id(s: Session, user) -> int | None:
    if user is None or isinstance(user, int):
        return user
    if isinstance(user, User):
        return user.id
    return s.scalar(sa.select(User.id).where(User.username == str(user)))


def _actor(s: Session, user) -> str | None:
    if isinstance(user, User):
        return user.username
    if isinstance(user, int):
        u = s.get(User, user)
        return u.username if u else str(user)
    return user


def open_session(s: Session, *, kind: str, speakers: list[str], starts_at: datetime,
                 until: datetime, user, title: str, priority: str = "normal",
                 origin_id: int | None = None) -> StreamSession:
    """Write a session, one queued delivery per speaker, and an audit record."""
    if kind not in STREAM_KINDS:
        raise ServiceError("bad_kind", f"kind must be one of {STREAM_KINDS}", "kind")
    if priority not in PRIORITIES:
        raise ServiceError("bad_priority", f"priority must be one of {PRIORITIES}", "priority")
    if until <= starts_at:
        raise ServiceError("bad_until", "until must be after the start", "until")
    if until <= utcnow():
        raise ServiceError("bad_until", "until is already past", "until")
    wanted = sorted(set(speakers))
    if not wanted:
        raise ServiceError("no_targets", "no speakers given", "targets")
    found = {sp.id: sp for sp in s.scalars(sa.select(Speaker).where(Speaker.id.in_(wanted)))}
    missing = [sid for sid in wanted if sid not in found]
    if missing:
        raise ServiceError("unknown_speaker", f"unknown speaker {missing[0]!r}", "targets")
    revoked = [sid for sid in wanted if found[sid].revoked_at is not None]
    if revoked:
        raise ServiceError("speaker_revoked", f"speaker {revoked[0]!r} is revoked", "targets")
    session = StreamSession(kind=kind, title=(title or kind)[:200], priority=priority,
                            starts_at=starts_at, until=until, origin_id=origin_id,
                            created_by=_user_id(s, user),
                            state="active" if starts_at <= utcnow() else "scheduled")
    s.add(session)
    s.flush()
    session.mount = f"/{session.key}"
    now = utcnow()
    for sid in wanted:
        cid = uuid.uuid4().hex
        d = StreamDelivery(session=session, speaker_id=sid, command_id=cid,
                           stop_command_id=f"{cid}.stop", token_hash="", state="queued",
                           state_at=now)
        s.add(d)
        s.add(StreamDeliveryEvent(delivery=d, event="queued", source="controller", at=now))
    audit.record(s, f"{kind}_opened", actor=_actor(s, user), target=session.key,
                 detail=f"{title!r} to {', '.join(wanted)}; {format_time(starts_at)} → "
                        f"{format_time(until)}")
    s.flush()
    return session


def get_session(s: Session, session_id: int | str) -> StreamSession:
    """A session by id (12) or wire id ('relay-12'), with deliveries, events and gaps."""
    sid = session_id
    kind = None
    if isinstance(sid, str):
        kind, _, number = sid.rpartition("-")
        sid = int(number) if number.isdigit() else -1
    q = sa.select(StreamSession).where(StreamSession.id == sid)
    if kind:  # 'live-12' must not find relay 12
        q = q.where(StreamSession.kind == kind)
    found = s.scalar(
        q
        .options(selectinload(StreamSession.deliveries).selectinload(StreamDelivery.events),
                 selectinload(StreamSession.gaps)))
    if found is None:
        raise NotFound("unknown_session", f"unknown stream session {session_id}")
    return found


def append(s: Session, d: StreamDelivery, event: str, source: str,
           at: datetime | None = None, detail: str | None = None) -> StreamDeliveryEvent:
    """Record one event and move the cached state (never backward from a final state)."""
    at = at or utcnow()
    ev = StreamDeliveryEvent(delivery_id=d.id, event=event, source=source, at=at,
                             detail=detail[:500] if detail else None)
    if "events" in d.__dict__:
        d.events.append(ev)
    s.add(ev)
    if source == "agent":
        d.agent_seen = True
    if _advances(d.state, event, source):
        d.state = event
        d.state_at = at
    return ev


def _advances(current: str, new: str, source: str) -> bool:
    if new == "stop_sent":
        return False  # a note: the speaker has not said anything yet
    if current in FINAL:
        return source == "agent" and new == "stream_stopped"
    if new == "sent":
        return current in ("queued", "sent")
    return True


def stop_session(s: Session, session_id: int | str, reason: str, user) -> StreamSession:
    """End a session now: speakers that got it are told to stop, the others are cancelled."""
    session = get_session(s, session_id)
    if session.state == "ended":
        return session
    now = utcnow()
    session.state, session.end_reason, session.ended_at = "ended", reason[:200], now
    for d in session.deliveries:
        if d.state == "queued":
            append(s, d, "cancelled", "controller", now, detail=f"stopped before sending: {reason}")
        elif d.state not in FINAL:
            # Also after a stream_stopped: a preempted agent keeps the session to resume it.
            d.stop_wanted = True
    audit.record(s, f"{session.kind}_stopped", actor=_actor(s, user), target=session.key,
                 detail=reason)
    return session


def end_due(s: Session, now: datetime | None = None) -> int:
    """Start sessions whose time has come and end those past `until`; returns how many ended."""
    now = now or utcnow()
    s.execute(sa.update(StreamSession).where(StreamSession.state == "scheduled",
                                             StreamSession.starts_at <= now,
                                             StreamSession.until > now).values(state="active"))
    due = s.scalars(sa.select(StreamSession).where(StreamSession.state != "ended",
                                                   StreamSession.until <= now)
                    .options(selectinload(StreamSession.deliveries))).all()
    for session in due:
        session.state, session.end_reason, session.ended_at = "ended", "ended", session.until
        for d in session.deliveries:
            if d.state == "queued":
                append(s, d, "missed", "controller", session.until,
                       detail="not sent before the session ended (broker unreachable?)")
            elif d.state not in FINAL and d.state != "stream_stopped":
                append(s, d, "ended", "controller", session.until, detail="session reached its end")
    for gap in s.scalars(sa.select(StreamGap).join(StreamSession).where(
            StreamGap.ended_at.is_(None), StreamSession.state == "ended")):
        gap.ended_at = gap.session.ended_at or now
    return len(due)


def record_gap(s: Session, session_id: int | str, started_at: datetime,
               ended_at: datetime | None, reason: str) -> StreamGap:
    """Log an upstream outage (ended_at None while it lasts; close it with `end_gap`)."""
    session = get_session(s, session_id)
    if ended_at is not None and ended_at < started_at:
        raise ServiceError("bad_gap", "a gap cannot end before it starts", "ended_at")
    gap = StreamGap(session_id=session.id, started_at=started_at, ended_at=ended_at,
                    reason=(reason or "unknown")[:500])
    s.add(gap)
    s.flush()
    return gap


def end_gap(s: Session, gap_id: int, ended_at: datetime) -> StreamGap:
    """Close an open gap."""
    gap = s.get(StreamGap, gap_id)
    if gap is None:
        raise NotFound("unknown_gap", f"unknown gap {gap_id}")
    if gap.ended_at is None:
        gap.ended_at = max(ended_at, gap.started_at)
    return gap


def aired_seconds(session: StreamSession, d: StreamDelivery, now: datetime | None = None) -> float:
    """Seconds this speaker played the session: stream_playing → stalled/stopped intervals."""
    now = now or utcnow()
    limit = min(x for x in (now, session.until, session.ended_at) if x is not None)
    total, since = 0.0, None
    for ev in sorted((e for e in d.events if e.source == "agent"), key=lambda e: (e.at, e.id)):
        if ev.event == AGENT_PLAYING and since is None:
            since = ev.at
        elif ev.event in AGENT_STOPS and since is not None:
            total += max(0.0, (min(ev.at, limit) - since).total_seconds())
            since = None
    if since is not None:
        # Still playing (or the final ack is lost): count up to now, the end, or a stop.
        total += max(0.0, (limit - since).total_seconds())
    return round(total, 1)


def _t(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def session_view(s: Session, session_id: int | str) -> dict:
    """The JSON answer for one session: {id, state, deliveries: [{speaker_id, state, aired_s, events}]}."""
    session = get_session(s, session_id)
    now = utcnow()
    return {
        "id": session.id, "session_id": session.key, "kind": session.kind,
        "title": session.title, "priority": session.priority, "mount": session.mount,
        "state": session.state, "end_reason": session.end_reason,
        "starts_at": _t(session.starts_at), "until": _t(session.until),
        "ended_at": _t(session.ended_at), "origin_id": session.origin_id,
        "gaps": [{"started_at": _t(g.started_at), "ended_at": _t(g.ended_at), "reason": g.reason}
                 for g in session.gaps],
        "deliveries": [{
            "speaker_id": d.speaker_id, "state": d.state,
            "aired_s": aired_seconds(session, d, now),
            "events": [{"event": e.event, "source": e.source, "at": _t(e.at), "detail": e.detail}
                       for e in d.events],
        } for d in session.deliveries],
    }


def overlapping(s: Session, speakers: list[str], starts_at: datetime, until: datetime,
                kind: str | None = None) -> list[tuple[StreamSession, str]]:
    """(session, speaker) pairs of sessions not ended that share a speaker and overlap in time."""
    q = (sa.select(StreamSession, StreamDelivery.speaker_id).join(StreamDelivery)
         .where(StreamSession.state != "ended", StreamSession.starts_at < until,
                StreamSession.until > starts_at, StreamDelivery.speaker_id.in_(sorted(speakers))))
    if kind is not None:
        q = q.where(StreamSession.kind == kind)
    return [(row[0], row[1]) for row in s.execute(q.order_by(StreamSession.id))]


def check_listener(s: Session, mount: str, speaker_id: str, token: str,
                   now: datetime | None = None) -> bool:
    """May this speaker pull this mount now with this token? False on any doubt."""
    now = now or utcnow()
    if not (mount and speaker_id and token):
        return False
    row = s.execute(
        sa.select(StreamSession, StreamDelivery, Speaker)
        .join(StreamDelivery, StreamDelivery.session_id == StreamSession.id)
        .join(Speaker, Speaker.id == StreamDelivery.speaker_id)
        .where(StreamSession.mount == mount, StreamDelivery.speaker_id == speaker_id)
    ).first()
    if row is None:
        return False
    session, d, speaker = row
    if speaker.revoked_at is not None or session.state == "ended" or d.stop_wanted:
        return False
    if not session.starts_at - timedelta(seconds=EARLY_LISTEN_S) <= now < session.until:
        return False
    if not d.token_hash:
        return False
    return hmac.compare_digest(d.token_hash, token_hash(token))


def note_listener(s: Session, mount: str, speaker_id: str, client_id: str) -> None:
    """Remember Icecast's id for a speaker's admitted connection (to drop it later)."""
    d = s.scalar(sa.select(StreamDelivery).join(StreamSession).where(
        StreamSession.mount == mount, StreamDelivery.speaker_id == speaker_id))
    if d is not None and client_id:
        d.listener_client = client_id[:40]


def listeners_to_drop(s: Session) -> list[tuple[StreamDelivery, str]]:
    """(delivery, mount) of connections Icecast still serves but nobody may hear any more.

    Icecast asks about a listener only when it connects; a speaker revoked, or a session
    stopped, while connected would go on pulling until `until` without this.
    """
    rows = s.execute(
        sa.select(StreamDelivery, StreamSession.mount)
        .join(StreamSession, StreamDelivery.session_id == StreamSession.id)
        .join(Speaker, Speaker.id == StreamDelivery.speaker_id)
        .where(StreamDelivery.listener_client.is_not(None),
               sa.or_(Speaker.revoked_at.is_not(None), StreamSession.state == "ended",
                      StreamDelivery.stop_wanted.is_(True)))).all()
    return [(d, mount) for d, mount in rows]


def seconds_left(s: Session, mount: str, now: datetime | None = None) -> int | None:
    """Whole seconds until the session on this mount ends (Icecast cuts the listener then)."""
    until = s.scalar(sa.select(StreamSession.until).where(StreamSession.mount == mount))
    if until is None:
        return None
    return max(1, int((until - (now or utcnow())).total_seconds()) + 1)
