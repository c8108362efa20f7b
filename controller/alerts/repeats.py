"""An aired alert repeats every N minutes until it expires, as ONE schedule (kind 'interval').

Being a schedule, the repeats show on the calendar and in the log like any other, are fired
by the same runner (schedules/firing.py) and survive a restart; a Cancel cancels the schedule.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from controller.alerts.cap import Alert, Info
from controller.alerts.settings import AlertSettings
from controller.services import audit
from schedules import store
from schedules.plan import SchedulePlan
from schedules.recurrence import Recurrence
from schedules.validation import validate_plan

log = logging.getLogger(__name__)
PARAMETER_NAMES = ("repeat_minutes", "repeatminutes", "repeat")
"""CAP <parameter> valueNames (any case) an authority may use to set the repeat interval."""


def minutes_for(conf: AlertSettings, info: Info) -> int:
    """The repeat interval: a CAP parameter if present and sane, else the commune's setting."""
    for name, value in info.parameters.items():
        if name.strip().lower() in PARAMETER_NAMES:
            try:
                minutes = int(str(value).strip())
            except ValueError:
                continue
            if 5 <= minutes <= 1440:
                return minutes
    return conf.repeat_minutes


def plan_for(conf: AlertSettings, alert: Alert, info: Info, priority: str, now: datetime,
             timezone: str) -> SchedulePlan | None:
    """The repeat plan from the first repeat to expiry, or None (no expiry, no repeats, too short)."""
    minutes = minutes_for(conf, info)
    expires = info.expires or alert.expires
    first = now + timedelta(minutes=minutes)
    if not minutes or expires is None or first >= expires:
        return None
    tz = ZoneInfo(timezone)
    rec = Recurrence(kind="interval", timezone=timezone, every_minutes=minutes,
                     at=first.astimezone(tz).replace(tzinfo=None, microsecond=0),
                     until=expires.astimezone(tz).replace(tzinfo=None, microsecond=0))
    # A repeat may start late by at most half its interval, so two never pile up.
    plan = SchedulePlan(recurrence=rec, priority=priority,
                        validity_s=max(60, min(900, minutes * 30)))
    errors = validate_plan(plan, now_utc=now)
    if errors:
        log.warning("alert %s: no repeats (%s)", alert.identifier, errors[0].message)
        return None
    return plan


def add(s, ctx, conf: AlertSettings, alert: Alert, info: Info, announcement_id: int, targets: dict,
        priority: str, now: datetime) -> int | None:
    """Write the repeat schedule in the caller's transaction; returns its id or None."""
    plan = plan_for(conf, alert, info, priority, now, ctx.settings.timezone)
    if plan is None:
        return None
    sch = store.add_schedule(s, announcement_id=announcement_id, plan=plan.to_dict(), targets=targets,
                             user_id=None, now=now)
    audit.record(s, "schedule_created", actor="alert", target=f"schedule:{sch.id}",
                 detail=f"announcement={announcement_id} kind=interval every="
                        f"{plan.recurrence.every_minutes}min until={plan.recurrence.until}")
    return sch.id


def refresh(ctx) -> None:
    """Let this process's schedule runner (if any) see new or cancelled repeats."""
    runner = getattr(ctx, "scheduler", None)
    if runner is not None:
        runner.refresh()
