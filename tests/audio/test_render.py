"""render_text end to end: engine fallback, which engine spoke, the cache, chime and repeat."""

from __future__ import annotations

from dataclasses import replace

import pytest

from audio.chime import CHIME_MS
from audio.engines.espeak import EspeakEngine
from audio.engines.gtts_engine import GttsEngine
from audio.errors import AudioError
from audio.render import probe_duration_ms, render_text
from audio.settings import MasterSettings, SpeechSettings
from tests.support.gtts_stub import gtts_calls, stub_gtts, stub_gtts_error, stub_gtts_timeout

TEXT = "Thông báo: chiều nay họp tổ dân phố tại nhà văn hóa ấp."
# gTTS retries wait 5 ms in tests instead of 0.5 s.
SPEECH = SpeechSettings(gtts_timeout=3.0, gtts_retries=1, gtts_backoff_s=0.005)


@pytest.fixture
def engine_calls(monkeypatch):
    """Count real engine calls per engine name, without changing what the engines do."""
    counts = {"gtts": 0, "espeak": 0}

    def counting(cls, name):
        original = cls.synthesize

        def wrapper(self, text, out_path):
            counts[name] += 1
            return original(self, text, out_path)

        monkeypatch.setattr(cls, "synthesize", wrapper)

    counting(GttsEngine, "gtts")
    counting(EspeakEngine, "espeak")
    return counts


@pytest.mark.parametrize("failure", [stub_gtts_error, stub_gtts_timeout], ids=["http-500", "connect-timeout"])
def test_gtts_failure_falls_back_to_espeak(rsps, tmp_path, failure):
    failure(rsps)
    rendered = render_text(TEXT, SPEECH, MasterSettings(), tmp_path)
    assert rendered.engine == "espeak"
    assert rendered.duration_ms > 1000
    calls = gtts_calls(rsps)
    assert len(calls) == SPEECH.gtts_retries + 1
    # Each attempt was bounded by the configured timeout, so the fallback came in time.
    assert all(c.request.req_kwargs["timeout"] == SPEECH.gtts_timeout for c in calls)


def test_fallback_audio_is_not_kept_once_gtts_is_back(rsps, tmp_path, small_mp3):
    # Retry at once (the breaker's pause is tested in test_engine_breaker.py).
    speech = replace(SPEECH, engine_retry_s=0.0)
    stub_gtts_error(rsps)
    assert render_text(TEXT, speech, MasterSettings(), tmp_path).engine == "espeak"
    rsps.reset()
    stub_gtts(rsps, small_mp3)
    # Same text, same options: gTTS is tried again and its voice replaces the stand-in.
    assert render_text(TEXT, speech, MasterSettings(), tmp_path).engine == "gtts"
    assert render_text(TEXT, speech, MasterSettings(), tmp_path).cached


def test_gtts_success_is_recorded_as_gtts(rsps, tmp_path, small_mp3):
    stub_gtts(rsps, small_mp3)
    rendered = render_text(TEXT, SPEECH, MasterSettings(), tmp_path)
    assert rendered.engine == "gtts"
    assert rendered.mp3_path.read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert len(rendered.spoken_text) > 0


def test_same_announcement_twice_costs_no_synthesis(tmp_path, engine_calls):
    speech = SpeechSettings(engines=("espeak",))
    first = render_text(TEXT, speech, MasterSettings(), tmp_path)
    second = render_text(TEXT, speech, MasterSettings(), tmp_path)
    assert engine_calls["espeak"] == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.sha256 == first.sha256 and second.mp3_path == first.mp3_path
    assert second.engine == "espeak" and second.spoken_text == first.spoken_text


def test_any_changed_option_renders_again(tmp_path, engine_calls):
    speech = SpeechSettings(engines=("espeak",))
    render_text(TEXT, speech, MasterSettings(), tmp_path)
    render_text(TEXT, replace(speech, espeak_speed=130), MasterSettings(), tmp_path)
    render_text(TEXT, speech, MasterSettings(bitrate="96k"), tmp_path)
    render_text(TEXT, replace(speech, dialect="north"), MasterSettings(), tmp_path)
    assert engine_calls["espeak"] == 4


def test_cache_survives_a_missing_metadata_file(tmp_path, engine_calls):
    speech = SpeechSettings(engines=("espeak",))
    first = render_text(TEXT, speech, MasterSettings(), tmp_path)
    first.mp3_path.with_suffix(".json").unlink()
    again = render_text(TEXT, speech, MasterSettings(), tmp_path)
    assert engine_calls["espeak"] == 2 and not again.cached


def test_rendered_metadata_matches_the_file(tmp_path):
    rendered = render_text(TEXT, SpeechSettings(engines=("espeak",)), MasterSettings(), tmp_path)
    assert rendered.bytes == rendered.mp3_path.stat().st_size
    assert rendered.duration_ms == probe_duration_ms(rendered.mp3_path)
    assert not list((tmp_path / "tmp").iterdir())  # scratch files cleaned up


def test_empty_text_is_rejected(tmp_path):
    with pytest.raises(AudioError) as err:
        render_text("   \n ", SpeechSettings(engines=("espeak",)), MasterSettings(), tmp_path)
    assert err.value.code == "empty"


def test_chime_adds_two_chimes_and_repeat_adds_speech_and_gap(tmp_path):
    speech = SpeechSettings(engines=("espeak",))
    base = MasterSettings()
    plain = render_text(TEXT, speech, base, tmp_path).duration_ms
    chimed = render_text(TEXT, speech, replace(base, chime=True), tmp_path).duration_ms
    twice = render_text(TEXT, speech, replace(base, repeat=2, gap_ms=2000), tmp_path).duration_ms
    spoken_once = plain - base.lead_in_ms - base.lead_out_ms
    # MP3 frames are 26 ms long, so lengths match to within a frame or two.
    assert abs((chimed - plain) - 2 * CHIME_MS) <= 60
    assert abs((twice - plain) - (spoken_once + 2000)) <= 60


def test_lead_in_and_out_change_length_by_exactly_that(tmp_path):
    speech = SpeechSettings(engines=("espeak",))
    short = render_text(TEXT, speech, MasterSettings(lead_in_ms=0, lead_out_ms=0), tmp_path).duration_ms
    long = render_text(TEXT, speech, MasterSettings(lead_in_ms=1000, lead_out_ms=2000), tmp_path).duration_ms
    assert abs((long - short) - 3000) <= 60
