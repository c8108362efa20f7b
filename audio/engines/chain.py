"""Try engines in order until one speaks; record which one did."""

from __future__ import annotations

import logging
from pathlib import Path

from audio import ffmpeg_adapter as ff
from audio.engines.base import Engine, EngineError
from audio.engines.espeak import EspeakEngine
from audio.engines.gtts_engine import GttsEngine
from audio.engines.piper import PiperEngine
from audio.errors import AudioError
from audio.settings import SpeechSettings

log = logging.getLogger(__name__)


def build_engines(speech: SpeechSettings) -> list[Engine]:
    """Engine adapters for speech.engines, in the configured order."""
    makers = {
        "gtts": lambda: GttsEngine(speech.gtts_timeout, speech.gtts_retries, speech.gtts_backoff_s),
        "espeak": lambda: EspeakEngine(speech.resolved_espeak_voice, speech.espeak_speed),
        "piper": lambda: PiperEngine(speech.piper_binary, speech.piper_model),
    }
    return [makers[name]() for name in speech.engines]


def synthesize(text: str, engines: list[Engine], workdir: Path) -> tuple[str, Path]:
    """Speak text with the first engine that succeeds; return its name and the audio file."""
    failures = []
    for engine in engines:
        out = workdir / f"speech-{engine.name}{engine.suffix}"
        try:
            engine.synthesize(text, out)
            # An engine may "succeed" with bytes that are not audio (an HTML error page,
            # a cut-off download); only audio ffprobe can read counts.
            info = ff.probe(out)
            if not any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
                raise EngineError(f"{engine.name} wrote a file with no audio stream")
        except (EngineError, ff.FfmpegError) as exc:
            log.warning("speech engine %s failed, trying the next: %s", engine.name, exc)
            failures.append(f"{engine.name}: {exc}")
            out.unlink(missing_ok=True)
            continue
        return engine.name, out
    raise AudioError("tts_failed", "every speech engine failed (" + "; ".join(failures) + ")")
