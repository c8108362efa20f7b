"""Acceptance: a 300-word announcement through espeak-ng meets the loudness target.

Measured with ffmpeg's ebur128 filter (tests/support/ebur128.py), not with the code under test.
"""

from __future__ import annotations

import subprocess

import pytest

from audio.render import render_text
from audio.settings import MasterSettings, SpeechSettings
from tests.support.ebur128 import ebur128


def _stream(path) -> dict:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name,channels,sample_rate,bit_rate",
            "-of",
            "default=nw=1",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.split())


@pytest.mark.parametrize("dialect", ["south", "north"])
def test_300_words_hit_minus_16_lufs_under_minus_1_dbtp(tmp_path, words_300, dialect):
    master = MasterSettings()
    rendered = render_text(words_300, SpeechSettings(engines=("espeak",), dialect=dialect), master, tmp_path)
    integrated, true_peak = ebur128(rendered.mp3_path)
    assert abs(integrated - master.target_lufs) <= 1.0, integrated
    assert true_peak <= master.true_peak_db, true_peak
    stream = _stream(rendered.mp3_path)
    assert stream["codec_name"] == "mp3" and stream["channels"] == "1" and stream["sample_rate"] == "44100"
    assert stream["bit_rate"] == "64000"


def test_another_target_and_chime_are_met_too(tmp_path, words_300):
    master = MasterSettings(target_lufs=-20.0, true_peak_db=-2.0, chime=True, repeat=2, bitrate="96k")
    text = " ".join(words_300.split()[:60])
    rendered = render_text(text, SpeechSettings(engines=("espeak",)), master, tmp_path)
    integrated, true_peak = ebur128(rendered.mp3_path)
    assert abs(integrated - master.target_lufs) <= 1.0, integrated
    assert true_peak <= master.true_peak_db, true_peak
