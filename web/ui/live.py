"""Phát trực tiếp: speak to chosen hamlets now from this phone or PC, or from a studio encoder.

The page itself (static/live.js) records the microphone and posts the chunks straight to the
API's chunk URL; these views only open, show and stop the session for the logged-in user.
"""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _

from controller.services import access, live, registry
from controller.services.errors import ServiceError
from web.api_live import with_chunk_url
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import APPROVERS, db_user, message


def _error(exc: ServiceError):
    text = message(exc.code, exc.message)
    if exc.code == "live_busy":
        text = _("%(hamlets)s is already live with %(holder)s. Wait until they stop.",
                 hamlets=", ".join(exc.params.get("hamlets", [])), holder=exc.params.get("holder"))
    return jsonify(error=exc.code, message=text), exc.status


@bp.get("/live")
@roles_required(*APPROVERS)
def live_page():
    """The page: targets, one big button, level meter, timer, external encoder details."""
    with ctl().db.session() as s:
        scope = access.scope_of(db_user())
        hamlets = [h.name for h in registry.list_hamlets(s)
                   if scope.allows(h.id) and any(spk.revoked_at is None for spk in h.speakers)]
    return render_template("live.html", hamlets=hamlets)


@bp.post("/live/start")
@roles_required(*APPROVERS)
def live_start():
    """Open a live session (JSON in, JSON out, CSRF header)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="bad_request", message=message("targets_required")), 400
    try:
        out = live.go_live(ctl(), targets=body.get("targets"), user=db_user(),
                           ip=request.remote_addr)
    except ServiceError as exc:
        return _error(exc)
    return jsonify(id=out["id"], ingest=with_chunk_url(out["ingest"])), 201


@bp.get("/live/<int:session_id>/status")
@roles_required(*APPROVERS)
def live_status(session_id: int):
    """The session's state and its speakers (polled by the page)."""
    try:
        return jsonify(live.view(ctl(), session_id, db_user()))
    except ServiceError as exc:
        return _error(exc)


@bp.post("/live/<int:session_id>/stop")
@roles_required(*APPROVERS)
def live_stop(session_id: int):
    """Stop the session: the speakers stop."""
    try:
        return jsonify(live.stop_live(ctl(), session_id, user=db_user(), ip=request.remote_addr))
    except ServiceError as exc:
        return _error(exc)
