"""Recurrence rules and their occurrences as UTC instants.

Rules are written in the commune's local wall-clock time and expanded with zoneinfo, so a
06:00 broadcast stays at 06:00 local across daylight-saving changes. Two wall-clock cases
have no single answer and are decided here:

- a local time that does not exist (spring-forward gap, e.g. 02:30 in Berlin on the last
  Sunday of March) plays at the first valid instant after the gap (03:00 local);
- a local time that happens twice (fall-back, e.g. 02:30 on the last Sunday of October) plays
  once, at its first occurrence (fold=0, still summer time).

Monthly rules on a day a month lacks (31, or 29-30 in February) skip that month; an nth
weekday that a month lacks (a 5th Monday) skips it too. Cron expressions are evaluated on
local wall-clock time with the same two rules, so a cron time inside the gap plays once at
the end of the gap and the repeated hour in autumn is not played twice.

An "interval" rule (every N minutes from `at` until `until`, both local) steps in real
elapsed time, not wall-clock time: a warning repeated every 30 minutes stays 30 minutes
apart across a clock change.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
KINDS = ("once", "daily", "weekly", "monthly", "dates", "cron", "interval")
# Kinds whose occurrences are "this date, at each of `times`".
DATE_KINDS = ("daily", "weekly", "monthly", "dates")
# No real zone has a gap longer than this; used to pad windows for local/UTC conversions.
_PAD = timedelta(hours=3)


@dataclass(frozen=True)
class Recurrence:
    """When a schedule plays, in local wall-clock terms. Only the fields of its kind are used."""

    kind: str
    """One of KINDS."""
    start_date: date | None = None
    """First local date (inclusive); required for daily, weekly, monthly and cron."""
    end_date: date | None = None
    """Last local date (inclusive); None means open-ended."""
    times: tuple[time, ...] = ()
    """Local times of day, for daily, weekly, monthly and dates."""
    timezone: str = DEFAULT_TIMEZONE
    """IANA zone the rule is written in."""
    at: datetime | None = None
    """Naive local datetime, for once."""
    weekdays: frozenset[int] = field(default_factory=frozenset)
    """Weekdays for weekly, Monday = 0 … Sunday = 6."""
    month_day: int | None = None
    """Day of month 1-31 for monthly; months without that day are skipped."""
    nth_weekday: tuple[int, int] | None = None
    """(n, weekday) for monthly: n in 1..5 or -1 for the last; weekday Monday = 0."""
    dates: tuple[date, ...] = ()
    """Explicit local dates, for dates."""
    cron: str | None = None
    """Five-field cron expression (minute hour day month weekday), for cron."""
    every_minutes: int | None = None
    """For interval: minutes between plays, from `at`."""
    until: datetime | None = None
    """For interval: naive local datetime; plays stop before it (None: open-ended)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict for the controller's JSON column; omits fields left at their default."""
        out: dict[str, Any] = {"kind": self.kind, "timezone": self.timezone}
        if self.start_date:
            out["start_date"] = self.start_date.isoformat()
        if self.end_date:
            out["end_date"] = self.end_date.isoformat()
        if self.times:
            out["times"] = [format_hhmm(t) for t in self.times]
        if self.at:
            out["at"] = self.at.isoformat(timespec="minutes" if not self.at.second else "seconds")
        if self.weekdays:
            out["weekdays"] = sorted(self.weekdays)
        if self.month_day is not None:
            out["month_day"] = self.month_day
        if self.nth_weekday is not None:
            out["nth_weekday"] = list(self.nth_weekday)
        if self.dates:
            out["dates"] = [d.isoformat() for d in self.dates]
        if self.cron is not None:
            out["cron"] = self.cron
        if self.every_minutes is not None:
            out["every_minutes"] = self.every_minutes
        if self.until:
            out["until"] = self.until.isoformat(timespec="seconds")
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recurrence:
        """Inverse of to_dict; strict ISO formats (use forms.parse_recurrence for user input)."""
        def opt_date(key: str) -> date | None:
            return date.fromisoformat(data[key]) if data.get(key) else None

        nth = data.get("nth_weekday")
        return cls(
            kind=data["kind"],
            start_date=opt_date("start_date"),
            end_date=opt_date("end_date"),
            times=tuple(time.fromisoformat(t) for t in data.get("times", ())),
            timezone=data.get("timezone", DEFAULT_TIMEZONE),
            at=datetime.fromisoformat(data["at"]) if data.get("at") else None,
            weekdays=frozenset(int(w) for w in data.get("weekdays", ())),
            month_day=data.get("month_day"),
            nth_weekday=(int(nth[0]), int(nth[1])) if nth is not None else None,
            dates=tuple(date.fromisoformat(d) for d in data.get("dates", ())),
            cron=data.get("cron"),
            every_minutes=data.get("every_minutes"),
            until=datetime.fromisoformat(data["until"]) if data.get("until") else None,
        )


def format_hhmm(t: time) -> str:
    """'06:00', or '06:00:30' when the time has seconds."""
    return t.isoformat(timespec="seconds" if t.second else "minutes")


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Aware UTC instant for a naive local wall time: gap -> end of gap, repeated hour -> first."""
    first = local.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == local:
        return instant  # exists; fold=0 already picked the first of two in autumn
    # Nonexistent: the transition lies between the fold=1 reading (old offset, earlier UTC)
    # and the fold=0 reading (later UTC); bisect to the second for the first valid instant.
    lo = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = instant
    if lo > hi:
        lo, hi = hi, lo
    after = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def _nth_weekday_day(year: int, month: int, n: int, weekday: int) -> int | None:
    """Day of month of the nth (or last, n=-1) weekday, or None when the month has no such day."""
    weeks = calendar.Calendar().monthdayscalendar(year, month)
    days = [w[weekday] for w in weeks if w[weekday]]
    if n == -1:
        return days[-1]
    return days[n - 1] if 1 <= n <= len(days) else None


def matches_date(rec: Recurrence, day: date) -> bool:
    """Whether a date-based rule plays on this local date (ignores start/end bounds)."""
    if rec.kind == "daily":
        return True
    if rec.kind == "weekly":
        return day.weekday() in rec.weekdays
    if rec.kind == "monthly":
        if rec.month_day is not None:
            return day.day == rec.month_day
        if rec.nth_weekday is not None:
            n, weekday = rec.nth_weekday
            return day.weekday() == weekday and _nth_weekday_day(day.year, day.month, n, weekday) == day.day
        return False
    if rec.kind == "dates":
        return day in rec.dates
    raise ValueError(f"{rec.kind!r} is not a date-based kind")


def _candidate_dates(rec: Recurrence, first: date, last: date) -> list[date]:
    """Local dates in [first, last] within the rule's bounds on which it plays."""
    if rec.start_date and rec.start_date > first:
        first = rec.start_date
    if rec.end_date and rec.end_date < last:
        last = rec.end_date
    if first > last:
        return []
    if rec.kind == "dates":  # iterate the list, not the calendar
        return sorted(d for d in set(rec.dates) if first <= d <= last)
    out = []
    day = first
    while day <= last:
        if matches_date(rec, day):
            out.append(day)
        day += timedelta(days=1)
    return out


def _cron_local_times(rec: Recurrence, begin: datetime, stop: datetime) -> list[datetime]:
    """Naive local cron fire times in [begin, stop), walking wall-clock time."""
    if rec.start_date:
        begin = max(begin, datetime.combine(rec.start_date, time()))
    if rec.end_date:
        stop = min(stop, datetime.combine(rec.end_date + timedelta(days=1), time()))
    if begin >= stop:
        return []
    # croniter's own tz handling has had DST bugs; naive wall time plus local_to_utc is exact.
    it = croniter(rec.cron, begin - timedelta(seconds=1))
    out = []
    while True:
        try:
            nxt = it.get_next(datetime)
        except (StopIteration, ValueError):  # CroniterBadDateError subclasses ValueError
            break
        if nxt >= stop:
            break
        out.append(nxt)
    return out


def _check_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None:
            raise ValueError("occurrence windows must be aware datetimes (use UTC)")


def occurrences(rec: Recurrence, start_utc: datetime, end_utc: datetime) -> list[datetime]:
    """Aware UTC instants in [start_utc, end_utc) at which the rule plays, ascending, no duplicates."""
    _check_aware(start_utc, end_utc)
    if end_utc <= start_utc:
        return []
    tz = ZoneInfo(rec.timezone)
    if rec.kind == "once":
        instants = [local_to_utc(rec.at, tz)] if rec.at else []
    elif rec.kind == "interval":
        instants = _interval_instants(rec, tz, start_utc, end_utc)
    elif rec.kind == "cron":
        begin = (start_utc - _PAD).astimezone(tz).replace(tzinfo=None)
        stop = (end_utc + _PAD).astimezone(tz).replace(tzinfo=None)
        instants = [local_to_utc(t, tz) for t in _cron_local_times(rec, begin, stop)]
    elif rec.kind in DATE_KINDS:
        first = (start_utc - _PAD).astimezone(tz).date()
        last = (end_utc + _PAD).astimezone(tz).date()
        instants = [
            local_to_utc(datetime.combine(day, t), tz)
            for day in _candidate_dates(rec, first, last)
            for t in rec.times
        ]
    else:
        raise ValueError(f"unknown recurrence kind {rec.kind!r}")
    start_utc, end_utc = start_utc.astimezone(UTC), end_utc.astimezone(UTC)
    # A set: two local times inside one DST gap both map to its end and must play once.
    return sorted({i for i in instants if start_utc <= i < end_utc})


def _interval_instants(rec: Recurrence, tz: ZoneInfo, start_utc: datetime, end_utc: datetime
                       ) -> list[datetime]:
    """Instants of an interval rule inside [start_utc, end_utc)."""
    if rec.at is None or not rec.every_minutes or rec.every_minutes <= 0:
        return []
    first = local_to_utc(rec.at, tz)
    stop = local_to_utc(rec.until, tz) if rec.until else None
    step = timedelta(minutes=rec.every_minutes)
    k = max(0, math.ceil((start_utc - first) / step))
    out = []
    while True:
        instant = first + k * step
        if instant >= end_utc or (stop is not None and instant >= stop):
            return out
        out.append(instant)
        k += 1


def next_occurrence(rec: Recurrence, after_utc: datetime, horizon_days: int = 400) -> datetime | None:
    """First occurrence at or after after_utc, or None if there is none (cron: searched to its end)."""
    _check_aware(after_utc)
    if rec.kind == "cron":
        tz = ZoneInfo(rec.timezone)
        local = (after_utc - _PAD).astimezone(tz).replace(tzinfo=None)
        if rec.start_date:
            local = max(local, datetime.combine(rec.start_date, time()))
        it = croniter(rec.cron, local - timedelta(seconds=1))
        stop = datetime.combine(rec.end_date + timedelta(days=1), time()) if rec.end_date else None
        # Bounded: a valid expression fires within a few years or croniter raises.
        for _ in range(100_000):
            try:
                nxt = it.get_next(datetime)
            except (StopIteration, ValueError):
                return None
            if stop is not None and nxt >= stop:
                return None
            instant = local_to_utc(nxt, tz)
            if instant >= after_utc:
                return instant
        return None
    if rec.kind == "once":
        found = occurrences(rec, after_utc, datetime.max.replace(tzinfo=UTC))
        return found[0] if found else None
    if rec.kind == "interval":
        step = timedelta(minutes=rec.every_minutes or 1)
        found = occurrences(rec, after_utc, after_utc + step + timedelta(seconds=1))
        return found[0] if found else None
    if rec.kind == "dates":
        last = max(rec.dates, default=None)
        if last is None:
            return None
        horizon_days = max(0, (last - after_utc.date()).days + 2)
    # Calendar rules fire within a year if they fire at all; search in monthly windows.
    window = timedelta(days=31)
    begin = after_utc
    end = after_utc + timedelta(days=horizon_days)
    while begin < end:
        found = occurrences(rec, begin, min(begin + window, end))
        if found:
            return found[0]
        begin += window
    return None
