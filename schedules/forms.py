"""Loose form or JSON input -> Recurrence / SchedulePlan, with a FieldError per bad field.

Accepts what people type: "2026-12-01" or "01/12/2026", "06:00", "6:00" or "6h30", weekday
numbers (Monday = 0) or names ("mon", "Thứ Hai", "T2", "CN"), lists or comma-separated strings.
Only the fields the chosen kind uses are read, so leftovers from another form tab do no harm.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from schedules.errors import FieldError, ScheduleInputError, field_error
from schedules.plan import DEFAULT_VALIDITY_S, SchedulePlan
from schedules.recurrence import DEFAULT_TIMEZONE, KINDS, Recurrence
from schedules.validation import validate_plan

_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2})(?::(\d{2}))?|h(\d{2})?)$", re.IGNORECASE)
_VN_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_WEEKDAY_NAMES = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    **{f"t{i + 2}": i for i in range(6)},
    **{name: i for i, name in enumerate(
        ("thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "chủ nhật"))},
    "cn": 6,
}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _items(value: Any) -> list[Any]:
    """A list from a list/tuple/set or a comma/semicolon-separated string."""
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if not _is_blank(v)]
    return [part.strip() for part in re.split(r"[,;]", str(value)) if part.strip()]


def parse_date(value: Any) -> date:
    """A real date from ISO 'YYYY-MM-DD' or Vietnamese 'DD/MM/YYYY'; ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _VN_DATE_RE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)  # raises on 31/02
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return date.fromisoformat(text)


def parse_time_of_day(value: Any) -> time:
    """A time from 'HH:MM', 'H:MM', 'HH:MM:SS', '6h' or '6h30'; ValueError otherwise."""
    if isinstance(value, time):
        return value
    match = _TIME_RE.match(str(value).strip())
    if not match:
        raise ValueError(value)
    hour, minute, second, h_minute = match.groups()
    return time(int(hour), int(minute or h_minute or 0), int(second or 0))


def parse_local_datetime(value: Any) -> datetime:
    """A naive local datetime from 'YYYY-MM-DD HH:MM', the same with T, or 'DD/MM/YYYY HH:MM'."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("give a local wall time, not an aware datetime")
        return value
    text = str(value).strip().replace("T", " ")
    day_part, _, time_part = text.partition(" ")
    return datetime.combine(parse_date(day_part), parse_time_of_day(time_part.strip()))


def _weekday(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return _WEEKDAY_NAMES[text]


class _Reader:
    """Collects one FieldError per bad field while reading a form."""

    def __init__(self, form: dict[str, Any]):
        self.form = form
        self.errors: list[FieldError] = []

    def one(self, key: str, parse: Callable[[Any], Any], code: str, required: bool = False) -> Any:
        value = self.form.get(key)
        if _is_blank(value):
            if required:
                self.errors.append(field_error(key, "required"))
            return None
        try:
            return parse(value)
        except (ValueError, TypeError, KeyError):
            self.errors.append(field_error(key, code, value=str(value)[:60]))
            return None

    def many(self, key: str, parse: Callable[[Any], Any], code: str) -> list[Any]:
        out = []
        for item in _items(self.form.get(key) or []):
            try:
                out.append(parse(item))
            except (ValueError, TypeError, KeyError):
                self.errors.append(field_error(key, code, value=str(item)[:60]))
        return out


def _nth(value: Any) -> tuple[int, int]:
    parts = _items(value)
    if len(parts) != 2:
        raise ValueError(value)
    return int(parts[0]), _weekday(parts[1])


def parse_recurrence(form: dict[str, Any]) -> Recurrence:
    """Build a Recurrence from loose input; raises ScheduleInputError listing every unreadable field."""
    read = _Reader(form)
    kind = str(form.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise ScheduleInputError([field_error("kind", "unknown_kind", value=kind)])
    tz = str(form.get("timezone") or "").strip() or DEFAULT_TIMEZONE
    values: dict[str, Any] = {"kind": kind, "timezone": tz}
    if kind not in ("once", "interval"):
        values["start_date"] = read.one("start_date", parse_date, "bad_date")
        values["end_date"] = read.one("end_date", parse_date, "bad_date")
    if kind in ("daily", "weekly", "monthly", "dates"):
        values["times"] = tuple(sorted(set(read.many("times", parse_time_of_day, "bad_time"))))
    if kind in ("once", "interval"):
        values["at"] = read.one("at", parse_local_datetime, "bad_datetime", required=True)
    if kind == "interval":
        values["every_minutes"] = read.one("every_minutes", int, "bad_number", required=True)
        values["until"] = read.one("until", parse_local_datetime, "bad_datetime")
    elif kind == "weekly":
        values["weekdays"] = frozenset(read.many("weekdays", _weekday, "weekday_range"))
    elif kind == "monthly":
        values["month_day"] = read.one("month_day", int, "bad_number")
        values["nth_weekday"] = read.one("nth_weekday", _nth, "nth_range")
    elif kind == "dates":
        values["dates"] = tuple(sorted(set(read.many("dates", parse_date, "bad_date"))))
    elif kind == "cron":
        values["cron"] = " ".join(str(form.get("cron") or "").split())
    if read.errors:
        raise ScheduleInputError(read.errors)
    return Recurrence(**values)


def parse_plan(form: dict[str, Any]) -> SchedulePlan:
    """Build a SchedulePlan; the recurrence fields sit at top level or under 'recurrence'."""
    errors: list[FieldError] = []
    try:
        rec = parse_recurrence(form.get("recurrence") or form)
    except ScheduleInputError as exc:
        errors += exc.errors
        rec = None
    read = _Reader(form)
    numbers = {}
    for key, default in (("repeat_count", 1), ("repeat_gap_s", 0), ("validity_s", DEFAULT_VALIDITY_S)):
        value = read.one(key, lambda v: int(str(v).strip()), "bad_number")
        numbers[key] = default if _is_blank(form.get(key)) else value
    errors += read.errors
    if errors:
        raise ScheduleInputError(errors)
    priority = str(form.get("priority") or "normal").strip().lower()
    return SchedulePlan(recurrence=rec, priority=priority, **numbers)


def check_plan(form: dict[str, Any], *, now_utc: datetime | None = None
               ) -> tuple[SchedulePlan | None, list[FieldError]]:
    """Parse and validate in one step: (plan, []) when usable, else (None, every error)."""
    try:
        plan = parse_plan(form)
    except ScheduleInputError as exc:
        return None, exc.errors
    errors = validate_plan(plan, now_utc=now_utc or datetime.now(UTC))
    return (None, errors) if errors else (plan, [])
