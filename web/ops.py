"""/healthz for the reverse proxy and systemd, /metrics for Prometheus."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, jsonify, request

from controller.metrics import health
from web.context import ctl

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers and the broker session is up; 503 otherwise."""
    ok, details = health(ctl())
    return jsonify(status="ok" if ok else "degraded", **details), 200 if ok else 503


@bp.get("/metrics")
def metrics():
    """Prometheus text format: with the configured bearer token, or from loopback when none is set."""
    token = ctl().settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(401)
    elif not ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback:  # noqa: S104
        # No token: only the machine itself (or a reverse proxy on it, which must then not
        # forward /metrics: deploy/Caddyfile answers it with 404 from outside).
        abort(403)
    return Response(ctl().metrics.exposition(), mimetype="text/plain; version=0.0.4")
