"""Adapter from controller settings to the audio package's speech pipeline."""

from __future__ import annotations

from contextlib import nullcontext

from audio.settings import MasterSettings, SpeechSettings


def speech_settings(settings) -> SpeechSettings:
    """Speech settings for this commune."""
    return SpeechSettings(engines=tuple(settings.tts_engines), dialect=settings.dialect,
                          engine_retry_s=float(settings.tts_retry_after_s),
                          emergency_budget_s=settings.emergency_speech_budget_ms / 1000)


def master_settings(settings, **overrides) -> MasterSettings:
    """Mastering settings for this commune."""
    return MasterSettings(**overrides)


def render_text(ctx, text: str, abbreviations: dict[str, str] | None = None, urgent: bool = False):
    """Speak and master text through the engine chain (cached by content); urgent for emergencies."""
    from audio.render import render_text as _render

    metrics = getattr(ctx, "metrics", None)
    with metrics.render_seconds.time() if metrics else nullcontext():
        return _render(text, speech_settings(ctx.settings), master_settings(ctx.settings),
                       ctx.cache_dir, abbreviations=abbreviations, urgent=urgent)


def engine_states(ctx) -> list[dict]:
    """The speech engines in order, each with `down_since`/`retry_at` (UTC datetimes) when it failed."""
    from datetime import UTC, datetime

    from audio.engines.breaker import Breaker

    states = Breaker(ctx.cache_dir, float(ctx.settings.tts_retry_after_s)).states()
    out = []
    for name in ctx.settings.tts_engines:
        st = states.get(name)
        down = st is not None and st.is_open()
        out.append({
            "engine": name,
            "online": name == "gtts",
            "available": not down,
            "down_since": datetime.fromtimestamp(st.failed_at, UTC) if down else None,
            "retry_at": datetime.fromtimestamp(st.retry_at, UTC) if down else None,
            "reason": st.reason if down else "",
        })
    return out
