"""Control commands besides play (volume, stop): built, signed and published at once.

The dispatcher's outbox carries only play deliveries. Volume and stop act now or never,
so they skip the outbox; a short expiry means a speaker offline for longer ignores them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from controller.models import utcnow
from protocol.messages import Command

CONTROL_TYPES = ("volume", "stop")
CONTROL_TTL_S = 60


class NoBroker(RuntimeError):
    """The controller is not connected to the broker, so nothing can be sent."""


def build(speaker_id: str, kind: str, volume: int | None = None, ttl_s: int = CONTROL_TTL_S) -> Command:
    """An unsigned volume or stop command for one speaker."""
    if kind not in CONTROL_TYPES:
        raise ValueError(f"control command type must be one of {CONTROL_TYPES}")
    now = utcnow()
    return Command(id=uuid.uuid4().hex, type=kind, speaker_id=speaker_id, issued_at=now,
                   expires_at=now + timedelta(seconds=ttl_s), priority="emergency" if kind == "stop"
                   else "normal", volume=volume if kind == "volume" else None)


def send(ctx, speaker_id: str, kind: str, volume: int | None = None, ttl_s: int = CONTROL_TTL_S) -> str:
    """Sign and publish a control command; returns its id (raises NoBroker when offline)."""
    bus = ctx.bus
    if bus is None or not bus.connected.is_set():
        raise NoBroker("not connected to the broker")
    cmd = ctx.keys.sign(build(speaker_id, kind, volume, ttl_s))
    bus.publish_command(cmd, ttl_s)
    return cmd.id
