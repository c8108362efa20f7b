"""The audit log page: who did what, newest first, filterable by action and person."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from controller.services import accounts
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.audit_text import action_name, describe


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
        lines = [(e, action_name(e.action), describe(s, e)) for e in rows]
        actions = [(a, action_name(a)) for a in accounts.audit_actions(s)]
        return render_template("audit.html", lines=lines, has_next=has_next, page=page,
                               actions=sorted(actions, key=lambda a: a[1]), action=action or "",
                               actor=actor or "")
