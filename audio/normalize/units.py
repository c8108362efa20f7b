"""Percentages, measures and money after a number: 15%, 60 km/h, 7.500 đ/kg, 35°C."""

from __future__ import annotations

import re

from .numbers import read_number
from .spans import NUMBER, num

# Spoken forms, written as separate syllables: engines read "ki lô mét" better than
# "kilômét", and espeak-ng reads the bare letters "km" as letter names.
UNITS: dict[str, str] = {
    "km/h": "ki lô mét một giờ",
    "km": "ki lô mét",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "mm": "mi li mét",
    "cm": "xen ti mét",
    "m": "mét",
    "ha": "héc ta",
    "kg": "ki lô gam",
    "g": "gam",
    "ml": "mi li lít",
    "l": "lít",
    "°C": "độ xê",
    "ºC": "độ xê",
    "oC": "độ xê",
    "độ C": "độ xê",
    "VNĐ": "đồng",
    "VND": "đồng",
    "vnđ": "đồng",
    "đ": "đồng",
    "h": "giờ",
}

# What a price or rate is "per": 7.500 đ/kg is "bảy ngàn năm trăm đồng một ki lô gam".
PER_UNITS: dict[str, str] = {
    "kg": "ki lô gam",
    "tấn": "tấn",
    "ha": "héc ta",
    "m2": "mét vuông",
    "m²": "mét vuông",
    "lít": "lít",
    "l": "lít",
    "con": "con",
    "người": "người",
    "hộ": "hộ",
    "tháng": "tháng",
    "năm": "năm",
    "ngày": "ngày",
    "giờ": "giờ",
    "h": "giờ",
    "kỳ": "kỳ",
    "lượt": "lượt",
    "liều": "liều",
}

_MONEY = ("đồng", "VNĐ", "VND", "vnđ", "đ", "ngàn", "nghìn", "triệu", "tỷ")


def _alternation(words: list[str]) -> str:
    """Regex alternation, longest first so 'km/h' wins over 'km' and 'mm' over 'm'."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_UNIT_RE = re.compile(
    rf"({NUMBER})\s?({_alternation(list(UNITS))})(?:/({_alternation(list(PER_UNITS))}))?(?![\w²³])"
)
# "đồng/kg" after words ("giá 7 ngàn đồng/kg", or after a number already spoken)
_PER_RE = re.compile(
    rf"(?<!\w)({_alternation(list(_MONEY))})/({_alternation(list(PER_UNITS))})(?![\w²³])"
)
_PERCENT_RE = re.compile(rf"({NUMBER})\s?%")


def normalize_units(text: str, dialect: str) -> str:
    """Speak a number with its unit, percent sign or 'per' unit."""

    def unit(m: re.Match) -> str:
        words = f"{read_number(m[1], dialect)} {UNITS[m[2]]}"
        if m[3]:
            words += f" một {PER_UNITS[m[3]]}"
        return num(words)

    def per(m: re.Match) -> str:
        money = UNITS.get(m[1], m[1])
        return f"{money} một {PER_UNITS[m[2]]}"

    text = _PERCENT_RE.sub(lambda m: num(f"{read_number(m[1], dialect)} phần trăm"), text)
    text = _UNIT_RE.sub(unit, text)
    return _PER_RE.sub(per, text)
