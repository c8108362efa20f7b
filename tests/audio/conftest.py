"""Fixtures for audio tests: real espeak-ng/ffmpeg output, sample text, a stubbed gTTS."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import responses

SAMPLE = Path(__file__).resolve().parent / "data" / "ke-hoach-ve-sinh-moi-truong.txt"


def _sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def words_300() -> str:
    """The first 300 words of a commune plan (a long announcement)."""
    words = _sample_text().split()
    assert len(words) >= 300
    return " ".join(words[:300])


@pytest.fixture(scope="session")
def small_mp3(tmp_path_factory) -> bytes:
    """A real small MP3 of Vietnamese speech (espeak-ng → ffmpeg), as Google would send."""
    d = tmp_path_factory.mktemp("gtts-mp3")
    wav, mp3 = d / "s.wav", d / "s.mp3"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "xin chào bà con"], check=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-b:a", "32k", str(mp3)], check=True
    )
    return mp3.read_bytes()


@pytest.fixture
def rsps():
    """A responses mock: any HTTP request not stubbed fails instead of leaving the machine."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
