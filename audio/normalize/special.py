"""Numbers that are not quantities: phone numbers, document codes, ordinals, Roman numerals."""

from __future__ import annotations

import re

from .numbers import read_digits, read_int, read_ordinal, roman_to_int
from .spans import num

# 0xxx with 10-11 digits, optionally "+84", grouped by spaces or dots: 0912 345 678, 0296.3.123.456
_PHONE = re.compile(r"(?<![\w.,+])(\+84[ .]?|0)(\d{1,4}(?:[ .]?\d{1,4}){1,5})(?!\w|[.,]\d)")
# Hotlines and short numbers after a word that says they are to be dialled
_DIALLED = re.compile(
    r"(?<!\w)((?:số\s+)?(?:điện thoại|Điện thoại|ĐT|SĐT|hotline|Hotline|đường dây nóng|"
    r"Đường dây nóng|gọi|Gọi)(?:\s+số)?\s*:?\s*)(\d{3,5}(?:[ .]\d{3,4})?)(?!\w|[.,]\d)"
)
# "5429/KH-UBND", "118-KH/TU", "12/2024/QĐ-UBND": number, optional year, agency code
_DOC_CODE = re.compile(r"(?<![\w/.,])(\d+)(?:/(\d{4}))?((?:[/-][A-ZĐ][A-ZĐ0-9&]*)+)(?![\w])")
_ORDINAL = re.compile(r"(?<!\w)(thứ|Thứ)\s+(\d{1,3})(?!\w|[.,]\d)")
# "II." at the start of a line is a heading number; one letter only if it is I, V or X,
# because "C." or "D." at a line start are answer or list labels.
_ROMAN_HEADING = re.compile(r"(?m)^([ \t]*)([IVXLCDM]{2,}|[IVX])(?=[.:)]\s|[.:)]$|\s*[-–]\s)")
_ROMAN_AFTER = re.compile(
    r"(?<!\w)(Phần|phần|Chương|chương|Mục|mục|Điều|điều|Khoản|khoản|Quý|quý|Khóa|khóa|Khoá|khoá|"
    r"Đợt|đợt|Giai đoạn|giai đoạn|Thế kỷ|thế kỷ|Kỳ|kỳ|Tiết|tiết|Đại hội|đại hội|Lần|lần)\s+"
    r"([IVXLCDM]+)(?![\w])"
)


def _phone_words(prefix: str, body: str) -> str:
    """Digits one by one, a comma at each written group so listeners can write them down."""
    groups = re.split(r"[ .]", body)
    if prefix == "0":
        groups[0] = "0" + groups[0]
    if len(groups) == 1:  # unbroken: group as 4-3-3 (or 4-3-4), as people say them
        digits = groups[0]
        groups = [digits[:4], digits[4:7], digits[7:]]
    words = ", ".join(read_digits(g) for g in groups if g)
    return f"cộng tám tư, {words}" if prefix == "+84" else words


def normalize_phones(text: str) -> str:
    """Read phone numbers and dialled short numbers digit by digit."""

    def phone(m: re.Match) -> str:
        count = sum(ch.isdigit() for ch in m[2])
        # 10-11 digits with the leading 0; +84 stands for that 0
        return _phone_words(m[1].strip(" ."), m[2]) if count in (9, 10) else m[0]

    def dialled(m: re.Match) -> str:
        return m[1] + ", ".join(read_digits(g) for g in re.split(r"[ .]", m[2]))

    text = _PHONE.sub(phone, text)
    return _DIALLED.sub(dialled, text)


def normalize_doc_codes(text: str, dialect: str) -> str:
    """'5429/KH-UBND' -> number words then the code's parts, for the abbreviation pass."""

    def repl(m: re.Match) -> str:
        words = read_int(m[1], dialect)
        if m[2]:
            words += f" năm {read_int(m[2], dialect)}"
        code = " ".join(part for part in re.split(r"[/-]", m[3]) if part)
        return f"{num(words)} {code}"

    return _DOC_CODE.sub(repl, text)


def normalize_ordinals(text: str, dialect: str) -> str:
    """'thứ 2' -> 'thứ hai', 'thứ 4' -> 'thứ tư', 'lần thứ 1' -> 'lần thứ nhất'."""
    return _ORDINAL.sub(lambda m: f"{m[1]} " + num(read_ordinal(int(m[2]), dialect)), text)


def normalize_roman(text: str, dialect: str) -> str:
    """Roman numerals in headings ('II.' at a line start, 'Phần III', 'Quý IV') as numbers."""

    def heading(m: re.Match) -> str:
        value = roman_to_int(m[2])
        return m[0] if value is None else m[1] + num(read_int(value, dialect))

    def after(m: re.Match) -> str:
        value = roman_to_int(m[2])
        return m[0] if value is None else f"{m[1]} " + num(read_int(value, dialect))

    text = _ROMAN_HEADING.sub(heading, text)
    return _ROMAN_AFTER.sub(after, text)
