"""Delivery logs: per-broadcast speaker × state matrix, the searchable log, and its CSV."""

from __future__ import annotations

from flask import Response, current_app, jsonify, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from controller.models import utcnow
from controller.services import delivery_log, registry
from controller.services.errors import NotFound
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import ALL, localtime, message, tz
from web.ui.names import ENGINES, PRIORITIES, STATES, _name

# The CSV a clerk opens in Excel: Vietnamese headers and values. `?format=machine` gives the
# stable English codes instead, for scripts (the JSON API has the same codes).
VI_HEADER = (_l("Broadcast no."), _l("Title"), _l("Priority level"), _l("Voice"),
             _l("Emergency without approval"), _l("Plays at"), _l("Hamlet"), _l("Speaker"),
             _l("State"), _l("State since"), _l("Reason"))


def _vi_cells(r: delivery_log.LogRow, _zone) -> tuple:
    when = "%d/%m/%Y %H:%M:%S"
    return (r.broadcast_id, r.title, _name(PRIORITIES, r.priority),
            _name(ENGINES, r.engine) if r.engine else "", _("Yes") if r.emergency_override else "",
            localtime(r.play_at, when), r.hamlet, r.speaker_id, _name(STATES, r.state),
            localtime(r.state_at, when), r.detail or "")


@bp.get("/broadcasts/<int:broadcast_id>")
@roles_required(*ALL)
def broadcast(broadcast_id: int):
    """Speakers × events with the time of each, and the last reason per speaker."""
    with ctl().db.session() as s:
        try:
            m = delivery_log.matrix(s, broadcast_id, current_user)
        except NotFound:
            return render_template("error.html", code=404, message=_("This page does not exist.")), 404
        return render_template("broadcast.html", m=m, b=m.broadcast, ended=delivery_log.all_ended(m))


@bp.get("/broadcasts/<int:broadcast_id>.json")
@roles_required(*ALL)
def broadcast_json(broadcast_id: int):
    """The delivery matrix for polling (static/broadcast.js); `ended` tells the page to stop."""
    with ctl().db.session() as s:
        try:
            m = delivery_log.matrix(s, broadcast_id, current_user)
        except NotFound:
            return jsonify(error="unknown_broadcast"), 404
        return jsonify(
            columns=[{"key": c, "name": _name(STATES, c)} for c in m.columns],
            rows=[{"speaker_id": d.speaker_id, "state": d.state, "state_name": _name(STATES, d.state),
                   "times": {c: localtime(at, "%H:%M:%S") for c, at in times.items()},
                   "reason": reason or ""} for d, times, reason in m.rows],
            ended=delivery_log.all_ended(m), at=localtime(utcnow(), "%H:%M:%S"))


def _filter_choices(s) -> dict:
    return {"hamlets": registry.list_hamlets(s, current_user),
            "speakers": registry.list_speakers(s, user=current_user),
            "states": delivery_log.STATES, "engines": ("gtts", "espeak", "piper", "upload")}


@bp.get("/log")
@roles_required(*ALL)
def log():
    """The delivery log with filters and pages."""
    f = delivery_log.parse_filter(request.args, current_user)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with ctl().db.session() as s:
        result = delivery_log.search(s, f, tz(), page,
                                     current_app.config.get("LOG_PER_PAGE", delivery_log.PER_PAGE))
        errors = {k: message(v) for k, v in f.errors.items()}
        args = {k: v for k, v in request.args.items() if k != "page"}
        return render_template("log.html", result=result, f=f, errors=errors, args=args,
                               **_filter_choices(s)), 400 if errors else 200


@bp.get("/log.csv")
@roles_required(*ALL)
def log_csv():
    """Every matching row as CSV (UTF-8 with BOM so Excel shows Vietnamese correctly)."""
    f = delivery_log.parse_filter(request.args, current_user)
    zone = tz()
    db = ctl().db

    machine = request.args.get("format") == "machine"
    header = delivery_log.CSV_HEADER if machine else tuple(str(h) for h in VI_HEADER)
    cells = delivery_log.machine_cells if machine else _vi_cells

    def generate():
        with db.session() as s:
            yield from (line.encode("utf-8") for line in
                        delivery_log.csv_text(delivery_log.iter_rows(s, f, zone), zone, header, cells))

    # stream_with_context: the Vietnamese cells need the request (locale, time zone)
    return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="nhat-ky-phat{}.csv"'.format(
                        "-machine" if machine else "")})
