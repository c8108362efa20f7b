"""Broadcasts whose speech is still being made: stored first as `rendering`, aired when ready.

A send-now (and an emergency from the compose page) answers at once: the announcement and
the broadcast are written with their deliveries in state `rendering`, the text goes to the
render pool (controller/render_pool.py), and when the audio is ready the deliveries become
`queued` for the dispatcher. A render that fails ends every delivery as `failed` with the
reason; a controller that stops mid-render picks the broadcast up again at its next start
(resume), or ends it with the reason if it can no longer air.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from controller import speech
from controller.models import Broadcast, Delivery, utcnow
from controller.services import announcements, deliveries

log = logging.getLogger(__name__)
STATE = "rendering"


def start(ctx, broadcast_id: int, text: str, abbreviations: dict[str, str] | None,
          urgent: bool) -> None:
    """Send the broadcast's text to the render pool; it airs (or ends) when that finishes."""
    speech.render_later(ctx, text, abbreviations, urgent,
                        lambda fut: finish(ctx, broadcast_id, fut))


def _waiting(s, broadcast_id: int) -> tuple[Broadcast | None, list[Delivery]]:
    b = s.scalar(sa.select(Broadcast).where(Broadcast.id == broadcast_id)
                 .options(selectinload(Broadcast.deliveries), selectinload(Broadcast.announcement)))
    return b, [d for d in (b.deliveries if b else []) if d.state == STATE]


def finish(ctx, broadcast_id: int, fut: Future) -> None:
    """Queue the deliveries with the finished audio, or end them with the render's reason."""
    if fut.cancelled():  # the controller is stopping: the next start resumes it
        return
    exc = fut.exception()
    if exc is not None:
        fail(ctx, broadcast_id, f"the speech could not be made: {exc}")
        return
    rendered = fut.result()
    with ctx.db.session() as s:
        b, waiting = _waiting(s, broadcast_id)
        if b is None:
            return
        ann = b.announcement
        asset = announcements.store_audio(s, ctx, rendered, "tts")
        ann.audio_sha256, ann.engine, ann.spoken_text = asset.sha256, rendered.engine, \
            rendered.spoken_text
        now = utcnow()
        if b.play_at <= now:  # "now" meant when the audio is ready, and it is valid as long
            b.expires_at += now - b.play_at
            b.play_at = now
        for d in waiting:
            deliveries.append(s, d, "queued", "controller", at=now,
                              detail=f"speech ready ({rendered.engine})")
    ctx.kick()


def fail(ctx, broadcast_id: int, reason: str) -> int:
    """End every delivery still waiting for speech as `failed` with the reason."""
    with ctx.db.session() as s:
        _b, waiting = _waiting(s, broadcast_id)
        for d in waiting:
            deliveries.append(s, d, "failed", "controller", detail=reason)
    if waiting:
        log.warning("broadcast %s: %s", broadcast_id, reason)
    return len(waiting)


def resume(ctx) -> tuple[int, int]:
    """At start: render again what a stopped controller left `rendering`; end what expired.

    Returns (resumed, ended).
    """
    now = utcnow()
    with ctx.db.session() as s:
        ids = list(s.scalars(sa.select(Delivery.broadcast_id).where(Delivery.state == STATE)
                             .distinct()))
        jobs, ended = [], []
        for bid in ids:
            b = s.get(Broadcast, bid)
            if b.expires_at <= now:
                ended.append(bid)
            else:
                jobs.append((bid, b.announcement.text or "", b.priority == "emergency"))
        abbreviations = announcements.abbreviations(s) if jobs else None
    for bid in ended:
        fail(ctx, bid, "the controller stopped while the speech was being made, and the "
                       "broadcast expired before it started again")
    for bid, text, urgent in jobs:
        start(ctx, bid, text, abbreviations, urgent)
    if ids:
        log.warning("speech left rendering by the previous run: %d resumed, %d ended",
                    len(jobs), len(ended))
    return len(jobs), len(ended)
