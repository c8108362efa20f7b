"""Scheduled relays on the Tiếp sóng page: 'VOV1 6:00–6:30 every day' saved as a schedule, paused,
resumed or cancelled; and the running relays' states as JSON for the page to poll."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from controller.models import utcnow
from controller.services.errors import ServiceError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import (
    ALL,
    APPROVERS,
    EDITORS,
    db_user,
    finish_submission,
    localtime,
    release_submission,
    repeat_submission,
    schedule_errors,
    status_of,
)
from web.ui.compose_form import input_for, plan_fields
from web.ui.relay_schedule_form import REFUSED, conflict_lines, read
from web.ui.relays import STATES, _error, _relays_page, visible_relays

ACTIONS = {"pause": _l("Relay schedule %(id)s paused."),
           "resume": _l("Relay schedule %(id)s resumed."),
           "cancel": _l("Relay schedule %(id)s cancelled.")}


@bp.post("/relays/schedules")
@roles_required(*EDITORS)  # an editor gets the page saying who may, not a bare 403
def relay_schedule_add():
    """Save a relay schedule (approvers, admins); overlaps are shown and need 'save anyway'."""
    from schedules import manage

    again = repeat_submission()
    if again is not None:
        return again
    form = read(request, ctl().settings.timezone)
    if current_user.role not in APPROVERS:
        release_submission()
        form.errors = {"form": str(REFUSED)}
        return _relays_page(schedule_form=form, status=403)
    if form.errors:
        release_submission()
        return _relays_page(schedule_form=form, status=422)
    user, now = db_user(), datetime.now(UTC)
    try:
        if not form.confirm:
            _none, found = manage.create(ctl(), form.body(), user, now, dry_run=True)
            if found:
                release_submission()
                form.conflicts = conflict_lines(found)
                form.errors["schedule"] = _(
                    "This relay overlaps other broadcasts on the same speakers (listed below). "
                    "Nothing was saved; change the time or tick \"Save anyway\".")
                return _relays_page(schedule_form=form, status=409)
        sid, found = manage.create(ctl(), form.body(), user, now)
    except manage.ScheduleInvalid as exc:
        release_submission()
        form.errors.update({input_for(k): v for k, v in schedule_errors(exc.errors).items()})
        return _relays_page(schedule_form=form, status=422)
    except ServiceError as exc:
        release_submission()
        field, msg = _error(exc)
        if exc.code in ("approval_required", "forbidden_role"):
            field, msg = "form", str(REFUSED)
        form.errors[{"relay": "minutes", "duration_s": "minutes"}.get(field, field)] = msg
        return _relays_page(schedule_form=form, status=status_of(exc))
    flash(_("Relay schedule %(id)s saved; it is in the calendar.", id=sid), "ok")
    if found:
        flash(_("Saved despite the overlap: %(first)s", first=conflict_lines(found)[0]), "error")
    return finish_submission(url_for("ui.relays_page") + "#scheduled-relays")


@bp.post("/relays/schedules/<int:schedule_id>/<action>")
@roles_required(*EDITORS)  # like the API: pausing or cancelling never adds airtime
def relay_schedule_status(schedule_id: int, action: str):
    """Pause, resume or cancel a relay schedule."""
    from schedules import manage

    if action not in ACTIONS:
        abort(404)
    again = repeat_submission()
    if again is not None:
        return again
    try:
        with ctl().db.session() as s:
            if manage.get(s, schedule_id, current_user).relay_source_id is None:
                abort(404)  # announcement schedules are managed from the calendar and approvals
        manage.set_status(ctl(), schedule_id, action, db_user(), utcnow())
    except ServiceError as exc:
        release_submission()
        return _relays_page({"scheduled": _error(exc)[1]}, None, status_of(exc, 409))
    flash(str(ACTIONS[action]) % {"id": schedule_id}, "ok")
    return finish_submission(url_for("ui.relays_page") + "#scheduled-relays")


@bp.get("/relays.json")
@roles_required(*ALL)
def relays_json():
    """Each shown relay's state and per-speaker state and seconds aired (static/relays.js polls it)."""
    with ctl().db.session() as s:
        items = visible_relays(s, current_user)
    return jsonify(
        relays=[{"id": r["id"], "state": r["state"], "state_name": str(STATES.get(r["state"], r["state"])),
                 "deliveries": [{"speaker_id": d["speaker_id"], "state": d["state"],
                                 "state_name": str(STATES.get(d["state"], d["state"])),
                                 "aired_s": round(d["aired_s"] or 0)} for d in r["deliveries"]]}
                for r in items],
        running=any(r["state"] == "running" for r in items), at=localtime(utcnow(), "%H:%M:%S"))


@bp.post("/relays/schedules/preview.json")
@roles_required(*APPROVERS)
def relay_schedule_preview():
    """The schedule form's summary, field errors and overlaps as the clerk types (static/relays.js)."""
    from schedules import manage
    from schedules.forms import check_plan
    from schedules.summary import summarize_en, summarize_vi

    form = read(request, ctl().settings.timezone)
    plan, errs = check_plan(plan_fields(form.schedule))
    if plan is None:
        return jsonify(summary=None, errors=schedule_errors(errs), conflicts=[])
    english = str(get_locale()) == "en"
    summary = (summarize_en if english else summarize_vi)(plan.recurrence)
    conflicts: list[str] = []
    if not form.errors:
        try:
            _none, found = manage.create(ctl(), form.body(), db_user(), datetime.now(UTC),
                                         dry_run=True)
            conflicts = conflict_lines(found)
        except ServiceError as exc:
            return jsonify(summary=summary, errors={exc.field or "form": _error(exc)[1]},
                           conflicts=[]), status_of(exc, 200)
    return jsonify(summary=summary, errors={}, conflicts=conflicts)
