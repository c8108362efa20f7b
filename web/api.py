"""JSON API under /api/v1 (bearer tokens). Thin: parse, call a service, shape the answer."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException

from controller.services import access, broadcasts, registry, sending, speech_admin
from controller.services.errors import ServiceError
from web import serializers
from web.auth import api_auth, csrf
from web.context import ctl
from web.openapi import spec
from web.security import JsonTooDeep

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies: CSRF does not apply
ALL_ROLES = ("admin", "editor", "approver", "viewer")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return jsonify(exc.to_dict()), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code


def json_body() -> dict:
    """The request's JSON object, or a 400 naming the problem."""
    if not request.is_json:
        raise BadRequest("send a JSON body with Content-Type: application/json")
    try:
        body = request.get_json()
    except JsonTooDeep:
        raise
    except BadRequest:
        raise BadRequest("malformed JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the JSON body must be an object")
    return body


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document describing this API."""
    return jsonify(spec())


@bp.get("/speakers")
@api_auth(*ALL_ROLES)
def list_speakers():
    """Every active speaker with presence and health."""
    with ctl().db.session() as s:
        items = [serializers.speaker(spk, ctl().settings)
                 for spk in registry.list_speakers(s, user=g.api_user)]
    return jsonify(speakers=items)


@bp.get("/hamlets")
@api_auth(*ALL_ROLES)
def list_hamlets():
    """Hamlets with their speaker ids."""
    with ctl().db.session() as s:
        items = [{"id": h.id, "name": h.name,
                  "speakers": sorted(x.id for x in h.speakers if x.revoked_at is None)}
                 for h in registry.list_hamlets(s, g.api_user)]
    return jsonify(hamlets=items)


@bp.post("/broadcasts")
@api_auth("admin", "approver")
def create_broadcast():
    """Speak a text now on the chosen targets."""
    body = json_body()
    if "targets" not in body:
        raise ServiceError("targets_required", "missing field 'targets'", field="targets")
    bid = sending.send_text_now(ctl(), text=body.get("text"), targets=body.get("targets"),
                                user=g.api_user, priority=body.get("priority", "normal"),
                                title=body.get("title"))
    return jsonify(id=bid), 201


@bp.get("/broadcasts")
@api_auth(*ALL_ROLES)
def list_broadcasts():
    """The most recent broadcasts with per-state counts."""
    limit = min(max(request.args.get("limit", 20, type=int), 1), 200)
    with ctl().db.session() as s:
        scope = access.scope_of(g.api_user)
        items = [serializers.broadcast_summary(b, access.visible_deliveries(s, b, scope))
                 for b in broadcasts.recent(s, limit, g.api_user)]
    return jsonify(broadcasts=items)


@bp.get("/broadcasts/<int:broadcast_id>")
@api_auth(*ALL_ROLES)
def get_broadcast(broadcast_id: int):
    """One broadcast with every delivery and its events."""
    with ctl().db.session() as s:
        b = broadcasts.get(s, broadcast_id, g.api_user)
        shown = access.visible_deliveries(s, b, access.scope_of(g.api_user))
        return jsonify(serializers.broadcast_detail(b, shown))


@bp.post("/preview")
@api_auth("admin", "editor", "approver")
def preview():
    """The normalized spoken text and a link to the mastered audio, before anything airs."""
    body = json_body()
    return jsonify(speech_admin.preview(ctl(), body.get("text")))


@bp.get("/abbreviations")
@api_auth("admin", "editor", "approver")
def get_abbreviations():
    """The abbreviation dictionary the speech normalizer uses."""
    with ctl().db.session() as s:
        entries, source = speech_admin.dictionary(s)
    return jsonify(abbreviations=entries, source=source)


@bp.put("/abbreviations")
@api_auth("admin")
def put_abbreviations():
    """Replace the dictionary ({} restores the shipped default)."""
    body = json_body()
    with ctl().db.session() as s:
        n = speech_admin.replace_dictionary(s, body.get("abbreviations"), s.merge(g.api_user))
    return jsonify(count=n)
