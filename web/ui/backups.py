"""Backups (admins only): when the last one succeeded, how big and how old, and "back up now"."""

from __future__ import annotations

from datetime import datetime

from flask import flash, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _

from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import finish_submission, localtime, release_submission, repeat_submission


def _view(st: dict) -> dict:
    last = datetime.fromisoformat(st["last_success_at"]) if st.get("last_success_at") else None
    err_at = datetime.fromisoformat(st["last_error_at"]) if st.get("last_error_at") else None
    return {**st, "last": localtime(last) if last else None,
            "error_at": localtime(err_at) if err_at else None,
            "megabytes": format_decimal((st.get("last_bytes") or 0) / 1e6, "#,##0.0"),
            "age_h": None if st["age_s"] is None else st["age_s"] // 3600}


@bp.get("/backups")
@roles_required("admin")
def backups_page():
    """The backup status and the button."""
    return render_template("backups.html", b=_view(ctl().backups.status()))


@bp.post("/backups")
@roles_required("admin")
def backups_now():
    """Write a backup now (the controller keeps running)."""
    again = repeat_submission()
    if again is not None:
        return again
    try:
        info = ctl().backups.run()
    except Exception as exc:  # shown to the admin, and kept in the status for the page
        release_submission()
        flash(_("The backup failed: %(reason)s", reason=str(exc)[:200]), "error")
        return render_template("backups.html", b=_view(ctl().backups.status())), 500
    flash(_("Backup written: %(name)s", name=info.path.name), "ok")
    return finish_submission(url_for("ui.backups_page"))
