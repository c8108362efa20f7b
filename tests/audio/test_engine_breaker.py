"""The speech engine breaker: an offline commune stops paying for gTTS's failures on every render,
and an emergency never waits on the network. gTTS is stubbed at its HTTP layer."""

from __future__ import annotations

import threading

import pytest
import responses

from audio.engines.breaker import Breaker
from audio.render import render_text
from audio.settings import MasterSettings, SpeechSettings
from tests.support.gtts_stub import GTTS_URL, batchexecute_body, gtts_calls, stub_gtts, stub_gtts_error

TEXT = "Thông báo khẩn: nước sông dâng cao, bà con di dời ngay."
SPEECH = SpeechSettings(gtts_timeout=3.0, gtts_retries=1, gtts_backoff_s=0.005)


def test_a_failed_gtts_is_skipped_until_its_retry_time(rsps, tmp_path, small_mp3):
    stub_gtts_error(rsps)
    assert render_text(TEXT, SPEECH, MasterSettings(), tmp_path).engine == "espeak"
    failed_calls = len(gtts_calls(rsps))
    state = Breaker(tmp_path, SPEECH.engine_retry_s).states()["gtts"]
    assert state.is_open() and "500" in state.reason
    # Another announcement while offline: no gTTS request at all, espeak-ng speaks at once.
    assert render_text(TEXT + " Lần hai.", SPEECH, MasterSettings(), tmp_path).engine == "espeak"
    assert len(gtts_calls(rsps)) == failed_calls
    # Retry time reached (the retry pause set to nothing): gTTS is asked again, answers, and
    # the breaker closes.
    rsps.reset()
    stub_gtts(rsps, small_mp3)
    again = SpeechSettings(gtts_timeout=3.0, gtts_retries=1, engine_retry_s=0.0)
    Breaker(tmp_path, 0.0).trip("gtts", "still remembered")  # retry_at = now: due
    assert render_text(TEXT + " Lần ba.", again, MasterSettings(), tmp_path).engine == "gtts"
    assert "gtts" not in Breaker(tmp_path, 0.0).states()


def test_the_last_engine_is_always_tried_even_after_it_failed(tmp_path):
    Breaker(tmp_path, 300.0).trip("espeak", "a stale failure")
    speech = SpeechSettings(engines=("espeak",))
    assert render_text(TEXT, speech, MasterSettings(), tmp_path).engine == "espeak"


@pytest.fixture
def hanging_gtts(small_mp3):
    """gTTS whose requests hang until released (as a network that swallows packets)."""
    release, asked = threading.Event(), threading.Event()

    def slow(_request):
        asked.set()
        release.wait(20)
        return 200, {}, batchexecute_body(small_mp3)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, GTTS_URL, callback=slow)
        yield asked
        release.set()


def test_an_emergency_with_gtts_hanging_speaks_in_the_offline_voice(hanging_gtts, tmp_path):
    speech = SpeechSettings(gtts_timeout=15.0, gtts_retries=0, emergency_budget_s=0.5)
    rendered = render_text(TEXT, speech, MasterSettings(), tmp_path, urgent=True)
    assert rendered.engine == "espeak"
    assert hanging_gtts.is_set()  # the online voice was asked, not waited for


def test_an_emergency_uses_the_online_voice_when_it_answers_in_time(rsps, tmp_path, small_mp3):
    stub_gtts(rsps, small_mp3)
    speech = SpeechSettings(emergency_budget_s=10.0)
    assert render_text(TEXT, speech, MasterSettings(), tmp_path, urgent=True).engine == "gtts"


def test_an_emergency_while_gtts_is_known_down_does_not_ask_it(rsps, tmp_path):
    Breaker(tmp_path, 300.0).trip("gtts", "offline")
    assert render_text(TEXT, SPEECH, MasterSettings(), tmp_path, urgent=True).engine == "espeak"
    assert gtts_calls(rsps) == []
