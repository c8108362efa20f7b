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
    """Speak and master text through the engine chain (cached by content); urgent for emergencies.

    In a running controller the work is done on the render pool (controller/render_pool.py),
    and this thread only waits, without holding the GIL the web needs.
    """
    from audio.render import render_text as _render

    metrics = getattr(ctx, "metrics", None)
    pool = getattr(ctx, "renders", None)
    args = (text, speech_settings(ctx.settings), master_settings(ctx.settings), ctx.cache_dir)
    with metrics.render_seconds.time() if metrics else nullcontext():
        if pool is not None:
            return pool.render(*args, abbreviations, urgent).result()
        return _render(*args, abbreviations=abbreviations, urgent=urgent)


def check_speakable(ctx, text: str, abbreviations: dict[str, str] | None) -> None:
    """Refuse, before anything is stored, a text that leaves nothing to speak (cheap: no engine)."""
    from audio.normalize import normalize
    from controller.services.errors import ServiceError

    spoken = normalize(text, dialect=ctx.settings.dialect, abbreviations=abbreviations)
    if not any(ch.isalnum() for ch in spoken):  # punctuation alone: the engine says nothing
        raise ServiceError("nothing_to_speak", "the text has nothing to speak", field="text")


def render_later(ctx, text: str, abbreviations: dict[str, str] | None, urgent: bool, done) -> None:
    """Render on the pool and call done(future) when finished (running controller only)."""
    import time

    pool = ctx.renders
    metrics = getattr(ctx, "metrics", None)
    t0 = time.monotonic()
    fut = pool.render(text, speech_settings(ctx.settings), master_settings(ctx.settings),
                      ctx.cache_dir, abbreviations, urgent)
    if metrics:
        fut.add_done_callback(lambda f: metrics.render_seconds.observe(time.monotonic() - t0))
    pool.then(fut, done)


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
