"""Markers around text a pass has already spoken, so later passes can see what it was.

A number span is wrapped in NUM_OPEN/NUM_CLOSE, an expanded abbreviation in
ABBR_OPEN/ABBR_CLOSE. The last pass reads the markers (a dash between two number
spans is a range, "đến") and removes them. Control characters never occur in the
announcements we read, and the core strips any that do before the passes run.
"""

from __future__ import annotations

NUM_OPEN, NUM_CLOSE = "\x01", "\x02"
ABBR_OPEN, ABBR_CLOSE = "\x03", "\x04"
WORD_OPEN, WORD_CLOSE = "\x05", "\x06"  # digits read as plain words, not a quantity
MARKERS = NUM_OPEN + NUM_CLOSE + ABBR_OPEN + ABBR_CLOSE + WORD_OPEN + WORD_CLOSE

# A number as commune texts write it: "." groups thousands, "," marks decimals.
# The guards stop a match from starting or ending inside a longer number ("1.2345").
# A number glued to a letter ("B1", "F0") is not a quantity: the core reads it plainly.
NUMBER = r"(?<![^\W_])(?<!\d[.,])(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?(?![.,]?\d)"


def num(words: str) -> str:
    """Wrap spoken number words in number markers."""
    return f"{NUM_OPEN}{words}{NUM_CLOSE}"


def abbr(words: str) -> str:
    """Wrap an expanded abbreviation in abbreviation markers."""
    return f"{ABBR_OPEN}{words}{ABBR_CLOSE}"
