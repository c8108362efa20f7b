"""Calendar: the agenda of a week of occurrences, with conflicts and missed ones highlighted."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import render_template, request
from flask_babel import get_locale
from flask_login import current_user

from controller.services import access, registry
from controller.services.errors import ServiceError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import ALL, tz
from web.ui.targets import targets_text

DAYS = 7


def _start() -> date:
    raw = (request.args.get("start") or "").strip()
    try:
        start = date.fromisoformat(raw)
        if 1970 <= start.year <= 9000:  # 9999-12-31 + 7 days overflowed: a 500
            return start
    except ValueError:
        pass
    today = datetime.now(tz()).date()
    return today - timedelta(days=today.weekday())


def _overlapping(items: list[dict], targets: dict[int, frozenset[str]],
                 durations: dict[int, float]) -> set[str]:
    """Keys of items that overlap another on a shared speaker (pairwise; a week is small)."""
    spans = []
    for it in items:
        if it["state"] in ("cancelled", "missed"):
            continue
        start = datetime.fromisoformat(it["due_at"].replace("Z", "+00:00"))
        end = start + timedelta(seconds=durations.get(it["schedule_id"], 0))
        spans.append((start, end, targets.get(it["schedule_id"], frozenset()), it["key"]))
    spans.sort(key=lambda x: x[0])
    hit: set[str] = set()
    for i, (_s1, e1, sp1, k1) in enumerate(spans):
        for s2, _e2, sp2, k2 in spans[i + 1:]:
            if s2 >= e1:
                break
            if sp1 & sp2:
                hit.update((k1, k2))
    return hit


@bp.get("/calendar")
@roles_required(*ALL)
def calendar():
    """Seven days from `start` (default: this Monday), grouped by day."""
    from schedules import agenda, manage
    from schedules.plan import SchedulePlan
    from schedules.summary import summarize_en, summarize_vi

    zone = tz()
    start = _start()
    begin = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(start + timedelta(days=DAYS), time(0), tzinfo=zone).astimezone(UTC)
    with ctl().db.session() as s:
        items = agenda.agenda(s, begin, end, datetime.now(UTC), ctl().settings.timezone,
                              user=current_user)
        targets, durations, summaries, titles, hamlets = {}, {}, {}, {}, {}
        scope = access.scope_of(current_user)
        for sch in manage.list_visible(s, None, current_user):
            plan = SchedulePlan.from_dict(sch.plan)
            try:
                targets[sch.id] = frozenset(x.id for x in registry.resolve_targets(s, sch.targets)
                                            if scope.allows(x.hamlet_id))
            except ServiceError:
                targets[sch.id] = frozenset()
            hamlets[sch.id] = targets_text(s, sch.targets)
            durations[sch.id] = plan.airtime_s(sch.airtime_s)
            if sch.status == "active":
                english = str(get_locale()) == "en"
                summaries[sch.id] = (summarize_en if english else summarize_vi)(plan.recurrence)
                titles[sch.id] = sch.title
    clash = _overlapping(items, targets, durations)
    days = {start + timedelta(days=i): [] for i in range(DAYS)}
    for it in items:
        day = date.fromisoformat(it["due_local"][:10])
        it["conflict"] = it["key"] in clash
        days.setdefault(day, []).append(it)
    return render_template("calendar.html", days=days, start=start, summaries=summaries, titles=titles,
                           hamlets=hamlets,
                           prev=start - timedelta(days=DAYS), next=start + timedelta(days=DAYS),
                           today=datetime.now(zone).date())
