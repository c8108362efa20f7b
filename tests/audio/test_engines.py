"""Engine adapters against real espeak-ng and a gTTS stubbed at its HTTP layer."""

from __future__ import annotations

import subprocess

import pytest

from audio import ffmpeg_adapter as ff
from audio.engines.base import EngineError
from audio.engines.chain import build_engines, synthesize
from audio.engines.espeak import EspeakEngine
from audio.engines.gtts_engine import GttsEngine
from audio.engines.piper import PiperEngine
from audio.errors import AudioError
from audio.settings import SpeechSettings
from tests.support.gtts_stub import gtts_calls, stub_gtts, stub_gtts_error, stub_gtts_timeout


def no_sleep(_seconds: float) -> None:
    """Backoff waits are real in production; tests skip them."""


def test_gtts_writes_the_mp3_google_sent(rsps, small_mp3, tmp_path):
    stub_gtts(rsps, small_mp3)
    out = tmp_path / "g.mp3"
    GttsEngine(timeout=7.5, retries=0).synthesize("xin chào bà con", out)
    assert out.read_bytes() == small_mp3
    # The configured timeout reaches requests (gTTS's own default is to wait forever).
    assert gtts_calls(rsps)[0].request.req_kwargs["timeout"] == 7.5


def test_gtts_long_text_is_sent_in_several_requests(rsps, small_mp3, tmp_path, words_300):
    stub_gtts(rsps, small_mp3)
    out = tmp_path / "g.mp3"
    GttsEngine(timeout=5, retries=0).synthesize(words_300, out)
    parts = len(gtts_calls(rsps))
    assert parts > 10
    assert out.read_bytes() == small_mp3 * parts


def test_gtts_http_500_retries_then_fails_leaving_no_file(rsps, tmp_path):
    stub_gtts_error(rsps, 500)
    out = tmp_path / "g.mp3"
    waits = []
    with pytest.raises(EngineError, match="3 attempts"):
        GttsEngine(timeout=5, retries=2, backoff_s=0.5, sleep=waits.append).synthesize("xin chào", out)
    assert len(gtts_calls(rsps)) == 3
    assert waits == [0.5, 1.0]
    # gTTS.save() would have left a 0-byte file here.
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_gtts_timeout_fails_cleanly(rsps, tmp_path):
    stub_gtts_timeout(rsps)
    with pytest.raises(EngineError):
        GttsEngine(timeout=5, retries=1, sleep=no_sleep).synthesize("xin chào", tmp_path / "g.mp3")
    assert list(tmp_path.iterdir()) == []


def test_gtts_empty_audio_is_a_failure(rsps, tmp_path):
    stub_gtts(rsps, b"")
    with pytest.raises(EngineError):
        GttsEngine(timeout=5, retries=0).synthesize("xin chào", tmp_path / "g.mp3")
    assert list(tmp_path.iterdir()) == []


def test_the_vietnamese_voices_exist_on_this_machine():
    listing = subprocess.run(["espeak-ng", "--voices=vi"], capture_output=True, text=True, check=True).stdout
    assert SpeechSettings(dialect="south").resolved_espeak_voice in listing.split()
    assert SpeechSettings(dialect="north").resolved_espeak_voice in listing.split()


def test_espeak_speaks_300_words(tmp_path, words_300):
    out = tmp_path / "e.wav"
    EspeakEngine("vi-vn-x-south", 150).synthesize(words_300, out)
    # 300 words at 150 wpm is about two minutes of speech.
    assert ff.probe_duration_ms(out) > 60_000


def test_espeak_text_starting_with_a_dash_is_spoken_not_parsed(tmp_path):
    out = tmp_path / "e.wav"
    EspeakEngine("vi", 150).synthesize("-v xin chào", out)
    assert ff.probe_duration_ms(out) > 300


def test_espeak_unknown_voice_is_a_clear_error(tmp_path):
    with pytest.raises(EngineError, match="no voice named"):
        EspeakEngine("no-such-voice", 150).synthesize("xin chào", tmp_path / "e.wav")
    assert list(tmp_path.iterdir()) == []


def test_piper_unconfigured_or_missing_says_so(tmp_path):
    with pytest.raises(EngineError, match="not configured"):
        PiperEngine(None, None).synthesize("xin chào", tmp_path / "p.wav")
    with pytest.raises(EngineError, match="binary not found: /nonexistent/piper"):
        PiperEngine("/nonexistent/piper", str(tmp_path / "vi.onnx")).synthesize(
            "xin chào", tmp_path / "p.wav"
        )


def test_chain_falls_through_missing_piper_to_espeak(tmp_path, caplog):
    speech = SpeechSettings(
        engines=("piper", "espeak"), piper_binary="/nonexistent/piper", piper_model="m.onnx"
    )
    name, path = synthesize("xin chào bà con", build_engines(speech), tmp_path)
    assert name == "espeak"
    assert path.stat().st_size > 0
    assert "Piper binary not found" in caplog.text


def test_chain_with_every_engine_failing_names_each_failure(rsps, tmp_path):
    stub_gtts_error(rsps, 503)
    speech = SpeechSettings(engines=("gtts", "piper"), gtts_retries=0)
    with pytest.raises(AudioError) as err:
        synthesize("xin chào", build_engines(speech), tmp_path)
    assert err.value.code == "tts_failed"
    assert "gtts:" in str(err.value) and "piper:" in str(err.value)


def test_chain_rejects_a_non_audio_answer_and_falls_back(rsps, tmp_path):
    stub_gtts(rsps, b"<html>quota exceeded</html>")
    speech = SpeechSettings(engines=("gtts", "espeak"), gtts_retries=0)
    name, _ = synthesize("xin chào", build_engines(speech), tmp_path)
    assert name == "espeak"


def test_settings_name_the_bad_key():
    with pytest.raises(ValueError, match="speech.engines"):
        SpeechSettings(engines=("festival",))
    with pytest.raises(ValueError, match="speech.dialect"):
        SpeechSettings(dialect="central")
