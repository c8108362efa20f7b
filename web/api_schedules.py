"""JSON API for schedules and the agenda, under /api/v1. Thin: parse, call schedules.manage, shape."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from controller.models import Schedule, utcnow
from controller.services.errors import ServiceError
from protocol.errors import ProtocolError
from protocol.messages import format_time, parse_time
from schedules import manage, store
from schedules.agenda import agenda
from schedules.forms import parse_date
from schedules.plan import SchedulePlan
from schedules.summary import summarize_en, summarize_vi
from web.api import ALL_ROLES, json_body
from web.auth import api_auth, csrf
from web.context import ctl

bp = Blueprint("api_schedules", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies
EDIT_ROLES = ("admin", "editor", "approver")
MAX_AGENDA_DAYS = 62
AGENDA_YEARS = (1970, 9000)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return jsonify(exc.to_dict()), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code


def _schedule(sch: Schedule) -> dict:
    plan = SchedulePlan.from_dict(sch.plan)
    return {
        "id": sch.id, "announcement_id": sch.announcement_id, "title": sch.title,
        "relay": ({"source_id": sch.relay_source_id, "duration_s": sch.relay_duration_s}
                  if sch.relay_source_id is not None else None),
        "status": sch.status, "plan": sch.plan, "targets": sch.targets, "priority": plan.priority,
        "summary": summarize_en(plan.recurrence), "summary_vi": summarize_vi(plan.recurrence),
        "created_at": format_time(sch.created_at), "updated_at": format_time(sch.updated_at),
    }


def _dry_run(body: dict) -> bool:
    value = body.pop("dry_run", False)
    if not isinstance(value, bool):
        raise ServiceError("bad_dry_run", "dry_run must be true or false", field="dry_run")
    return value


def _requested(out: manage.Outcome):
    """202: an editor's schedule or change waits for an approver."""
    return jsonify(status="pending_approval", request_id=out.request_id,
                   schedule_id=out.schedule_id, conflicts=out.conflicts,
                   message="saved as a request: it airs once an approver approves it"), 202


@bp.post("/schedules")
@api_auth(*EDIT_ROLES)
def create_schedule():
    """Create a schedule (or only check it with dry_run); conflicts per speaker come back either way."""
    body = json_body()
    dry = _dry_run(body)
    out = manage.submit(ctl(), body, g.api_user, utcnow(), dry_run=dry)
    if dry:
        return jsonify(ok=True, dry_run=True, conflicts=out.conflicts), 200
    if out.request_id is not None:
        return _requested(out)
    with ctl().db.session() as s:
        shown = _schedule(manage.get(s, out.schedule_id, g.api_user))
    return jsonify({**shown, "conflicts": out.conflicts}), 201


@bp.get("/schedules")
@api_auth(*ALL_ROLES)
def list_schedules():
    """Schedules, newest first; ?status=active|paused|cancelled filters."""
    status = request.args.get("status") or None
    if status is not None and status not in store.STATUSES:
        raise ServiceError("bad_status", f"status must be one of {', '.join(store.STATUSES)}",
                           field="status")
    with ctl().db.session() as s:
        return jsonify(schedules=[_schedule(x) for x in manage.list_visible(s, status, g.api_user)])


@bp.get("/schedules/<int:schedule_id>")
@api_auth(*ALL_ROLES)
def get_schedule(schedule_id: int):
    """One schedule."""
    with ctl().db.session() as s:
        return jsonify(_schedule(manage.get(s, schedule_id, g.api_user)))


@bp.put("/schedules/<int:schedule_id>")
@api_auth(*EDIT_ROLES)
def update_schedule(schedule_id: int):
    """Replace a schedule; its future occurrences are planned again from the new plan."""
    body = json_body()
    dry = _dry_run(body)
    out = manage.submit(ctl(), body, g.api_user, utcnow(), dry_run=dry, schedule_id=schedule_id)
    if out.request_id is not None:
        return _requested(out)
    with ctl().db.session() as s:
        shown = _schedule(manage.get(s, schedule_id, g.api_user))
    return jsonify({**shown, "conflicts": out.conflicts, "dry_run": dry})


@bp.delete("/schedules/<int:schedule_id>")
@api_auth(*EDIT_ROLES)
def delete_schedule(schedule_id: int):
    """Cancel a schedule: future occurrences are cancelled; the history stays."""
    sch = manage.set_status(ctl(), schedule_id, "cancel", g.api_user, utcnow())
    return jsonify(id=sch.id, status=sch.status)


def _action(schedule_id: int, action: str):
    sch = manage.set_status(ctl(), schedule_id, action, g.api_user, utcnow())
    return jsonify(id=sch.id, status=sch.status)


@bp.post("/schedules/<int:schedule_id>/pause")
@api_auth(*EDIT_ROLES)
def pause_schedule(schedule_id: int):
    """Pause: future occurrences are cancelled (reason: paused) until resumed."""
    return _action(schedule_id, "pause")


@bp.post("/schedules/<int:schedule_id>/resume")
@api_auth(*EDIT_ROLES)
def resume_schedule(schedule_id: int):
    """Resume a paused schedule."""
    return _action(schedule_id, "resume")


@bp.post("/schedules/<int:schedule_id>/cancel")
@api_auth(*EDIT_ROLES)
def cancel_schedule(schedule_id: int):
    """Cancel a schedule for good."""
    return _action(schedule_id, "cancel")


@bp.post("/schedules/<int:schedule_id>/occurrences/cancel")
@api_auth(*EDIT_ROLES)
def cancel_occurrence(schedule_id: int):
    """Cancel one occurrence, named by its due_at (RFC 3339, as the agenda lists it)."""
    body = json_body()
    key = manage.cancel_occurrence(ctl(), schedule_id, body.get("due_at"), g.api_user, utcnow())
    return jsonify(key=key, state="cancelled")


def _bound(name: str, default: datetime, tz: ZoneInfo) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        if len(raw) == 10 or "/" in raw:  # a local date: its midnight in the commune
            at = datetime.combine(parse_date(raw), time(), tz).astimezone(UTC)
        else:
            at = parse_time(raw, name)
    except (ValueError, ProtocolError):
        raise ServiceError("bad_range", f"'{name}' must be a date (YYYY-MM-DD) or an RFC 3339 "
                           "instant", field=name) from None
    except OverflowError:
        at = datetime.min.replace(tzinfo=UTC)  # year 1 in UTC+7 is year 0 in UTC
    if not AGENDA_YEARS[0] <= at.year <= AGENDA_YEARS[1]:
        # 9999-12-31 + 7 days, or year 1 in UTC+7, overflowed datetime: a 500 before this.
        raise ServiceError("bad_range", f"'{name}' must be within the years {AGENDA_YEARS[0]}"
                           f"-{AGENDA_YEARS[1]}", field=name)
    return at


@bp.get("/agenda")
@api_auth(*ALL_ROLES)
def get_agenda():
    """Occurrences in [from, to) with their state; default: today and the next 7 days (local)."""
    tz = ZoneInfo(ctl().settings.timezone)
    now = utcnow()
    today = datetime.combine(now.astimezone(tz).date(), time(), tz).astimezone(UTC)
    start = _bound("from", today, tz)
    end = _bound("to", start + timedelta(days=7), tz)
    if end <= start:
        raise ServiceError("bad_range", "'to' must be after 'from'", field="to")
    if end - start > timedelta(days=MAX_AGENDA_DAYS):
        raise ServiceError("range_too_long", f"at most {MAX_AGENDA_DAYS} days at once", field="to")
    with ctl().db.session() as s:
        items = agenda(s, start, end, now, ctl().settings.timezone, user=g.api_user)
    return jsonify(**{"from": format_time(start), "to": format_time(end), "occurrences": items})
