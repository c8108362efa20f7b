"""'Send now': text → speech → announcement → broadcast → outbox, then wake the dispatcher."""

from __future__ import annotations

from controller import speech
from controller.models import User
from controller.services import access, announcements, broadcasts, rendering
from controller.services.errors import Forbidden, ServiceError
from protocol.messages import PRIORITIES

SEND_ROLES = ("admin", "approver")


def send_text_now(ctx, *, text, targets, user: User, priority: str = "normal",
                  title: str | None = None) -> int:
    """Validate, write the broadcast and its deliveries, render; returns the broadcast id.

    In a running controller the broadcast is stored `rendering` and this returns at once;
    the render pool queues it when the speech is ready (controller/services/rendering.py).
    """
    if user.role not in SEND_ROLES:
        raise Forbidden("forbidden_role",
                        "only an approver or admin may send without approval; "
                        "editors create drafts for approval")
    text = announcements.check_text(text, ctx.settings.max_text_chars)
    if priority not in PRIORITIES:
        raise ServiceError("bad_priority", f"priority must be one of {', '.join(PRIORITIES)}",
                           field="priority")
    if title is not None and not isinstance(title, str):
        raise ServiceError("bad_title", "field 'title' must be a string", field="title")
    urgent = priority == "emergency"
    later = getattr(ctx, "renders", None) is not None
    rendered = None
    if not later:  # speech made here: resolve targets first so bad input costs no synthesis
        with ctx.db.session() as s:
            access.resolve_targets(s, user, targets)
            abbreviations = announcements.abbreviations(s)
        rendered = speech.render_text(ctx, text, abbreviations, urgent=urgent)
    with ctx.db.session() as s:
        # Resolved once on the render-pool path: at province size (10,000 ids) each
        # resolution loads every named speaker.
        speakers = access.resolve_targets(s, user, targets)
        if later:
            abbreviations = announcements.abbreviations(s)
            speech.check_speakable(ctx, text, abbreviations)
        user = s.merge(user)
        ann = announcements.create(s, ctx, title=title or "", text=text, rendered=rendered,
                                   source="tts", user=user, approved=True)
        b = broadcasts.create(s, announcement=ann, speakers=speakers, priority=priority,
                              user=user, ttl_s=ctx.settings.command_ttl_s,
                              emergency_override=False, rendering=later)
        broadcast_id = b.id
    if later:
        rendering.start(ctx, broadcast_id, text, abbreviations, urgent)
    else:
        ctx.kick()
    return broadcast_id
