"""Approval: the list of drafts, one announcement with its audio, approve, edit, send again."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from audio.errors import AudioError
from controller import speech
from controller.models import User
from controller.services import announcements, approvals, registry
from controller.services.errors import ServiceError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import (
    ALL,
    APPROVERS,
    EDITORS,
    db_user,
    error_of,
    finish_submission,
    message,
    release_submission,
    repeat_submission,
    status_of,
)
from web.ui.targets import targets_text


@bp.get("/approvals")
@roles_required(*ALL)
def approvals_list():
    """Drafts waiting for approval."""
    with ctl().db.session() as s:
        drafts = approvals.pending(s, current_user)
        reqs = {a.id: approvals.requests_for(s, a.id) for a in drafts}
        return render_template("approvals.html", drafts=drafts, reqs=reqs)


def _when_text(req) -> str:
    """When a request plays: at approval, or its schedule in words."""
    from schedules.forms import check_plan
    from schedules.summary import summarize_en, summarize_vi

    if req.when != "schedule":
        return _("As soon as it is approved")
    plan, _errors = check_plan({**(req.schedule_form or {}), "priority": req.priority})
    if plan is None:
        return _("On a schedule")
    return (summarize_en if str(get_locale()) == "en" else summarize_vi)(plan.recurrence)


def _detail(announcement_id: int, errors: dict | None = None, typed: dict | None = None,
            status: int = 200):
    with ctl().db.session() as s:
        ann = approvals.get_announcement(s, announcement_id, current_user)
        names = {u.id: u.username for u in s.query(User).all()}
        reqs = approvals.requests_for(s, ann.id)
        return render_template(
            "announcement.html", ann=ann, reqs=reqs, names=names,
            req_targets={r.id: targets_text(s, r.targets) for r in reqs},
            req_times={r.id: _when_text(r) for r in reqs},
            waiting=approvals.has_pending(s, ann.id),
            hamlets=registry.list_hamlets(s, current_user),
            speakers=registry.list_speakers(s, user=current_user),
            errors=errors or {}, typed=typed or {}, saved=request.args.get("saved")), status


@bp.get("/announcements/<int:announcement_id>")
@roles_required(*ALL)
def announcement(announcement_id: int):
    """One announcement: audio, spoken text, status, who approved it and when, its requests."""
    try:
        return _detail(announcement_id)
    except ServiceError:
        return render_template("error.html", code=404, message=_("This page does not exist.")), 404


@bp.post("/announcements/<int:announcement_id>/approve")
@roles_required(*APPROVERS)
def approve(announcement_id: int):
    """Approve; what the editor asked for (send now or a schedule) is carried out."""
    again = repeat_submission()
    if again is not None:
        return again
    try:
        results = approvals.approve(ctl(), announcement_id, db_user())
    except ServiceError as exc:
        release_submission()
        if exc.status in (403, 404):
            raise  # not his to approve: the 403/404 page, not a hint on a page he may not see
        flash(message(exc.code, exc.message), "error")
        return redirect(url_for("ui.announcement", announcement_id=announcement_id))
    scheduled = any(r.startswith("schedule:") for r in results)
    flash(_("Schedule approved.") if scheduled else _("Approved."), "ok")
    for r in results:
        if r.startswith("error:"):
            flash(_("The schedule could not be created: %(why)s", why=message(r[6:])), "error")
    first = next((r for r in results if r.startswith("broadcast:")), None)
    target = (url_for("ui.broadcast", broadcast_id=int(first.split(":")[1])) if first
              else url_for("ui.announcement", announcement_id=announcement_id))
    return finish_submission(target)


@bp.post("/announcements/<int:announcement_id>/edit")
@roles_required(*EDITORS)
def edit(announcement_id: int):
    """Change title or text; approved content goes back to draft."""
    again = repeat_submission()
    if again is not None:
        return again
    title = request.form.get("title", "").strip()
    text = request.form.get("text")
    errors = {}
    status = 422
    rendered = None
    try:
        with ctl().db.session() as s:
            ann = approvals.get_announcement(s, announcement_id, current_user)
            had_text = ann.text is not None
        if had_text:
            text = announcements.check_text(text, ctl().settings.max_text_chars)
            with ctl().db.session() as s:
                abbreviations = announcements.abbreviations(s)
            rendered = speech.render_text(ctl(), text, abbreviations)
        else:
            text = None
        with ctl().db.session() as s:
            approvals.edit(s, ctl(), announcement_id, title=title, text=text, rendered=rendered,
                           user=s.merge(db_user()))
    except AudioError as exc:
        errors["text"] = message(exc.code, str(exc))
    except ServiceError as exc:
        field, msg = error_of(exc)
        errors[field] = msg
        status = status_of(exc)
    if errors:
        release_submission()
        return _detail(announcement_id, errors, {"title": title, "text": request.form.get("text", "")},
                       status)
    flash(_("Saved. The announcement is a draft again and needs approval."), "ok")
    return finish_submission(url_for("ui.announcement", announcement_id=announcement_id))


@bp.post("/announcements/<int:announcement_id>/send")
@roles_required(*EDITORS)
def send(announcement_id: int):
    """Broadcast an approved announcement now to the chosen targets."""
    again = repeat_submission()
    if again is not None:
        return again
    hamlets, speakers = request.form.getlist("hamlets"), request.form.getlist("speakers")
    targets = {"all": True} if request.form.get("all_speakers") == "1" else {
        k: v for k, v in (("hamlets", hamlets), ("speakers", speakers)) if v}
    try:
        with ctl().db.session() as s:
            kind, new_id = approvals.send_now(s, ctl(), announcement_id, targets=targets,
                                              priority=request.form.get("priority", "normal"),
                                              user=s.merge(db_user()))
    except ServiceError as exc:
        release_submission()
        field, msg = error_of(exc)
        return _detail(announcement_id, {"send_" + field: msg}, {}, status_of(exc))
    if kind == "request":
        flash(_("Saved. It will be broadcast once a leader approves it."), "ok")
        return finish_submission(url_for("ui.announcement", announcement_id=announcement_id))
    ctl().kick()
    return finish_submission(url_for("ui.broadcast", broadcast_id=new_id))
