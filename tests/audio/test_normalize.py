"""Normalizer interface, abbreviation table and number-reading properties."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio.normalize import DEFAULT_ABBREVIATIONS, DIALECTS, normalize

_VALUES = {"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
           "sáu": 6, "bảy": 7, "tám": 8, "chín": 9}


def parse_spoken(words: str) -> int:
    """Independent reader of Vietnamese number words, to check normalize() by round trip."""
    result = below_billion = group = last = 0
    for word in words.split():
        if word in _VALUES:
            last = _VALUES[word]
            group += last
        elif word == "mười":
            group += 10
        elif word == "mươi":
            group += last * 9
        elif word == "trăm":
            group += last * 99
        elif word in ("nghìn", "ngàn"):
            below_billion, group = below_billion + group * 1000, 0
        elif word == "triệu":
            below_billion, group = below_billion + group * 1_000_000, 0
        elif word == "tỷ":
            result, below_billion, group = (result + below_billion + group) * 10**9, 0, 0
        elif word not in ("lẻ", "linh"):
            raise AssertionError(f"unexpected word {word!r} in {words!r}")
    return result + below_billion + group


def test_public_interface():
    assert DIALECTS == ("south", "north")
    assert len(DEFAULT_ABBREVIATIONS) >= 40
    assert normalize("UBND xã") == normalize("UBND xã", "south", None) == "Ủy ban nhân dân xã"


def test_unknown_dialect_is_refused_by_name():
    with pytest.raises(ValueError, match="central"):
        normalize("1", "central")


def test_a_given_dictionary_replaces_the_default():
    edited = {"UBND": "Ủy ban xã", "HTX": "Hợp tác xã nông nghiệp"}
    assert normalize("UBND và HTX, HĐND", abbreviations=edited) == "Ủy ban xã và Hợp tác xã nông nghiệp, HĐND"
    assert normalize("UBND xã", abbreviations={}) == "UBND xã"


def test_dictionary_keys_are_whole_tokens_and_case_sensitive():
    table = {"CA": "Công an"}
    assert normalize("CA xã, ca sĩ, CAO, ACA", abbreviations=table) == "Công an xã, ca sĩ, CAO, ACA"


def test_dictionary_with_regex_characters_and_blank_keys_is_safe():
    table = {"A+B": "a cộng b", "(X)": "ích", "": "rỗng", "  ": "trắng"}
    assert normalize("A+B và (X)", abbreviations=table) == "a cộng b và ích"


@pytest.mark.parametrize("key", sorted(DEFAULT_ABBREVIATIONS))
def test_every_default_abbreviation_expands_in_a_sentence(key):
    spoken = normalize(f"Thông báo của {key} xã.")
    assert DEFAULT_ABBREVIATIONS[key] in spoken
    assert key not in spoken.split()


@pytest.mark.parametrize("length", [16, 40, 200, 10_000])
def test_long_digit_strings_are_read_digit_by_digit_without_crashing(length):
    spoken = normalize("mã " + "9" * length)
    assert spoken == "mã " + " ".join(["chín"] * length)


# a commune plan of our own, with numbers, dates, times and abbreviations
SAMPLE = Path(__file__).resolve().parent / "data" / "ke-hoach-ve-sinh-moi-truong.txt"


def test_sample_plan_keeps_no_digits_or_default_abbreviations():
    text = SAMPLE.read_text(encoding="utf-8")
    for dialect in DIALECTS:
        spoken = normalize(text, dialect)
        assert not re.search(r"\d", spoken)
        tokens = set(re.findall(r"[\wĐ.&]+", spoken))
        assert not tokens & {"UBND", "HĐND", "UBMTTQVN", "VHTT", "TTĐT", "TYT", "THCS", "ATGT",
                              "ANTT", "PCCC"}
        # the text is otherwise intact: same lines, same quotes and sentence ends
        assert spoken.count("\n") == text.count("\n")
        assert spoken.count("“") == text.count("“")
        assert spoken.count(";") == text.count(";")


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=10**15 - 1), st.sampled_from(DIALECTS))
def test_every_cardinal_reads_back_to_its_value(n, dialect):
    written = f"{n:,}".replace(",", ".")
    spoken = normalize(written, dialect)
    assert parse_spoken(spoken) == n
    words = spoken.split()
    assert ("ngàn" in words) <= (dialect == "south") and ("nghìn" in words) <= (dialect == "north")
    assert ("lẻ" in words) <= (dialect == "south") and ("linh" in words) <= (dialect == "north")
    for before, word in zip(words, words[1:], strict=False):
        if word in ("mốt", "tư"):
            assert before == "mươi"  # 21 hai mươi mốt, but 11 mười một, 14 mười bốn
        if word == "lăm":
            assert before in ("mười", "mươi")
    assert "mươi" not in words[:1] and "một mươi" not in spoken


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,:/-–%hgđkm²° +()\nUBNDHĐIVXthứángàyxã", max_size=60),
       st.sampled_from(DIALECTS))
def test_any_text_is_normalized_without_crash_or_leftover_digits(text, dialect):
    spoken = normalize(text, dialect)
    assert not re.search(r"[0-9\x00-\x06]", spoken)
