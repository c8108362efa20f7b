"""Dates and times: 02/07/2024, 2/7, "ngày 2-7", "tháng 4", 7h30, 14h, 07:30."""

from __future__ import annotations

import re

from .numbers import read_int, read_month
from .spans import num

_DAY = r"(0?[1-9]|[12]\d|3[01])"
_MONTH = r"(0?[1-9]|1[0-2])"
_YEAR = r"(\d{4})"
_END = r"(?![\d\w])(?![.,]\d)"
_START = r"(?<![\d\w.,/-])"
# a time may follow a dash: "7h-9h30" is a range of two times
_TSTART = r"(?<![\d\w.,/])"

# "ngày " before a date is kept once; a bare date gains it, since "hai tháng bảy" alone
# sounds like a quantity of months.
_NGAY = r"(?:(ngày|Ngày)\s+)?"
_FULL_DATE = re.compile(_START + _NGAY + _DAY + r"([/.-])" + _MONTH + r"\3" + _YEAR + _END)
_SHORT_DATE = re.compile(_START + _NGAY + _DAY + "/" + _MONTH + _END)
# "ngày 2-7": with a dash, only after "ngày" (a bare 2-7 is a range)
_DASH_DATE = re.compile(r"(?<!\w)(ngày|Ngày)\s+" + _DAY + "-" + _MONTH + _END)
# "10-15/7": a range of days in one month
_DAY_RANGE = re.compile(_START + _NGAY + _DAY + r"\s*[-–]\s*" + _DAY + "/" + _MONTH + _END)
_MONTH_YEAR = re.compile(r"(?<!\w)(?:(tháng|Tháng)\s+)?" + _MONTH + "/" + _YEAR + _END)
_MONTH_WORD = re.compile(r"(?<!\w)(tháng|Tháng)\s+" + _MONTH + _END)

_HOUR = r"([01]?\d|2[0-4])"
_MINUTE = r"([0-5]\d)"
_TIME_H = re.compile(_TSTART + _HOUR + r"\s?[hH]" + r"(?:" + _MINUTE + r"(?:'|\s?phút)?)?" + _END)
# "7g30": southern writing; "g" alone after a number is grams, so minutes are required
_TIME_G = re.compile(_TSTART + _HOUR + "g" + _MINUTE + r"'?" + _END)
_TIME_COLON = re.compile(_TSTART + _HOUR + ":" + _MINUTE + _END)
# "14 giờ 00" says nothing more than "14 giờ"
_ZERO_MINUTES = re.compile(r"(?<=giờ)\s+00(?:\s*phút)?" + _END)


def _date_words(day: str, month: str, year: str | None, dialect: str) -> str:
    """'ngày D tháng M [năm Y]' as words."""
    words = f"ngày {read_int(day, dialect)} tháng {read_month(int(month), dialect)}"
    if year:
        words += f" năm {read_int(year, dialect)}"
    return num(words)


def _prefixed(ngay: str | None, words: str) -> str:
    """Keep the writer's capitalised 'Ngày' when the date starts a sentence."""
    return words.replace("ngày", "Ngày", 1) if ngay == "Ngày" else words


def normalize_dates(text: str, dialect: str) -> str:
    """Speak dates: '02/07/2024' -> 'ngày hai tháng bảy năm hai ngàn không trăm hai mươi tư'."""

    def full(m: re.Match) -> str:
        return _prefixed(m[1], _date_words(m[2], m[4], m[5], dialect))

    def short(m: re.Match) -> str:
        return _prefixed(m[1], _date_words(m[2], m[3], None, dialect))

    def day_range(m: re.Match) -> str:
        first = read_int(m[2], dialect)
        words = _date_words(m[3], m[4], None, dialect).replace("ngày ", f"ngày {first} đến ", 1)
        return _prefixed(m[1], words)

    def month_year(m: re.Match) -> str:
        word = m[1] or "tháng"
        return num(f"{word} {read_month(int(m[2]), dialect)} năm {read_int(m[3], dialect)}")

    def month_word(m: re.Match) -> str:
        return f"{m[1]} " + num(read_month(int(m[2]), dialect))

    text = _FULL_DATE.sub(full, text)
    text = _DAY_RANGE.sub(day_range, text)
    text = _DASH_DATE.sub(short, text)
    text = _SHORT_DATE.sub(short, text)
    text = _MONTH_YEAR.sub(month_year, text)
    return _MONTH_WORD.sub(month_word, text)


def _time_words(hour: str, minute: str | None, dialect: str) -> str:
    """'H giờ [M phút]' as words; ':00' and 'h00' say only the hour."""
    words = f"{read_int(hour, dialect)} giờ"
    if minute and int(minute):
        words += f" {read_int(minute, dialect)} phút"
    return num(words)


def normalize_times(text: str, dialect: str) -> str:
    """Speak clock times: '7h30' -> 'bảy giờ ba mươi phút', '14h' -> 'mười bốn giờ'."""

    def repl(m: re.Match) -> str:
        return _time_words(m[1], m[2], dialect)

    text = _ZERO_MINUTES.sub("", text)
    text = _TIME_G.sub(repl, text)
    text = _TIME_COLON.sub(repl, text)
    return _TIME_H.sub(repl, text)
