"""The start page: what needs attention, the speakers, and the latest broadcasts."""

from __future__ import annotations

from flask import current_app, render_template, send_from_directory
from flask_login import current_user

from controller.services import access, approvals, broadcasts, registry
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import ALL


@bp.get("/")
@roles_required(*ALL)
def index():
    """Dashboard: pending approvals, speakers with presence, latest broadcasts per speaker."""
    with ctl().db.session() as s:
        speakers = registry.list_speakers(s, user=current_user)
        recent = [broadcasts.get(s, b.id, current_user)
                  for b in broadcasts.recent(s, 8, current_user)]
        shown = {b.id: access.visible_deliveries(s, b, access.scope_of(current_user)) for b in recent}
        drafts = approvals.pending(s, current_user)
        return render_template("home.html", speakers=speakers, broadcasts=recent, drafts=drafts,
                               shown=shown)


@bp.get("/favicon.ico")
def favicon():
    """The tab icon, for browsers and tools that ask for /favicon.ico (pages link the SVG)."""
    return send_from_directory(current_app.blueprints["ui"].static_folder, "favicon.svg",
                               mimetype="image/svg+xml", max_age=86400)
