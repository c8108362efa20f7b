"""Checks on a Recurrence or SchedulePlan, returning every problem at once as FieldErrors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from schedules.errors import FieldError, field_error
from schedules.plan import (
    PRIORITIES,
    REPEAT_COUNT_LIMITS,
    REPEAT_GAP_LIMITS,
    VALIDITY_LIMITS,
    SchedulePlan,
)
from schedules.recurrence import KINDS, Recurrence, local_to_utc, next_occurrence

MIN_CRON_INTERVAL = timedelta(seconds=60)
# How many successive fires are checked for the once-a-minute rule.
_CRON_PROBE = 5


def _vi_date(d: object) -> str:
    return d.strftime("%d/%m/%Y") if hasattr(d, "strftime") else str(d)


def timezone_ok(name: str) -> bool:
    """Whether name is a known IANA zone (a path-like or empty name is refused, not looked up)."""
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _kind_errors(rec: Recurrence) -> list[FieldError]:
    """Errors in the fields the kind needs."""
    errors: list[FieldError] = []
    if rec.kind in ("daily", "weekly", "monthly", "dates") and not rec.times:
        errors.append(field_error("times", "times_missing"))
    if rec.kind in ("daily", "weekly", "monthly", "cron") and rec.start_date is None:
        errors.append(field_error("start_date", "required"))
    if rec.kind in ("once", "interval") and rec.at is None:
        errors.append(field_error("at", "required"))
    if rec.kind == "interval":
        if not isinstance(rec.every_minutes, int) or not 1 <= rec.every_minutes <= 1440:
            errors.append(field_error("every_minutes", "out_of_range", value=rec.every_minutes,
                                      low=1, high=1440))
        if rec.until is not None and rec.at is not None and rec.until <= rec.at:
            errors.append(field_error("until", "no_occurrence"))
    if rec.kind == "weekly":
        if not rec.weekdays:
            errors.append(field_error("weekdays", "weekdays_empty"))
        errors += [field_error("weekdays", "weekday_range", value=w) for w in sorted(rec.weekdays)
                   if not 0 <= w <= 6]
    if rec.kind == "monthly":
        errors += _monthly_errors(rec)
    if rec.kind == "dates" and not rec.dates:
        errors.append(field_error("dates", "dates_empty"))
    if rec.kind == "cron":
        errors += cron_errors(rec.cron or "")
    return errors


def _monthly_errors(rec: Recurrence) -> list[FieldError]:
    if rec.month_day is None and rec.nth_weekday is None:
        return [field_error("month_day", "monthly_rule_missing")]
    if rec.month_day is not None and rec.nth_weekday is not None:
        return [field_error("month_day", "monthly_rule_both")]
    if rec.month_day is not None and not 1 <= rec.month_day <= 31:
        return [field_error("month_day", "month_day_range", value=rec.month_day)]
    if rec.nth_weekday is not None:
        n, weekday = rec.nth_weekday
        if n not in (1, 2, 3, 4, 5, -1):
            return [field_error("nth_weekday", "nth_range", value=n)]
        if not 0 <= weekday <= 6:
            return [field_error("nth_weekday", "weekday_range", value=weekday)]
    return []


def cron_errors(expr: str) -> list[FieldError]:
    """Syntax and frequency errors for a cron expression (5 fields, at most once a minute)."""
    fields = expr.split()
    if len(fields) != 5:
        # croniter would read a 6th field as seconds (or a year); the rule is whole minutes.
        return [field_error("cron", "cron_fields", value=len(fields))]
    if not croniter.is_valid(expr):
        return [field_error("cron", "cron_invalid", value=expr)]
    it = croniter(expr, datetime(2000, 1, 1))
    try:
        fires = [it.get_next(datetime) for _ in range(_CRON_PROBE)]
    except ValueError:  # CroniterBadDateError: no fire found within croniter's search limit
        return [field_error("cron", "cron_never_fires", value=expr)]
    # Five fields cannot go below a minute today, but the rule is checked rather than assumed.
    if any(b - a < MIN_CRON_INTERVAL for a, b in zip(fires, fires[1:], strict=False)):
        return [field_error("cron", "cron_too_frequent", value=expr)]
    return []


def validate(rec: Recurrence, *, now_utc: datetime | None = None) -> list[FieldError]:
    """Every problem with rec; empty when it is a usable schedule that plays again after now_utc."""
    if rec.kind not in KINDS:
        return [field_error("kind", "unknown_kind", value=rec.kind)]
    errors: list[FieldError] = []
    if not timezone_ok(rec.timezone):
        errors.append(field_error("timezone", "unknown_timezone", value=rec.timezone))
    if rec.start_date and rec.end_date and rec.end_date < rec.start_date:
        errors.append(field_error(
            "end_date", "end_before_start",
            start=rec.start_date.isoformat(), end=rec.end_date.isoformat(),
            start_vi=_vi_date(rec.start_date), end_vi=_vi_date(rec.end_date),
        ))
    errors += _kind_errors(rec)
    if errors:
        return errors
    return _future_errors(rec, now_utc or datetime.now(UTC))


def _future_errors(rec: Recurrence, now_utc: datetime) -> list[FieldError]:
    """A well-formed rule that will never play again is an error the user must see now."""
    if rec.kind == "once":
        instant = local_to_utc(rec.at, ZoneInfo(rec.timezone))
        if instant < now_utc:
            return [field_error("at", "in_past", value=rec.at.isoformat(sep=" ", timespec="minutes"),
                                value_vi=rec.at.strftime("%H:%M %d/%m/%Y"))]
        return []
    if rec.kind == "dates" and all(d < now_utc.astimezone(ZoneInfo(rec.timezone)).date() for d in rec.dates):
        return [field_error("dates", "in_past", value=", ".join(d.isoformat() for d in rec.dates),
                            value_vi=", ".join(_vi_date(d) for d in rec.dates))]
    if next_occurrence(rec, now_utc) is not None:
        return []
    if rec.kind == "cron":
        return [field_error("cron", "cron_never_fires", value=rec.cron)]
    if rec.kind == "interval":
        return [field_error("until", "no_occurrence")]
    return [field_error("end_date" if rec.end_date else "start_date", "no_occurrence")]


def _range_error(name: str, value: float, limits: tuple[int, int]) -> list[FieldError]:
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        return [field_error(name, "out_of_range", value=value, low=low, high=high)]
    return []


def validate_plan(plan: SchedulePlan, *, now_utc: datetime | None = None) -> list[FieldError]:
    """Every problem with the plan: its recurrence plus repeat, gap, validity and priority limits."""
    errors = validate(plan.recurrence, now_utc=now_utc)
    if not isinstance(plan.repeat_count, int):
        errors.append(field_error("repeat_count", "bad_number", value=plan.repeat_count))
    else:
        errors += _range_error("repeat_count", plan.repeat_count, REPEAT_COUNT_LIMITS)
    errors += _range_error("repeat_gap_s", plan.repeat_gap_s, REPEAT_GAP_LIMITS)
    errors += _range_error("validity_s", plan.validity_s, VALIDITY_LIMITS)
    if plan.priority not in PRIORITIES:
        errors.append(field_error("priority", "unknown_priority", value=plan.priority))
    return errors
