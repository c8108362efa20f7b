"""JSON API for public warnings under /api/v1: a CAP 1.2 document in, the alert log out."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from controller.alerts import intake
from controller.alerts import log as alert_log
from controller.alerts.settings import alert_settings
from controller.services import access
from controller.services.errors import NotFound, ServiceError
from web.api import ALL_ROLES
from web.auth import api_auth, csrf
from web.context import ctl

bp = Blueprint("api_alerts", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies
SOURCE_ROLES = ("alert-source", "admin")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return jsonify(exc.to_dict()), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code


def _body(max_bytes: int) -> bytes:
    """The raw body, read no further than the limit (a larger one is refused unread)."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise _TooLarge(declared, max_bytes)
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge(None, max_bytes)
    return data


class _TooLarge(Exception):
    def __init__(self, size: int | None, limit: int):
        super().__init__(f"the body has {size if size is not None else 'more than ' + str(limit)} bytes; "
                         f"the limit is {limit}")


@bp.post("/alerts")
@api_auth(*SOURCE_ROLES)
def post_alert():
    """Take one CAP 1.2 document; answers with its alert-log line (refusals included)."""
    conf = alert_settings(ctl().settings.alerts)
    source = f"api:{g.api_user.username}"
    try:
        data = _body(conf.max_bytes)
    except _TooLarge as exc:
        rid = intake.log_refusal(ctl(), source, "too_large", str(exc), actor=g.api_user.username)
        return jsonify(error="too_large", message=str(exc), id=rid), 413
    rid = intake.receive(ctl(), data, source=source, user=g.api_user)
    with ctl().db.session() as s:
        body = alert_log.to_dict(s, alert_log.get(s, rid))
    return jsonify(body), 422 if body["action"] == "refused" else 201


@bp.get("/alerts")
@api_auth(*ALL_ROLES)
def list_alerts():
    """The alert log, newest first."""
    limit = min(max(request.args.get("limit", 50, type=int), 1), 500)
    scope = access.scope_of(g.api_user)
    with ctl().db.session() as s:
        rows = [alert_log.to_dict(s, r) for r in alert_log.recent(s, limit)]
        return jsonify(alerts=alert_log.scoped(rows, scope))


@bp.get("/alerts/<int:alert_id>")
@api_auth(*ALL_ROLES)
def get_alert(alert_id: int):
    """One alert-log line with its broadcasts."""
    with ctl().db.session() as s:
        rows = alert_log.scoped([alert_log.to_dict(s, alert_log.get(s, alert_id))],
                                access.scope_of(g.api_user))
    if not rows:
        raise NotFound("unknown_alert", f"unknown alert {alert_id}")
    return jsonify(rows[0])
