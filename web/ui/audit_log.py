"""The audit log page: who did what, newest first, filterable by action and person."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from controller.services import accounts
from web.auth import roles_required
from web.context import ctl
from web.ui import bp


@bp.get("/audit")
@roles_required("admin", "approver")
def audit_page():
    """A page of audit events."""
    action = (request.args.get("action") or "").strip() or None
    actor = (request.args.get("actor") or "").strip() or None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with ctl().db.session() as s:
        rows, has_next = accounts.audit_page(s, action=action, actor=actor, page=page,
                                             user=current_user)
        return render_template("audit.html", rows=rows, has_next=has_next, page=page,
                               actions=accounts.audit_actions(s), action=action or "", actor=actor or "")
