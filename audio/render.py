"""Entry points the controller calls: text or an upload in, a cached mastered MP3 out."""

from __future__ import annotations

import logging
from pathlib import Path

from audio import cache
from audio import ffmpeg_adapter as ff
from audio.cache import Rendered
from audio.engines import chain
from audio.engines.breaker import Breaker
from audio.errors import AudioError
from audio.master import master_file, master_wav
from audio.settings import MasterSettings, SpeechSettings, UploadLimits
from audio.upload import check_size, decode_upload

__all__ = ["Rendered", "render_text", "render_upload", "probe_duration_ms"]

log = logging.getLogger(__name__)


def _normalize(text: str, dialect: str, abbreviations: dict[str, str] | None) -> str:
    # Imported here: the normalizer is a separate module that may not be installed yet
    # in a partial checkout; without it engines read the raw text.
    try:
        from audio.normalize import normalize
    except ModuleNotFoundError as exc:
        if exc.name != "audio.normalize":
            raise
        log.warning("audio.normalize is missing; speaking the text as written")
        return text
    return normalize(text, dialect=dialect, abbreviations=abbreviations)


def render_text(
    text: str,
    speech: SpeechSettings,
    master: MasterSettings,
    cache_dir: Path,
    abbreviations: dict[str, str] | None = None,
    urgent: bool = False,
) -> Rendered:
    """Normalize, synthesize (gTTS → espeak-ng → …) and master text, or return the cached MP3.

    Engines that failed recently are skipped (audio.engines.breaker); `urgent` (emergencies)
    never waits longer than speech.emergency_budget_s for the first engine.
    """
    spoken = " ".join(_normalize(text, speech.dialect, abbreviations).split())
    if not spoken:
        raise AudioError("empty", "the announcement has no text to speak")
    key = cache.text_key(spoken, speech, master)
    hit = cache.lookup(cache_dir, key)
    if hit is not None:
        return hit
    with cache.workdir(cache_dir) as work:
        engines = chain.build_engines(speech)
        breaker = Breaker(cache_dir, speech.engine_retry_s)
        if urgent:
            engine, raw = chain.synthesize_urgent(spoken, engines, work, speech.emergency_budget_s, breaker)
        else:
            engine, raw = chain.synthesize(spoken, engines, work, breaker)
        out = work / "mastered.mp3"
        master_file(raw, out, master)
        # Only the preferred engine's audio answers later lookups: if gTTS was down and
        # espeak-ng stood in, the next render tries gTTS again instead of keeping the
        # fallback voice forever. The fallback file is kept under its own key.
        store_key = key if engine == speech.engines[0] else f"{key}-{engine}"
        rendered = cache.store(cache_dir, store_key, out, engine=engine, spoken_text=spoken)
    log.info("rendered %d ms of speech with %s", rendered.duration_ms, engine)
    return rendered


def render_upload(src: Path, master: MasterSettings, limits: UploadLimits, cache_dir: Path) -> Rendered:
    """Check, decode and master an uploaded file; raises AudioError and stores nothing on error."""
    check_size(src, limits)
    key = cache.upload_key(cache.file_sha256(src), master)
    hit = cache.lookup(cache_dir, key)
    if hit is not None:
        return hit
    with cache.workdir(cache_dir) as work:
        decoded = work / "upload.wav"
        decode_upload(src, decoded, limits, master.sample_rate)
        out = work / "mastered.mp3"
        master_wav(decoded, out, master, work)
        return cache.store(cache_dir, key, out, engine="upload", spoken_text="")


def probe_duration_ms(path: Path) -> int:
    """Duration of an audio file in milliseconds (ffprobe)."""
    return ff.probe_duration_ms(path)
