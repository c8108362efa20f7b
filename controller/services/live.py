"""Going live (phát trực tiếp): a person speaks to chosen hamlets now, from a phone or a studio PC.

There is no approval step: only admins and approvers (the commune's leaders) may go live,
and every session is in the audit log with who, when, the targets and how long it lasted.
One live voice per speaker: a second session on speakers already live is refused, naming
who holds them, because two people talking over each other on one horn helps nobody.

A live session is a stream session of kind "live" (controller/services/streams.py): the
speakers get signed play_stream commands and pull the session's Icecast mount. What feeds
the mount is either the browser (chunks posted to the chunk URL, one encoder here) or an
external encoder pushing with the session's own source login. The watchdog in
controller/live/ingest.py ends a session nobody feeds; `end_unfed` is its callback.
Credentials are derived from a secret key and the session id (HMAC), so nothing secret is
stored in the database and the page can show them again on request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from datetime import timedelta
from urllib.parse import urlparse

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller import keys
from controller.models import Speaker, User, utcnow
from controller.services import access, audit, streams
from controller.services.errors import Conflict, Forbidden, NotFound
from controller.stream_models import StreamSession

log = logging.getLogger(__name__)

LIVE_ROLES = ("admin", "approver")
MAX_LIVE_S = 2 * 3600
"""Agents stop on their own at `until` even if the controller is gone; two hours is a long speech."""
CHUNK_SECONDS = 0.25
STOP_LINGER_S = 2.0
"""How long the mount keeps its (quiet) source after a stop: the stop command gets there first."""
CHUNK_MIME = "audio/webm;codecs=opus"

_opening = threading.Lock()  # the holder check and the insert must not interleave


def _secret(ctx) -> bytes:
    return keys.random_secret(ctx.data / "keys" / "live.key")


def credential(ctx, purpose: str, session_id: int) -> str:
    """A per-session secret ("chunk" key or "source" password), derived, never stored."""
    mac = hmac.new(_secret(ctx), f"{purpose}:{session_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def check_chunk_key(ctx, session_id: int, key: str) -> bool:
    """True if `key` is this session's chunk key."""
    return bool(key) and hmac.compare_digest(key.encode(), credential(ctx, "chunk", session_id).encode())


def _refuse_if_held(s: Session, speakers: list[Speaker], until) -> None:
    held = streams.overlapping(s, [spk.id for spk in speakers], utcnow(), until, kind="live")
    if not held:
        return
    sess = held[0][0]
    who = s.scalar(sa.select(User.username).where(User.id == sess.created_by)) or "someone"
    busy = {sid for _, sid in held}
    where = sorted({spk.hamlet.name for spk in speakers if spk.id in busy})
    raise Conflict("live_busy", f"{', '.join(where)} already live with {who} "
                                f"(live session {sess.id})", field="targets",
                   holder=who, session_id=sess.id, hamlets=where)


def _describe(speakers: list[Speaker]) -> str:
    hamlets = sorted({spk.hamlet.name for spk in speakers})
    return f"hamlets: {', '.join(hamlets)}; speakers: {', '.join(spk.id for spk in speakers)}"


def go_live(ctx, *, targets, user: User, title: str | None = None, ip: str | None = None) -> dict:
    """Open a live session on the targets now; returns {id, ingest} (what a source needs)."""
    if user.role not in LIVE_ROLES:
        raise Forbidden("forbidden_role", "only admins and approvers may go live")
    with _opening, ctx.db.session() as s:
        speakers = access.resolve_targets(s, user, targets)  # 403 naming a hamlet not his
        now = utcnow()
        until = now + timedelta(seconds=MAX_LIVE_S)
        _refuse_if_held(s, speakers, until)
        sess = streams.open_session(
            s, kind="live", speakers=[spk.id for spk in speakers], starts_at=now,
            until=until, user=user.id,
            title=(title or "").strip()[:200] or f"Phát trực tiếp: {user.username}",
            priority="normal", origin_id=None)
        audit.record(s, "live_targets", actor=user.username, target=sess.key,
                     detail=_describe(speakers), ip=ip)
        sid, mount = sess.id, sess.mount
    server = ctx.streams_server
    server.add_source_login(mount, user.username, credential(ctx, "source", sid))
    watch(ctx).open(sid, mount, server.source_url(mount))
    log.info("live session %d opened by %s on %s", sid, user.username, mount)
    return {"id": sid, "ingest": ingest_info(ctx, sid, mount)}


def ingest_info(ctx, session_id: int, mount: str) -> dict:
    """What a browser (chunk path) and an external encoder (Icecast login) need."""
    server = ctx.streams_server
    user, password = server.source_login(mount)
    base = urlparse(server.base_url())
    return {
        "chunk_path": f"/api/v1/live/{session_id}/chunks?key={credential(ctx, 'chunk', session_id)}",
        "chunk_seconds": CHUNK_SECONDS, "chunk_mime": CHUNK_MIME,
        "idle_s": watch(ctx).idle_s,
        "icecast": {"host": base.hostname, "port": base.port or server.port, "mount": mount,
                    "username": user, "password": password,
                    "content_type": "audio/ogg or audio/mpeg"},
    }


def _live(s: Session, session_id: int, user: User | None = None, write: bool = False) -> StreamSession:
    sess = s.get(StreamSession, session_id)
    if sess is None or sess.kind != "live":
        raise NotFound("unknown_live", f"no live session {session_id}")
    if user is not None:  # a hamlet-limited user: only sessions on his speakers (404 otherwise)
        streams.scoped_session(s, session_id, access.scope_of(user), write=write)
    return sess


def get_ingest(ctx, session_id: int, user: User) -> dict:
    """The ingest details again (the page's "external encoder" panel); live roles only."""
    if user.role not in LIVE_ROLES:
        raise Forbidden("forbidden_role", "only admins and approvers may go live")
    with ctx.db.session() as s:
        mount = _live(s, session_id, user, write=True).mount
    return ingest_info(ctx, session_id, mount)


def view(ctx, session_id: int, user: User | None = None) -> dict:
    """{id, state, deliveries: [{speaker_id, state, aired_s, events}], …} like a relay."""
    with ctx.db.session() as s:
        _live(s, session_id, user)
        out = streams.session_view(s, session_id, access.scope_of(user))
        out["live"] = session_id in watch(ctx).active()
        return out


def stop_live(ctx, session_id: int, *, user: User | None, reason: str = "stopped",
              ip: str | None = None) -> dict:
    """End a live session (the stop button, the API, or the watchdog with its reason)."""
    with ctx.db.session() as s:
        sess = _live(s, session_id, user, write=True)
        mount = sess.mount
        if sess.ended_at is None:
            streams.stop_session(s, session_id, reason, user.id if user else None)
            held_s = (utcnow() - sess.starts_at).total_seconds()
            targets = sorted({d.speaker_id for d in sess.deliveries})
            # the engine logs the stop; this line adds what a report wants: how long, where
            audit.record(s, "live_ended", actor=user.username if user else None,
                         target=sess.key, detail=f"reason: {reason}; duration_s: {held_s:.0f}; "
                                                 f"speakers: {', '.join(targets)}", ip=ip)
    ctx.kick()  # the speakers' stop command goes out now, not at the dispatcher's next pass
    # A leader's stop: the browser's encoder stays on the mount a moment, so the speakers stop
    # on the command instead of logging a drop first. Unfed sessions have nothing to keep.
    watch(ctx).close(session_id, linger_s=STOP_LINGER_S if reason == "stopped" else 0.0,
                     then=lambda: ctx.streams_server.remove_source_login(mount))
    return view(ctx, session_id, user)


def end_unfed(ctx, session_id: int, reason: str) -> None:
    """The watchdog's callback: nobody feeds the session any more."""
    stop_live(ctx, session_id, user=None, reason=reason)


def end_leftovers(ctx) -> int:
    """At start: end live sessions a previous controller left open (their source is gone)."""
    with ctx.db.session() as s:
        ids = list(s.scalars(sa.select(StreamSession.id).where(
            StreamSession.kind == "live", StreamSession.ended_at.is_(None))))
    for sid in ids:
        stop_live(ctx, sid, user=None, reason="controller_restarted")
    return len(ids)


def watch(ctx):
    """The controller's LiveIngest (created on first use; the watchdog runs once started)."""
    ingest = getattr(ctx, "live", None)
    if ingest is None:
        from controller.live.ingest import LiveIngest

        server = ctx.streams_server
        ingest = LiveIngest(on_end=lambda sid, why: end_unfed(ctx, sid, why),
                            fed_mounts=lambda: _fed_mounts(server),
                            idle_s=ctx.settings.live_idle_s,
                            grace_s=ctx.settings.live_source_grace_s,
                            start_window_s=ctx.settings.live_start_window_s,
                            log_dir=ctx.data / "live")
        ctx.live = ingest
    return ingest


def _fed_mounts(server) -> list[str]:
    if server.managed is not None:
        status = server.managed.status()
        if status is None:
            raise ConnectionError("the managed Icecast does not answer")
        return status["mounts"]
    from controller.live.mounts import fed_mounts

    return sorted(fed_mounts(server.base_url()))
