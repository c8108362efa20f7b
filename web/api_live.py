"""JSON API for live sessions under /api/v1/live. Thin: parse, call controller.services.live, shape.

The chunk endpoint is the browser's (or any client's) microphone feed: raw MediaRecorder
bytes in the body, `seq` and the session's chunk `key` in the query. The key is a capability
handed to whoever opened the session, so the page posts with its cookie-less fetch and no
CSRF token, and a wrong or missing key is a 403 like any signed link.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException

from controller.live.ingest import MAX_CHUNK_BYTES, IngestError
from controller.services import live
from controller.services.errors import ServiceError
from web.api import ALL_ROLES, json_body
from web.auth import api_auth, csrf
from web.context import ctl

bp = Blueprint("api_live", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens or the chunk key, not cookies
LIVE_ROLES = live.LIVE_ROLES


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    body = exc.to_dict()
    body.update({k: v for k, v in exc.params.items() if k in ("holder", "session_id", "hamlets")})
    return jsonify(body), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code


def with_chunk_url(info: dict) -> dict:
    """The ingest object with an absolute chunk URL for this request's host."""
    return {**info, "chunk_url": request.host_url.rstrip("/") + info["chunk_path"]}


@bp.post("/live")
@api_auth(*LIVE_ROLES)
def start_live():
    """Go live now on the targets; the answer says how to feed the session."""
    body = json_body()
    if "targets" not in body:
        raise ServiceError("targets_required", "missing field 'targets'", field="targets")
    title = body.get("title")
    if title is not None and not isinstance(title, str):
        raise ServiceError("bad_title", "title must be a string", field="title")
    out = live.go_live(ctl(), targets=body["targets"], user=g.api_user, title=title,
                       ip=request.remote_addr)
    return jsonify(id=out["id"], ingest=with_chunk_url(out["ingest"])), 201


@bp.get("/live/<int:session_id>")
@api_auth(*ALL_ROLES)
def get_live(session_id: int):
    """One live session with every speaker's delivery, seconds aired and events."""
    return jsonify(live.view(ctl(), session_id, g.api_user))


@bp.get("/live/<int:session_id>/ingest")
@api_auth(*LIVE_ROLES)
def get_live_ingest(session_id: int):
    """The chunk URL and the external encoder's Icecast login, again."""
    return jsonify(with_chunk_url(live.get_ingest(ctl(), session_id, g.api_user)))


@bp.post("/live/<int:session_id>/stop")
@api_auth(*LIVE_ROLES)
def stop_live(session_id: int):
    """End a live session: the speakers stop."""
    return jsonify(live.stop_live(ctl(), session_id, user=g.api_user, ip=request.remote_addr))


@bp.post("/live/<int:session_id>/chunks")
def post_chunk(session_id: int):
    """One numbered piece of the browser's recording (audio/webm;codecs=opus)."""
    if not live.check_chunk_key(ctl(), session_id, request.args.get("key", "")):
        return jsonify(error="forbidden", message="missing or wrong chunk key"), 403
    seq = request.args.get("seq", type=int)
    if seq is None or seq < 0:
        raise BadRequest("query parameter 'seq' must be a whole number from 0")
    if (request.content_length or 0) > MAX_CHUNK_BYTES:
        raise BadRequest(f"a chunk holds at most {MAX_CHUNK_BYTES} bytes")
    try:
        accepted = live.watch(ctl()).feed(session_id, seq, request.get_data(cache=False))
    except IngestError as exc:
        status = 409 if exc.code == "not_live" else 400
        return jsonify(error=exc.code, message=str(exc)), status
    return jsonify(accepted)
