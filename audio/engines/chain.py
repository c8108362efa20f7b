"""Try engines in order until one speaks; record which one did."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from audio import ffmpeg_adapter as ff
from audio.engines.base import Engine, EngineError
from audio.engines.breaker import Breaker
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


def synthesize(
    text: str, engines: list[Engine], workdir: Path, breaker: Breaker | None = None
) -> tuple[str, Path]:
    """Speak text with the first engine that succeeds; return its name and the audio file.

    Engines whose breaker is open are skipped, except the last one, which is always tried.
    """
    failures = []
    for i, engine in enumerate(engines):
        last = i == len(engines) - 1
        if breaker is not None and not last and breaker.is_open(engine.name):
            failures.append(f"{engine.name}: skipped after a recent failure")
            continue
        try:
            out = _speak(engine, text, workdir)
        except (EngineError, ff.FfmpegError) as exc:
            log.warning("speech engine %s failed, trying the next: %s", engine.name, exc)
            failures.append(f"{engine.name}: {exc}")
            if breaker is not None and not last:
                breaker.trip(engine.name, str(exc))
            continue
        if breaker is not None and not last:
            breaker.reset(engine.name)
        return engine.name, out
    raise AudioError("tts_failed", "every speech engine failed (" + "; ".join(failures) + ")")


def synthesize_urgent(
    text: str, engines: list[Engine], workdir: Path, budget_s: float, breaker: Breaker | None = None
) -> tuple[str, Path]:
    """Emergency: the rest of the chain speaks at once while the first engine gets budget_s.

    The first engine's voice is used only if it is ready within the budget; otherwise the
    offline voice already rendered meanwhile speaks. A late first engine is left to finish
    (its own timeout bounds it) and still records its success or failure in the breaker.
    """
    first, rest = engines[0], engines[1:]
    if not rest or (breaker is not None and breaker.is_open(first.name)):
        return synthesize(text, rest or engines, workdir, breaker)
    # The online engine gets its own scratch dir: if it answers after the emergency went
    # ahead, the caller's workdir is gone, and that must not count as the engine failing.
    own = Path(tempfile.mkdtemp(prefix="urgent-", dir=workdir.parent))
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="urgent-speech")
    online = pool.submit(_speak_recorded, first, text, own, breaker)
    try:
        offline = pool.submit(synthesize, text, rest, workdir, breaker)
        try:
            got = online.result(timeout=budget_s)
            out = workdir / got.name
            os.replace(got, out)
            return first.name, out
        except FutureTimeout:
            log.warning("speech engine %s did not answer within %.1f s; the emergency uses %s",
                        first.name, budget_s, rest[0].name)
        except (EngineError, ff.FfmpegError) as exc:
            log.warning("speech engine %s failed for an emergency: %s", first.name, exc)
        return offline.result()
    finally:
        online.add_done_callback(lambda _f: shutil.rmtree(own, ignore_errors=True))
        pool.shutdown(wait=False)


def _speak_recorded(engine: Engine, text: str, workdir: Path, breaker: Breaker | None) -> Path:
    try:
        out = _speak(engine, text, workdir)
    except (EngineError, ff.FfmpegError) as exc:
        if breaker is not None:
            breaker.trip(engine.name, str(exc))
        raise
    if breaker is not None:
        breaker.reset(engine.name)
    return out


def _speak(engine: Engine, text: str, workdir: Path) -> Path:
    """One engine's audio for text, checked to be audio; raises EngineError or FfmpegError."""
    out = workdir / f"speech-{engine.name}{engine.suffix}"
    try:
        engine.synthesize(text, out)
        # An engine may "succeed" with bytes that are not audio (an HTML error page,
        # a cut-off download); only audio ffprobe can read counts.
        info = ff.probe(out)
        if not any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
            raise EngineError(f"{engine.name} wrote a file with no audio stream")
    except (EngineError, ff.FfmpegError):
        out.unlink(missing_ok=True)
        raise
    return out
