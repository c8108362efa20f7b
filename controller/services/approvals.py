"""Approval: drafts cannot air until an approver approves; editing returns them to draft.

What is approved is the whole request: announcement, targets, priority and times. An
editor's draft carries a BroadcastRequest (targets, priority, now or a schedule), carried
out when an approver approves. An editor asking for anything more on an approved
announcement (send it again, a new schedule, a changed schedule) adds another pending
request: the announcement shows on the approvals page again, and nothing airs until an
approver approves it. Approvers and admins act directly. Emergency priority is theirs
only (controller.services.access); they may send an emergency at once, without approval,
and the broadcast is marked `emergency_override` and audited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from controller.models import Announcement, User, utcnow
from controller.services import access, announcements, audit, broadcasts
from controller.services.errors import Forbidden, NotFound, ServiceError
from controller.web_models import BroadcastRequest
from protocol.messages import PRIORITIES

log = logging.getLogger(__name__)
APPROVE_ROLES = ("admin", "approver")
COMPOSE_ROLES = ("admin", "editor", "approver")
WHEN = ("now", "schedule")


def check_request(s: Session, *, targets, priority: str, when: str, schedule_form: dict | None,
                  user: User | None, now_utc: datetime | None = None) -> list:
    """Validate what a draft asks for; returns the resolved speakers (raises ServiceError)."""
    if priority not in PRIORITIES:
        raise ServiceError("bad_priority", f"priority must be one of {', '.join(PRIORITIES)}",
                           field="priority")
    if when not in WHEN:
        raise ServiceError("bad_when", "when must be 'now' or 'schedule'", field="when")
    access.check_priority(user, priority)
    speakers = access.resolve_targets(s, user, targets)
    if when == "schedule":
        from schedules.forms import check_plan

        _plan, errors = check_plan({**(schedule_form or {}), "priority": priority},
                                   now_utc=now_utc or datetime.now(UTC))
        if errors:
            raise ServiceError("bad_schedule", errors[0].message, field=errors[0].field,
                               errors=errors)
    return speakers


def check_compose(s: Session, *, targets, priority: str, when: str, schedule_form: dict | None,
                  emergency: bool, user: User) -> None:
    """Check a compose form before any speech is made: refusals cost no synthesis."""
    if emergency:
        access.resolve_targets(s, user, targets)
    else:
        check_request(s, targets=targets, priority=priority, when=when,
                      schedule_form=schedule_form, user=user)


def create_draft(s: Session, ctx, *, title: str, text: str | None, rendered, source: str,
                 targets: dict, priority: str, when: str, schedule_form: dict | None,
                 user: User) -> BroadcastRequest:
    """Save a draft announcement and what it should do once approved."""
    if user.role not in COMPOSE_ROLES:
        raise Forbidden("forbidden_role", "only editors, approvers and admins compose")
    check_request(s, targets=targets, priority=priority, when=when, schedule_form=schedule_form,
                  user=user)
    ann = announcements.create(s, ctx, title=title, text=text, rendered=rendered, source=source,
                               user=user, approved=False)
    req = BroadcastRequest(announcement=ann, targets=targets, priority=priority, when=when,
                           schedule_form=schedule_form if when == "schedule" else None,
                           created_by=user.id)
    s.add(req)
    s.flush()
    audit.record(s, "draft_submitted", actor=user.username, target=f"announcement:{ann.id}",
                 detail=f"when={when} priority={priority} targets={_targets_text(targets)}")
    return req


def get_announcement(s: Session, announcement_id: int, user=None) -> Announcement:
    """An announcement by id, or NotFound (also when it is outside the user's hamlets)."""
    ann = s.get(Announcement, announcement_id)
    if ann is None or not visible(s, ann, access.scope_of(user), user):
        raise NotFound("unknown_announcement", f"unknown announcement {announcement_id}")
    return ann


def visible(s: Session, ann: Announcement, scope: access.Scope, user=None) -> bool:
    """Whether a limited user may see an announcement: his own, or one that airs in his hamlets."""
    if not scope.limited or (user is not None and ann.created_by == user.id):
        return True
    from controller.models import Broadcast, Schedule

    if any(access.targets_visible(s, scope, r.targets) for r in requests_for(s, ann.id)):
        return True
    schedules = s.scalars(sa.select(Schedule.targets).where(Schedule.announcement_id == ann.id))
    if any(access.targets_visible(s, scope, t) for t in schedules):
        return True
    return s.scalar(sa.select(sa.func.count()).select_from(Broadcast).where(
        Broadcast.announcement_id == ann.id, access.broadcast_filter(scope))) > 0


def requests_for(s: Session, announcement_id: int) -> list[BroadcastRequest]:
    """The broadcast requests of an announcement, oldest first."""
    return list(s.scalars(sa.select(BroadcastRequest)
                          .where(BroadcastRequest.announcement_id == announcement_id)
                          .order_by(BroadcastRequest.id)))


def audio_visible(s: Session, sha256: str, user) -> bool:
    """Whether a logged-in user may fetch stored audio: a preview, or a visible announcement's."""
    scope = access.scope_of(user)
    if not scope.limited:
        return True
    anns = list(s.scalars(sa.select(Announcement).where(Announcement.audio_sha256 == sha256)))
    return not anns or any(visible(s, a, scope, user) for a in anns)


def pending(s: Session, user=None) -> list[Announcement]:
    """Drafts and announcements with a request waiting for approval, newest first."""
    waiting = sa.select(BroadcastRequest.announcement_id).where(BroadcastRequest.status == "pending")
    rows = s.scalars(sa.select(Announcement)
                     .where(sa.or_(Announcement.status == "draft", Announcement.id.in_(waiting)))
                     .options(selectinload(Announcement.audio)).order_by(Announcement.id.desc()))
    scope = access.scope_of(user)
    return [a for a in rows if visible(s, a, scope, user)]


def has_pending(s: Session, announcement_id: int) -> bool:
    """Whether a request of this announcement waits for approval."""
    return any(r.status == "pending" for r in requests_for(s, announcement_id))


def edit(s: Session, ctx, announcement_id: int, *, title: str, text: str | None, rendered,
         user: User) -> Announcement:
    """Change an announcement's content; approved content goes back to draft."""
    if user.role not in COMPOSE_ROLES:
        raise Forbidden("forbidden_role", "only editors, approvers and admins edit")
    ann = get_announcement(s, announcement_id, user)
    _check_requests_within(s, user, ann.id)
    was = ann.status
    if rendered is not None:
        asset = announcements.store_audio(s, ctx, rendered, "tts" if text else "upload")
        ann.audio_sha256 = asset.sha256
        ann.engine = rendered.engine
        ann.spoken_text = getattr(rendered, "spoken_text", None)
    ann.title = (title or ann.title)[:200]
    ann.text = text if text is not None else ann.text
    ann.status = "draft"
    ann.approved_by = None
    ann.approved_at = None
    ann.updated_at = utcnow()
    audit.record(s, "announcement_edited", actor=user.username, target=f"announcement:{ann.id}",
                 detail=f"status {was} -> draft")
    return ann


def approve(ctx, announcement_id: int, user: User) -> list[str]:
    """Approve an announcement and carry out its pending requests; returns what was created.

    An already approved announcement with new pending requests (sent again, scheduled or
    rescheduled by an editor) is approved again for those requests. Send-now requests
    become broadcasts in the approving transaction. Schedule requests go to the schedule
    service afterwards, in its own transaction: it checks that the announcement is
    approved, which only a committed approval shows it.
    """
    if user.role not in APPROVE_ROLES:
        raise Forbidden("forbidden_role", "only an approver or admin may approve")
    results: list[str] = []
    with ctx.db.session() as s:
        ann = get_announcement(s, announcement_id, user)
        waiting = [r for r in requests_for(s, ann.id) if r.status == "pending"]
        if ann.status == "approved" and not waiting:
            raise ServiceError("already_approved", "the announcement is already approved")
        for req in waiting:  # a limited approver approves only what airs in his hamlets
            access.check_targets(s, user, req.targets)
        ann.status = "approved"
        ann.approved_by = user.id
        ann.approved_at = utcnow()
        audit.record(s, "announcement_approved", actor=user.username,
                     target=f"announcement:{ann.id}",
                     detail=" ".join(f"request:{r.id}" for r in waiting) or None)
        later = []
        for req in waiting:
            if req.when == "now":
                speakers = access.resolve_targets(s, user, req.targets)
                b = broadcasts.create(s, announcement=ann, speakers=speakers, priority=req.priority,
                                      user=user, ttl_s=ctx.settings.command_ttl_s)
                req.result = f"broadcast:{b.id}"
                req.status = "done"
                results.append(req.result)
            else:
                later.append(req.id)
    ctx.kick()
    for req_id in later:
        results.append(_schedule_request(ctx, req_id, user))
    return results


def _schedule_request(ctx, req_id: int, user: User) -> str:
    """Hand a request to the schedule service (issue 4); a refusal is kept on the request."""
    from schedules import manage

    with ctx.db.session() as s:
        req = s.get(BroadcastRequest, req_id)
        body = {**(req.schedule_form or {}), "priority": req.priority,
                "announcement_id": req.announcement_id, "targets": req.targets}
        replaces = req.schedule_id
    try:
        if replaces is None:
            schedule_id, _conflicts = manage.create(ctx, body, user, utcnow())
        else:
            manage.update(ctx, replaces, body, user, utcnow())
            schedule_id = replaces
        result, status = f"schedule:{schedule_id}", "done"
    except ServiceError as exc:
        log.warning("request %s could not become a schedule: %s", req_id, exc)
        result, status = f"error:{exc.code}", "failed"
    with ctx.db.session() as s:
        req = s.get(BroadcastRequest, req_id)
        req.result, req.status = result, status
    return result


def send_now(s: Session, ctx, announcement_id: int, *, targets: dict, priority: str,
             user: User) -> tuple[str, int]:
    """Broadcast an approved announcement now: ("broadcast", id) for approvers and admins.

    An editor's send is a new request for approval, ("request", id): the targets, priority
    and time approved before were for that airing, not for this one.
    """
    if user.role not in COMPOSE_ROLES:
        raise Forbidden("forbidden_role", "viewers cannot send")
    ann = get_announcement(s, announcement_id, user)
    speakers = check_request(s, targets=targets, priority=priority, when="now", schedule_form=None,
                             user=user)
    if user.role not in APPROVE_ROLES:
        req = add_request(s, ann, user, targets=targets, priority=priority, when="now")
        return "request", req.id
    b = broadcasts.create(s, announcement=ann, speakers=speakers, priority=priority, user=user,
                          ttl_s=ctx.settings.command_ttl_s)
    return "broadcast", b.id


def add_request(s: Session, ann: Announcement, user: User, *, targets: dict, priority: str,
                when: str, schedule_form: dict | None = None,
                schedule_id: int | None = None) -> BroadcastRequest:
    """A pending request on an announcement (already checked), waiting for an approver."""
    req = BroadcastRequest(announcement=ann, targets=targets, priority=priority, when=when,
                           schedule_form=schedule_form, schedule_id=schedule_id,
                           created_by=user.id)
    s.add(req)
    s.flush()
    audit.record(s, "request_submitted", actor=user.username, target=f"request:{req.id}",
                 detail=f"announcement={ann.id} when={when} priority={priority} "
                        f"targets={_targets_text(targets)}"
                        + (f" replaces=schedule:{schedule_id}" if schedule_id else ""))
    return req


def _check_requests_within(s: Session, user, announcement_id: int) -> None:
    """A limited user may change an announcement only if all its requests are in his hamlets."""
    for r in requests_for(s, announcement_id):
        access.check_targets(s, user, r.targets)


def send_emergency(s: Session, ctx, *, title: str, text: str | None, rendered, source: str,
                   targets: dict, user: User) -> int:
    """Air at once without approval (approver/admin only); marked and audited as an override.

    `rendered` None: the speech is made afterwards on the render pool (services/rendering.py).
    """
    if user.role not in APPROVE_ROLES:
        raise Forbidden("forbidden_role", "only an approver or admin may send an emergency")
    speakers = access.resolve_targets(s, user, targets)
    ann = announcements.create(s, ctx, title=title, text=text, rendered=rendered, source=source,
                               user=user, approved=False)
    b = broadcasts.create(s, announcement=ann, speakers=speakers, priority="emergency", user=user,
                          ttl_s=ctx.settings.command_ttl_s, emergency_override=True,
                          rendering=rendered is None)
    return b.id


def cancel_request(s: Session, request_id: int, user: User) -> BroadcastRequest:
    """Withdraw a pending request (its draft stays)."""
    req = s.get(BroadcastRequest, request_id)
    if req is None or not access.targets_within(s, access.scope_of(user), req.targets):
        raise NotFound("unknown_request", f"unknown request {request_id}")
    if req.status == "pending":
        req.status = "cancelled"
        audit.record(s, "request_cancelled", actor=user.username, target=f"request:{req.id}")
    return req


def _targets_text(targets: dict) -> str:
    if targets.get("all"):
        return "all"
    parts = [f"hamlets={','.join(map(str, targets.get('hamlets', [])))}" if targets.get("hamlets") else "",
             f"speakers={','.join(map(str, targets.get('speakers', [])))}" if targets.get("speakers") else ""]
    return " ".join(p for p in parts if p)
