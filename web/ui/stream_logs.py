"""The relay and live log: each session on each speaker, with start, stop, airtime and gaps."""

from __future__ import annotations

from flask import render_template

from controller.services import stream_log
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import ALL, tz
from web.ui.reports import _dates


@bp.get("/log/streams")
@roles_required(*ALL)
def stream_log_page():
    """Sessions starting in a date range (default: this month so far)."""
    start, end, errors = _dates()
    with ctl().db.session() as s:
        rows = stream_log.rows(s, start, end, tz())
    return render_template("stream_log.html", rows=rows, date_from=start, date_to=end,
                           hamlets=stream_log.airtime_by_hamlet(rows), errors=errors), (
        400 if errors else 200)
