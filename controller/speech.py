"""Adapter from controller settings to the audio package's speech pipeline."""

from __future__ import annotations

from contextlib import nullcontext

from audio.settings import MasterSettings, SpeechSettings


def speech_settings(settings) -> SpeechSettings:
    """Speech settings for this commune."""
    return SpeechSettings(engines=tuple(settings.tts_engines), dialect=settings.dialect)


def master_settings(settings, **overrides) -> MasterSettings:
    """Mastering settings for this commune."""
    return MasterSettings(**overrides)


def render_text(ctx, text: str, abbreviations: dict[str, str] | None = None):
    """Speak and master text through the engine chain (cached by content)."""
    from audio.render import render_text as _render

    metrics = getattr(ctx, "metrics", None)
    with metrics.render_seconds.time() if metrics else nullcontext():
        return _render(text, speech_settings(ctx.settings), master_settings(ctx.settings),
                       ctx.cache_dir, abbreviations=abbreviations)
