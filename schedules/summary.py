"""Plain-language summaries of a Recurrence, in Vietnamese for the UI and in English for logs/API.

Vietnamese dates are DD/MM (year dropped when the start and end share it), English dates are
ISO (YYYY-MM-DD) so nobody has to guess between day/month orders.
"""

from __future__ import annotations

from datetime import date

from schedules.recurrence import DEFAULT_TIMEZONE, Recurrence, format_hhmm

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ORDINALS_EN = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
# Beyond this many explicit dates, the summary gives the count and the range instead.
_MAX_LISTED_DATES = 6


def _join(items: list[str], last_word: str) -> str:
    """'a', 'a và b', 'a, b và c' (or 'and')."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last_word} {items[-1]}"


def _times(rec: Recurrence, word: str) -> str:
    return _join([format_hhmm(t) for t in rec.times], word)


def _vi_dates(days: list[date]) -> list[str]:
    """DD/MM for each, with the year on the last only when all share one year."""
    if not days:
        return []
    if len({d.year for d in days}) == 1:
        return [d.strftime("%d/%m") for d in days[:-1]] + [days[-1].strftime("%d/%m/%Y")]
    return [d.strftime("%d/%m/%Y") for d in days]


def _range_vi(rec: Recurrence) -> str:
    start, end = rec.start_date, rec.end_date
    if start and end:
        if start.year == end.year:
            return f", từ {start:%d/%m} đến {end:%d/%m}"
        return f", từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}"
    if start:
        return f", từ {start:%d/%m/%Y}"
    if end:
        return f", đến {end:%d/%m/%Y}"
    return ""


def _range_en(rec: Recurrence) -> str:
    start, end = rec.start_date, rec.end_date
    if start and end:
        return f", from {start.isoformat()} to {end.isoformat()}"
    if start:
        return f", from {start.isoformat()}"
    if end:
        return f", until {end.isoformat()}"
    return ""


def _nth_vi(n: int) -> str:
    return {1: "đầu tiên", -1: "cuối cùng"}.get(n, f"thứ {n}")


def _body_vi(rec: Recurrence) -> str:
    at = f"lúc {_times(rec, 'và')}"
    if rec.kind == "once":
        return f"Một lần lúc {rec.at:%H:%M} ngày {rec.at:%d/%m/%Y}"
    if rec.kind == "daily":
        return f"Hằng ngày {at}{_range_vi(rec)}"
    if rec.kind == "weekly":
        if set(rec.weekdays) == set(range(7)):
            return f"Tất cả các ngày trong tuần {at}{_range_vi(rec)}"
        days = _join([WEEKDAYS_VI[w] for w in sorted(rec.weekdays)], "và")
        return f"{days} hằng tuần {at}{_range_vi(rec)}"
    if rec.kind == "monthly":
        if rec.month_day is not None:
            return f"Ngày {rec.month_day} hằng tháng {at}{_range_vi(rec)}"
        n, weekday = rec.nth_weekday
        return f"{WEEKDAYS_VI[weekday]} {_nth_vi(n)} của tháng {at}{_range_vi(rec)}"
    if rec.kind == "dates":
        days = sorted(rec.dates)
        if len(days) > _MAX_LISTED_DATES:
            first, last = _vi_dates([days[0], days[-1]])
            return f"{len(days)} ngày đã chọn từ {first} đến {last} {at}"
        return f"Ngày {_join(_vi_dates(days), 'và')} {at}"
    if rec.kind == "cron":
        return f"Theo biểu thức cron “{rec.cron}”{_range_vi(rec)}"
    if rec.kind == "interval":
        end = f" đến {rec.until:%H:%M} ngày {rec.until:%d/%m/%Y}" if rec.until else ""
        return f"Cứ {rec.every_minutes} phút một lần từ {rec.at:%H:%M} ngày {rec.at:%d/%m/%Y}{end}"
    return f"Kiểu lịch không rõ: {rec.kind}"


def _body_en(rec: Recurrence) -> str:
    at = f"at {_times(rec, 'and')}"
    if rec.kind == "once":
        return f"Once at {rec.at:%H:%M} on {rec.at.date().isoformat()}"
    if rec.kind == "daily":
        return f"Every day {at}{_range_en(rec)}"
    if rec.kind == "weekly":
        days = _join([WEEKDAYS_EN[w] for w in sorted(rec.weekdays)], "and")
        return f"Every {days} {at}{_range_en(rec)}"
    if rec.kind == "monthly":
        if rec.month_day is not None:
            return f"On day {rec.month_day} of every month {at}{_range_en(rec)}"
        n, weekday = rec.nth_weekday
        nth = _ORDINALS_EN.get(n, str(n))
        return f"On the {nth} {WEEKDAYS_EN[weekday]} of every month {at}{_range_en(rec)}"
    if rec.kind == "dates":
        days = sorted(rec.dates)
        if len(days) > _MAX_LISTED_DATES:
            return f"On {len(days)} chosen dates from {days[0].isoformat()} to {days[-1].isoformat()} {at}"
        return f"On {_join([d.isoformat() for d in days], 'and')} {at}"
    if rec.kind == "cron":
        return f"By the cron expression '{rec.cron}'{_range_en(rec)}"
    if rec.kind == "interval":
        end = f" until {rec.until:%H:%M} on {rec.until.date().isoformat()}" if rec.until else ""
        return f"Every {rec.every_minutes} minutes from {rec.at:%H:%M} on {rec.at.date().isoformat()}{end}"
    return f"Unknown schedule kind: {rec.kind}"


def summarize_vi(rec: Recurrence) -> str:
    """Vietnamese one-line summary, e.g. 'Thứ Hai hằng tuần lúc 06:00, từ 01/12 đến 31/12'."""
    text = _body_vi(rec)
    if rec.timezone != DEFAULT_TIMEZONE:
        text += f" (giờ {rec.timezone})"
    return text


def summarize_en(rec: Recurrence) -> str:
    """English one-line summary, e.g. 'Every Monday at 06:00, from 2026-12-01 to 2026-12-31'."""
    text = _body_en(rec)
    if rec.timezone != DEFAULT_TIMEZONE:
        text += f" ({rec.timezone} time)"
    return text
