"""Field errors for schedule input, each with a stable code and an English and Vietnamese message.

The web layer maps `field` to the form input and shows `message_vi`; the API returns all of it.
Messages live in one catalogue so the two languages never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

# code -> (English template, Vietnamese template); templates use str.format fields.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("{label} is required.", "Vui lòng nhập {label_vi}."),
    "unknown_kind": (
        "Unknown schedule kind '{value}'; use once, daily, weekly, monthly, dates, cron or interval.",
        "Kiểu lịch '{value}' không hợp lệ; chọn một lần, hằng ngày, hằng tuần, hằng tháng, "
        "các ngày cụ thể, cron hoặc lặp theo phút.",
    ),
    "unknown_timezone": ("Unknown timezone '{value}'.", "Múi giờ '{value}' không tồn tại."),
    "bad_date": (
        "'{value}' is not a real date (expected YYYY-MM-DD or DD/MM/YYYY).",
        "'{value}' không phải là ngày có thật (nhập dạng DD/MM/YYYY).",
    ),
    "bad_time": (
        "'{value}' is not a valid time of day (expected HH:MM).",
        "'{value}' không phải là giờ hợp lệ (nhập dạng HH:MM).",
    ),
    "bad_datetime": (
        "'{value}' is not a real date and time (expected YYYY-MM-DD HH:MM).",
        "'{value}' không phải là ngày giờ có thật (nhập dạng DD/MM/YYYY HH:MM).",
    ),
    "bad_number": ("'{value}' is not a whole number.", "'{value}' không phải là số nguyên."),
    "end_before_start": (
        "The end date {end} is before the start date {start}.",
        "Ngày kết thúc {end_vi} trước ngày bắt đầu {start_vi}.",
    ),
    "times_missing": (
        "Give at least one time of day.",
        "Vui lòng chọn ít nhất một giờ phát trong ngày.",
    ),
    "weekdays_empty": (
        "Choose at least one day of the week.",
        "Vui lòng chọn ít nhất một ngày trong tuần.",
    ),
    "weekday_range": (
        "Weekday {value} is out of range (0 = Monday … 6 = Sunday).",
        "Thứ {value} không hợp lệ (0 = Thứ Hai … 6 = Chủ nhật).",
    ),
    "month_day_range": (
        "Day of the month must be between 1 and 31, not {value}.",
        "Ngày trong tháng phải từ 1 đến 31, không phải {value}.",
    ),
    "monthly_rule_missing": (
        "A monthly schedule needs a day of the month or an nth weekday.",
        "Lịch hằng tháng cần chọn một ngày trong tháng hoặc một thứ trong tuần thứ mấy của tháng.",
    ),
    "monthly_rule_both": (
        "Choose either a day of the month or an nth weekday, not both.",
        "Chỉ chọn ngày trong tháng hoặc thứ trong tuần thứ mấy, không chọn cả hai.",
    ),
    "nth_range": (
        "The week number must be 1 to 5 or -1 (last), not {value}.",
        "Tuần thứ mấy phải từ 1 đến 5 hoặc -1 (cuối cùng), không phải {value}.",
    ),
    "dates_empty": ("Give at least one date.", "Vui lòng chọn ít nhất một ngày."),
    "in_past": (
        "The time {value} has already passed.",
        "Thời điểm {value_vi} đã qua.",
    ),
    "no_occurrence": (
        "This schedule never plays between its start and end dates.",
        "Lịch này không có lần phát nào trong khoảng ngày bắt đầu và kết thúc.",
    ),
    "cron_fields": (
        "A cron expression needs exactly 5 fields (minute hour day month weekday); got {value}. "
        "Seconds are not allowed.",
        "Biểu thức cron cần đúng 5 trường (phút giờ ngày tháng thứ); nhận được {value}. "
        "Không dùng trường giây.",
    ),
    "cron_invalid": (
        "'{value}' is not a valid cron expression.",
        "'{value}' không phải là biểu thức cron hợp lệ.",
    ),
    "cron_never_fires": (
        "The cron expression '{value}' never fires.",
        "Biểu thức cron '{value}' không bao giờ đến lượt phát.",
    ),
    "cron_too_frequent": (
        "The cron expression '{value}' fires more often than once a minute.",
        "Biểu thức cron '{value}' phát thường xuyên hơn một lần mỗi phút.",
    ),
    "out_of_range": (
        "{label} must be between {low} and {high}, not {value}.",
        "{label_vi} phải từ {low} đến {high}, không phải {value}.",
    ),
    "unknown_priority": (
        "Unknown priority '{value}'; use normal, priority or emergency.",
        "Mức ưu tiên '{value}' không hợp lệ; chọn thông thường, ưu tiên hoặc khẩn cấp.",
    ),
}

# Field labels for messages that name the field.
LABELS: dict[str, tuple[str, str]] = {
    "kind": ("Schedule kind", "kiểu lịch"),
    "start_date": ("Start date", "ngày bắt đầu"),
    "end_date": ("End date", "ngày kết thúc"),
    "at": ("Date and time", "ngày giờ phát"),
    "cron": ("Cron expression", "biểu thức cron"),
    "every_minutes": ("Minutes between plays", "số phút giữa hai lần phát"),
    "until": ("Until", "thời điểm kết thúc"),
    "repeat_count": ("Repeat count", "Số lần lặp"),
    "repeat_gap_s": ("Gap between repeats (seconds)", "Khoảng cách giữa các lần lặp (giây)"),
    "validity_s": ("Validity (seconds)", "Thời hạn hiệu lực (giây)"),
    "priority": ("Priority", "mức ưu tiên"),
}


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field."""

    field: str
    """Name of the offending field (matches the form / JSON key)."""
    code: str
    """Stable machine code, e.g. 'end_before_start'."""
    message: str
    """English sentence naming the problem."""
    message_vi: str = ""
    """The same in Vietnamese, for the UI."""

    def to_dict(self) -> dict[str, str]:
        """JSON-safe form for API error bodies."""
        return {
            "field": self.field, "code": self.code, "message": self.message, "message_vi": self.message_vi,
        }


def field_error(field: str, code: str, **params: object) -> FieldError:
    """Build a FieldError from the catalogue, filling both languages."""
    en, vi = MESSAGES[code]
    label, label_vi = LABELS.get(field, (field, field))
    values = {"label": label, "label_vi": label_vi, **params}
    values.setdefault("value_vi", values.get("value", ""))
    return FieldError(field, code, en.format(**values), vi.format(**values))


class ScheduleInputError(ValueError):
    """Raised by the parsers when loose input cannot become a Recurrence or SchedulePlan."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors
