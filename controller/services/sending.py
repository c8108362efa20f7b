"""'Send now': text → speech → announcement → broadcast → outbox, then wake the dispatcher."""

from __future__ import annotations

from controller import speech
from controller.models import User
from controller.services import access, announcements, broadcasts
from controller.services.errors import Forbidden, ServiceError
from protocol.messages import PRIORITIES

SEND_ROLES = ("admin", "approver")


def send_text_now(ctx, *, text, targets, user: User, priority: str = "normal",
                  title: str | None = None) -> int:
    """Validate, render, write the broadcast and its deliveries; returns the broadcast id."""
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
    # Resolve targets first so bad input fails before any synthesis is spent.
    with ctx.db.session() as s:
        access.resolve_targets(s, user, targets)
        abbreviations = announcements.abbreviations(s)
    rendered = speech.render_text(ctx, text, abbreviations, urgent=priority == "emergency")
    with ctx.db.session() as s:
        speakers = access.resolve_targets(s, user, targets)
        user = s.merge(user)
        ann = announcements.create(s, ctx, title=title or "", text=text, rendered=rendered,
                                   source="tts", user=user, approved=True)
        b = broadcasts.create(s, announcement=ann, speakers=speakers, priority=priority,
                              user=user, ttl_s=ctx.settings.command_ttl_s,
                              emergency_override=False)
        broadcast_id = b.id
    ctx.kick()
    return broadcast_id
