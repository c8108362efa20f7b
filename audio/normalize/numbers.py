"""Vietnamese number words: cardinals, digits, decimals, ordinals, months, Roman numerals.

Libraries measured on our cases (2024-xx, Python 3.11) before writing this:
- num2words 0.5.14 lang='vi': wrong. 2024 -> "hai nghìn lẻ hai mươi bốn" (needs "không trăm"),
  1015 -> "một nghìn lẻ mười lăm", 3.5 -> "ba phẩy năm mươi" (float), >10^18 gives
  English "Quintillion" and float-rounded digits; no dialect.
- vn-numberwords 0.2.0: readings right (north/south dictionaries), but raises on "3,5"
  and on 30-digit strings (it goes through float), and north reads 24 as "hai mươi bốn".
- vietnam-number 1.0.6: misspells lẻ as "lẽ"; no dialect.
So the rules below are our own: small, total over any digit string, and dialect-aware.
"""

from __future__ import annotations

DIALECTS = ("south", "north")

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Longer integers are codes, not quantities: nobody says "một nghìn triệu tỷ".
MAX_CARDINAL_DIGITS = 15

_THOUSAND = {"south": "ngàn", "north": "nghìn"}
_ODD = {"south": "lẻ", "north": "linh"}  # the "0" tens in 105: một trăm lẻ/linh năm


def check_dialect(dialect: str) -> str:
    """Return the dialect, or raise ValueError naming the allowed ones."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, not {dialect!r}")
    return dialect


def read_digits(digits: str) -> str:
    """Read a digit string one digit at a time: '0912' -> 'không chín một hai'."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdecimal())


def _tens_units(n: int, dialect: str, after_hundreds: bool) -> list[str]:
    """Words for 0..99, with the mười/mươi, mốt, tư, lăm and lẻ/linh rules."""
    tens, units = divmod(n, 10)
    if tens == 0:
        if units == 0:
            return []
        return [_ODD[dialect], DIGITS[units]] if after_hundreds else [DIGITS[units]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 1 and tens > 1:
        words.append("mốt")  # 21 hai mươi mốt, but 11 mười một
    elif units == 4 and tens > 1:
        words.append("tư")  # 24 hai mươi tư, but 14 mười bốn
    elif units == 5:
        words.append("lăm")  # 15 mười lăm, 25 hai mươi lăm
    elif units:
        words.append(DIGITS[units])
    return words


def _below_thousand(n: int, dialect: str, full: bool) -> list[str]:
    """Words for 0..999; full=True says "không trăm" for a group behind a bigger one."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and not full:
        return _tens_units(rest, dialect, after_hundreds=False)
    words = [DIGITS[hundreds], "trăm"]
    return words + _tens_units(rest, dialect, after_hundreds=True)


def _below_billion(n: int, dialect: str, full: bool) -> list[str]:
    """Words for 0..999,999,999 in nghìn/ngàn and triệu groups."""
    millions, rest = divmod(n, 1_000_000)
    thousands, units = divmod(rest, 1000)
    words: list[str] = []
    if millions:
        words += _below_thousand(millions, dialect, full) + ["triệu"]
        full = True
    if thousands:
        words += _below_thousand(thousands, dialect, full) + [_THOUSAND[dialect]]
        full = True
    if units:
        words += _below_thousand(units, dialect, full)
    return words


def _cardinal_words(n: int, dialect: str, full: bool = False) -> list[str]:
    """Words for any n >= 1, grouping by tỷ (10^9) recursively: 10^12 = một nghìn tỷ."""
    billions, rest = divmod(n, 1_000_000_000)
    words: list[str] = []
    if billions:
        words += _cardinal_words(billions, dialect, full) + ["tỷ"]
        full = True
    if rest:
        words += _below_billion(rest, dialect, full)
    return words


def read_int(digits: str | int, dialect: str = "south") -> str:
    """Read an integer as a cardinal; over 15 digits it is read digit by digit."""
    check_dialect(dialect)
    text = str(digits)
    stripped = text.lstrip("0")
    if not stripped:
        return "không"
    if len(stripped) > MAX_CARDINAL_DIGITS:
        return read_digits(text)
    return " ".join(_cardinal_words(int(stripped), dialect))


def read_number(token: str, dialect: str = "south") -> str:
    """Read '7.500', '3,5', '1.234,05', '09' or '0123' the way a Vietnamese reader would."""
    whole, _, frac = token.replace(".", "").partition(",")
    # codes like 0123 keep their zeros; "09 ấp" is just nine
    is_code = len(whole) >= 3 and whole.startswith("0")
    words = read_digits(whole) if is_code else read_int(whole, dialect)
    if not frac:
        return words
    # "3,5" ba phẩy năm; "3,25" ba phẩy hai mươi lăm; "3,05" ba phẩy không năm
    if frac.startswith("0") or len(frac) > 3:
        return f"{words} phẩy {read_digits(frac)}"
    return f"{words} phẩy {read_int(frac, dialect)}"


def read_ordinal(n: int, dialect: str = "south") -> str:
    """Word after 'thứ': 1 nhất, 4 tư, otherwise the cardinal."""
    if n == 1:
        return "nhất"
    if n == 4:
        return "tư"
    return read_int(n, dialect)


def read_month(n: int, dialect: str = "south") -> str:
    """Month word after 'tháng': 4 is 'tư' (tháng tư), 1 'một', 12 'mười hai'."""
    return "tư" if n == 4 else read_int(n, dialect)


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(text: str) -> int | None:
    """Value of a canonical Roman numeral ('XIV' -> 14), or None if it is not one."""
    if not text or any(ch not in _ROMAN for ch in text):
        return None
    total = 0
    for ch, nxt in zip(text, text[1:] + " ", strict=True):
        value = _ROMAN[ch]
        total += -value if nxt in _ROMAN and _ROMAN[nxt] > value else value
    # round-trip check rejects "IIII", "VX", ... which are words or initials, not numerals
    return total if 0 < total < 4000 and int_to_roman(total) == text else None


def int_to_roman(n: int) -> str:
    """Canonical Roman numeral for 1..3999."""
    table = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
             (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = []
    for value, letters in table:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)
