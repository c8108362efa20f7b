"""Stream acks from agents (stream_playing, stream_stalled, stream_stopped, …) into the log.

Called by the ingestor (controller/ingest.py) for acks whose command is not a file
delivery. An ack names either the play_stream command or the session's stop command.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.services import streams
from controller.stream_models import StreamDelivery, StreamDeliveryEvent
from protocol.messages import Ack


def deliveries(s: Session, command_ids: set[str]) -> dict[str, StreamDelivery]:
    """Stream deliveries by play_stream or stop command id."""
    found: dict[str, StreamDelivery] = {}
    ids = sorted(command_ids)
    for i in range(0, len(ids), 250):  # two IN lists per query: stay under parameter limits
        chunk = ids[i:i + 250]
        for d in s.scalars(sa.select(StreamDelivery).where(sa.or_(
                StreamDelivery.command_id.in_(chunk), StreamDelivery.stop_command_id.in_(chunk)))):
            found[d.command_id] = d
            found[d.stop_command_id] = d
    return found


def seen_events(s: Session, found) -> set:
    """(delivery id, event, at) of agent events already recorded for these deliveries."""
    ids = sorted({d.id for d in found})
    seen: set = set()
    ev = StreamDeliveryEvent
    for i in range(0, len(ids), 500):
        rows = s.execute(sa.select(ev.delivery_id, ev.event, ev.at).where(
            ev.delivery_id.in_(ids[i:i + 500]), ev.source == "agent"))
        seen.update((r[0], r[1], r[2]) for r in rows)
    return seen


def apply(s: Session, d: StreamDelivery, ack: Ack, seen: set) -> None:
    """Record one agent ack as a stream delivery event (once, however often it arrives)."""
    key = (d.id, ack.event, ack.at)
    if key in seen:
        return
    seen.add(key)
    if ack.command_id == d.stop_command_id:
        d.stop_wanted = False  # the agent answered the stop command: no more resends
    streams.append(s, d, ack.event, "agent", at=ack.at, detail=ack.detail)
