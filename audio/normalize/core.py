"""normalize(): written Vietnamese announcement text -> text a TTS engine reads correctly."""

from __future__ import annotations

import re

from .abbreviations import DEFAULT_ABBREVIATIONS, expand_abbreviations
from .datetimes import normalize_dates, normalize_times
from .numbers import check_dialect, read_int, read_number
from .spans import ABBR_CLOSE, ABBR_OPEN, MARKERS, NUM_CLOSE, NUM_OPEN, NUMBER, WORD_CLOSE, WORD_OPEN, num
from .special import normalize_doc_codes, normalize_ordinals, normalize_phones, normalize_roman
from .units import normalize_units

_NUMBER_RE = re.compile(NUMBER)
# "1.2" is not a thousands group: section and version numbers, read "một chấm hai"
_DOTTED_RE = re.compile(r"(?<![\d.,])\d+(?:\.\d+)+(?![.,]?\d)")
_DIGITS_RE = re.compile(r"\d+")

_RANGE_RE = re.compile(f"{NUM_CLOSE}[ \t]*[-–][ \t]*{NUM_OPEN}")
_PER_NUMBER_RE = re.compile(f"{NUM_CLOSE}/{NUM_OPEN}")
_NEGATIVE_RE = re.compile(f"(^|[\\s(:]|{NUM_CLOSE} )[-–]{NUM_OPEN}", re.MULTILINE)
_ABBR_JOIN_RE = re.compile(f"{ABBR_CLOSE}[-/]{ABBR_OPEN}")
_WORD_NUMBER_DASH_RE = re.compile(f"(?<=\\S)-(?={NUM_OPEN})")
# "67B1", "F0", "4G": digits glued to letters get a space so the engine says both
_GLUED_BEFORE_RE = re.compile(f"(?<=[^\\W\\d_])(?={NUM_OPEN}|{WORD_OPEN})")
_GLUED_AFTER_RE = re.compile(f"({NUM_CLOSE}|{WORD_CLOSE})(?=[^\\W\\d_])")
_MARKERS_RE = re.compile(f"[{re.escape(MARKERS)}]")
_SPACES_RE = re.compile(r"[ \t]{2,}")


def _plain_numbers(text: str, dialect: str) -> str:
    """Speak every number the earlier, more specific passes left."""
    text = _NUMBER_RE.sub(lambda m: num(read_number(m[0], dialect)), text)
    text = _DOTTED_RE.sub(
        lambda m: num(" chấm ".join(read_int(part, dialect) for part in m[0].split("."))), text
    )
    # what is left is glued to letters: plain words, never one end of a range
    return _DIGITS_RE.sub(lambda m: f"{WORD_OPEN}{read_number(m[0], dialect)}{WORD_CLOSE}", text)


def _finish(text: str) -> str:
    """Read the markers (ranges, minus signs, joined codes), then drop them."""
    text = _RANGE_RE.sub(f"{NUM_CLOSE} đến {NUM_OPEN}", text)
    text = _PER_NUMBER_RE.sub(f"{NUM_CLOSE} trên {NUM_OPEN}", text)
    text = _NEGATIVE_RE.sub(lambda m: f"{m[1]}âm {NUM_OPEN}", text)
    text = _ABBR_JOIN_RE.sub(f"{ABBR_CLOSE} {ABBR_OPEN}", text)
    text = _WORD_NUMBER_DASH_RE.sub(" ", text)  # Covid-19 -> Covid mười chín
    text = _GLUED_BEFORE_RE.sub(" ", text)
    text = _GLUED_AFTER_RE.sub(lambda m: m[1] + " ", text)
    text = _MARKERS_RE.sub("", text)
    return _SPACES_RE.sub(" ", text)


def normalize(text: str, dialect: str = "south", abbreviations: dict[str, str] | None = None) -> str:
    """Return the spoken form of an announcement; abbreviations=None uses the default table."""
    check_dialect(dialect)
    table = DEFAULT_ABBREVIATIONS if abbreviations is None else abbreviations
    text = _MARKERS_RE.sub("", text)
    # Order matters: each pass takes the most specific shapes before a later,
    # looser one can misread them (a phone number as thousands, a date as a fraction).
    text = normalize_phones(text)
    text = normalize_doc_codes(text, dialect)
    text = normalize_dates(text, dialect)
    text = normalize_times(text, dialect)
    text = normalize_units(text, dialect)
    text = normalize_ordinals(text, dialect)
    text = normalize_roman(text, dialect)
    text = _plain_numbers(text, dialect)
    text = expand_abbreviations(text, table)
    return _finish(text)
