"""The period report (broadcasts, airtime, success per hamlet, problems), printable to PDF."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import render_template, request
from flask_babel import format_decimal
from flask_login import current_user

from controller.services import delivery_log, reports
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import ALL, message, tz


def _dates() -> tuple[date, date, dict[str, str]]:
    today = datetime.now(tz()).date()
    errors: dict[str, str] = {}
    out = []
    for key, default in (("date_from", today.replace(day=1)), ("date_to", today)):
        raw = (request.args.get(key) or "").strip()
        try:
            out.append(delivery_log.parse_day(raw) if raw else default)
        except ValueError:
            errors[key] = message("bad_date")
            out.append(default)
    start, end = out
    if end < start:
        errors["date_to"] = message("end_before_start")
        end = start
    if (end - start) > timedelta(days=366):
        start = end - timedelta(days=366)
    return start, end, errors


@bp.get("/report")
@roles_required(*ALL)
def report():
    """The report for a date range (default: this month so far)."""
    start, end, errors = _dates()
    with ctl().db.session() as s:
        rep = reports.period(s, start, end, tz(), current_user)
    return render_template("report.html", rep=rep, errors=errors,
                           commune=ctl().settings.extra.get("commune_name", "")), 400 if errors else 200


@bp.app_template_filter("decimal1")
def _decimal1(value: float) -> str:
    """One decimal in the page's locale (Vietnamese: 37,5; 1.234,5)."""
    return format_decimal(value, format="#,##0.0")


@bp.app_template_filter("percent1")
def _percent1(value: float) -> str:
    """A percentage with one decimal, as the report prints it ("37,5 %")."""
    return f"{_decimal1(value)} %"
