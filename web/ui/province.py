"""Kết nối tỉnh (admins only): link state, last success, queue length, last error, queue alarm."""

from __future__ import annotations

from flask import render_template

from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import localtime


def _view(st: dict | None) -> dict | None:
    if st is None:
        return None
    age = st["oldest_age_s"]
    return {**st, "last_success": localtime(st["last_success_at"]) if st["last_success_at"] else None,
            "error_at": localtime(st["last_error_at"]) if st["last_error_at"] else None,
            "oldest": localtime(st["oldest_at"]) if st["oldest_at"] else None,
            "age_min": None if age is None else int(age // 60),
            "alarm_min": ctl().province.settings.alarm_after_s // 60}


@bp.get("/province")
@roles_required("admin")
def province_page():
    """The province link's status."""
    link = ctl().province
    return render_template("province.html", p=_view(link.status() if link else None))
