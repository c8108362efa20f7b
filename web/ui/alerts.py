"""The 'Cảnh báo' page: the alert log, the feeds polled, the policy table, and where hamlets are."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask import request as flask_request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from controller.alerts import hamlet_areas, policy, reasons
from controller.alerts import log as alert_log
from controller.alerts.models import AlertFeedState
from controller.alerts.settings import alert_settings
from controller.models import utcnow
from controller.services import access, registry
from controller.services.errors import ServiceError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import ALL, db_user, localtime

ACTIONS = {
    "emergency": _l("Aired at once (emergency)"), "priority": _l("Aired (priority)"),
    "draft": _l("Draft waiting for approval"), "ignored": _l("Ignored"), "ignore": _l("Ignored"),
    "refused": _l("Refused"), "not_for_us": _l("Not for this commune"), "test": _l("Test (not aired)"),
    "duplicate": _l("Duplicate (ignored)"), "cancel": _l("Cancellation"),
    "unknown_ref": _l("Refers to an unknown alert"), "failed": _l("Failed"),
}
STATES = {"active": _l("Repeating"), "done": "", "cancelled": _l("Cancelled"),
          "replaced": _l("Replaced by an update"), "ended": _l("Expired")}
AREA_ROLES = ("admin",)
CAP_VALUES = {
    "Extreme": _l("Extreme"), "Severe": _l("Severe"), "Moderate": _l("Moderate"), "Minor": _l("Minor"),
    "Unknown": _l("Unknown"), "Immediate": _l("Immediate"), "Expected": _l("Expected"),
    "Future": _l("Future"), "Past": _l("Past"),
}


def cap_value(value: str | None) -> str:
    """A CAP severity or urgency in the page's language."""
    return str(CAP_VALUES.get(value, value or ""))


def action_name(code: str) -> str:
    """What an alert action is called on the page."""
    return str(ACTIONS.get(code, code))


def _row(s, rec) -> dict:
    row = {**alert_log.to_dict(s, rec), "received_local": localtime(rec.received_at),
           "expires_local": localtime(rec.expires_at) if rec.expires_at else ""}
    if rec.state == "active" and rec.expires_at and rec.expires_at <= utcnow():
        row["state"] = "ended"
    if str(get_locale()).startswith("vi"):
        row["reason_shown"] = reasons.vietnamese(rec.action, rec.reason, rec.refers_to)
        row["reason_detail"] = rec.reason if row["reason_shown"] != rec.reason else ""
    else:
        row["reason_shown"], row["reason_detail"] = rec.reason or "", ""
    return row


@bp.get("/alerts")
@roles_required(*ALL)
def alerts_page():
    """The alert log, feeds, policy and hamlet areas."""
    conf = alert_settings(ctl().settings.alerts)
    scope = access.scope_of(db_user())
    with ctl().db.session() as s:
        rows = [_row(s, r) for r in alert_log.recent(s, 100)]
        rows = alert_log.scoped(rows, scope)
        feed_rows = {f.name: s.get(AlertFeedState, f.name) for f in conf.feeds}
        areas = hamlet_areas.all_areas(s)
        hamlets = [{"id": h.id, "name": h.name,
                    "geocodes": ", ".join(areas[h.id].geocodes) if h.id in areas else "",
                    "has_polygon": bool(h.id in areas and areas[h.id].polygon),
                    "polygon": areas[h.id].polygon if h.id in areas else None}
                   for h in registry.list_hamlets(s) if scope.allows(h.id)]
        return render_template(
            "alerts.html", rows=rows, feeds=conf.feeds, feed_rows=feed_rows, conf=conf,
            grid=policy.table(conf.rules), urgencies=policy.URGENCIES, hamlets=hamlets,
            action_name=action_name, state_names=STATES, cap_value=cap_value,
            can_edit_areas=db_user().role in AREA_ROLES)


@bp.get("/alerts/<int:alert_id>")
@roles_required(*ALL)
def alert_page(alert_id: int):
    """One alert: what it said, what was decided and its broadcasts."""
    with ctl().db.session() as s:
        try:
            row = _row(s, alert_log.get(s, alert_id))
        except ServiceError:
            return render_template("error.html", code=404, message=_("This page does not exist.")), 404
        return render_template("alert.html", a=row, action_name=action_name, state_names=STATES,
                               cap_value=cap_value)


@bp.post("/alerts/hamlets/<int:hamlet_id>")
@roles_required(*AREA_ROLES)
def alert_hamlet_area(hamlet_id: int):
    """Save a hamlet's polygon (GeoJSON) and geocodes."""
    form = flask_request.form
    try:
        with ctl().db.session() as s:
            hamlet_areas.set_area(s, hamlet_id, polygon=form.get("polygon", ""),
                                  geocodes=form.get("geocodes", ""), actor=db_user().username)
        flash(_("The hamlet's area is saved."), "ok")
    except ServiceError as exc:
        flash(_("The area was not saved: %(reason)s", reason=exc.message), "error")
    return redirect(url_for("ui.alerts_page") + f"#hamlet-{hamlet_id}")


def alert_of_broadcast(broadcast_id: int) -> int | None:
    """The alert a broadcast was made for (for a link on the broadcast page), or None."""
    from controller.models import Broadcast

    with ctl().db.session() as s:
        b = s.get(Broadcast, broadcast_id)
        rec = alert_log.for_broadcast(s, b) if b is not None else None
        return rec.id if rec else None


bp.record_once(lambda state: state.app.jinja_env.globals.update(alert_of_broadcast=alert_of_broadcast))
