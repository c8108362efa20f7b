"""JSON API for tiếp sóng under /api/v1: sources and relays. Thin: parse, call a service, shape."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from controller.services import relay_view, relays, sources
from controller.services.errors import ServiceError
from web.api import ALL_ROLES, json_body
from web.auth import api_auth, csrf
from web.context import ctl

bp = Blueprint("api_relays", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return jsonify(exc.to_dict()), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code


@bp.post("/sources")
@api_auth(*sources.MANAGE_ROLES)
def create_source():
    """Register an upstream station after probing it (force: true saves an unplayable one)."""
    body = json_body()
    sid = sources.register(ctl(), name=body.get("name"), url=body.get("url"),
                           backup_url=body.get("backup_url"), force=body.get("force", False),
                           user=g.api_user)
    return jsonify(id=sid), 201


@bp.get("/sources")
@api_auth(*ALL_ROLES)
def list_sources():
    """Every registered source."""
    with ctl().db.session() as s:
        return jsonify(sources=[sources.to_dict(x) for x in sources.list_sources(s)])


@bp.post("/relays")
@api_auth("admin", "approver")
def create_relay():
    """Relay a source now to the targets until a time or for a duration."""
    body = json_body()
    rid = relays.start_now(ctl(), source_id=body.get("source_id"), targets=body.get("targets"),
                           until=body.get("until"), duration_s=body.get("duration_s"),
                           user=g.api_user)
    return jsonify(id=rid), 201


@bp.get("/relays")
@api_auth(*ALL_ROLES)
def list_relays():
    """Running relays, then the most recent ones."""
    limit = min(max(request.args.get("limit", 20, type=int), 1), 200)
    with ctl().db.session() as s:
        shown = relay_view.shown_speakers(s, g.api_user)
        return jsonify(relays=[relay_view.summary(r, shown)
                               for r in relays.recent(s, limit, g.api_user)])


@bp.get("/relays/<int:relay_id>")
@api_auth(*ALL_ROLES)
def get_relay(relay_id: int):
    """A relay with each speaker's delivery (state, seconds aired, events) and its gaps."""
    with ctl().db.session() as s:
        return jsonify(relay_view.detail(s, relays.get(s, relay_id, g.api_user), g.api_user))


@bp.post("/relays/<int:relay_id>/stop")
@api_auth("admin", "approver")
def stop_relay(relay_id: int):
    """Stop a running relay now."""
    relays.stop(ctl(), relay_id, g.api_user)
    with ctl().db.session() as s:
        return jsonify(relay_view.detail(s, relays.get(s, relay_id, g.api_user), g.api_user))
