"""Shapes of API answers (JSON-ready dicts)."""

from __future__ import annotations

from controller.models import Broadcast, Speaker, utcnow
from protocol.messages import format_time


def t(value):
    """Format an optional instant."""
    return format_time(value) if value else None


def speaker(spk: Speaker, settings) -> dict:
    """A speaker with presence, health and flags."""
    state = spk.state or {}
    flags = []
    if spk.online and spk.state_at and (utcnow() - spk.state_at).total_seconds() > settings.stale_after_s:
        flags.append("stale")
    offset = state.get("clock_offset_ms")
    if isinstance(offset, int | float) and abs(offset) > settings.clock_limit_ms:
        flags.append("clock")
    if state.get("last_error"):
        flags.append("error")
    return {
        "id": spk.id, "hamlet": spk.hamlet.name, "name": spk.name, "online": spk.online,
        "last_seen": t(spk.last_seen), "state": state, "flags": flags,
        "latitude": spk.latitude, "longitude": spk.longitude,
    }


def broadcast_summary(b: Broadcast, shown: list | None = None) -> dict:
    """A broadcast with counts of deliveries per state (of `shown`, the visible deliveries)."""
    shown = b.deliveries if shown is None else shown
    counts: dict[str, int] = {}
    for d in shown:
        counts[d.state] = counts.get(d.state, 0) + 1
    return {
        "id": b.id, "title": b.announcement.title, "priority": b.priority,
        "engine": b.announcement.engine, "play_at": t(b.play_at), "expires_at": t(b.expires_at),
        "created_at": t(b.created_at), "states": counts,
    }


def broadcast_detail(b: Broadcast, shown: list | None = None) -> dict:
    """A broadcast with each (visible) delivery's state and events."""
    shown = b.deliveries if shown is None else shown
    out = broadcast_summary(b, shown)
    out["text"] = b.announcement.text
    out["spoken_text"] = b.announcement.spoken_text
    out["duration_ms"] = b.announcement.audio.duration_ms if b.announcement.audio else None
    out["deliveries"] = [
        {"speaker_id": d.speaker_id, "state": d.state, "command_id": d.command_id,
         "events": [{"event": e.event, "at": t(e.at), "source": e.source, "detail": e.detail}
                    for e in d.events]}
        for d in sorted(shown, key=lambda x: x.speaker_id)
    ]
    return out
