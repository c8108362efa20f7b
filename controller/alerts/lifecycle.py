"""Update and Cancel: find the alert referred to, stop its repeats, stop it if it is airing.

A stop command ends only what a speaker is playing now (controller/commands.py), and repeats
are pre-delivered a lead time ahead. So a Cancel (1) cancels the schedule's future
occurrences, (2) cancels deliveries not yet sent, (3) stops speakers playing the alert now,
and (4) hands the runner the repeats already on the speakers, to stop when they begin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from controller import commands
from controller.alerts.cap import Reference
from controller.alerts.models import AlertRecord
from controller.models import Broadcast, Delivery, Schedule
from controller.services import audit, deliveries
from controller.web_models import BroadcastRequest
from schedules import store

log = logging.getLogger(__name__)
ON_SPEAKER = ("sent", "received", "downloaded", "playing")
LIVE_ACTIONS = ("emergency", "priority", "draft")
_REASON = {
    "cancelled": ("Not played: the warning was cancelled by its sender.",
                  "Không phát: cơ quan cảnh báo đã hủy cảnh báo."),
    "replaced": ("Not played: the warning was replaced by an update.",
                 "Không phát: cảnh báo đã được cập nhật bằng bản mới."),
}


@dataclass(frozen=True)
class Stop:
    """A speaker to stop, now or when a pre-delivered repeat begins."""

    speaker_id: str
    at: datetime
    alert_id: int


def referenced(s, refs: tuple[Reference, ...]) -> list[int]:
    """Ids of alerts received here that the references name (sender and identifier)."""
    ids: list[int] = []
    for ref in refs:
        q = (sa.select(AlertRecord.id).where(AlertRecord.sender == ref.sender[:255],
                                             AlertRecord.identifier == ref.identifier[:255],
                                             AlertRecord.action.in_(LIVE_ACTIONS + ("test",)))
             .order_by(AlertRecord.id))
        ids += [i for i in s.scalars(q) if i not in ids]
    return ids


def stop_alerts(s, alert_ids: list[int], now: datetime, state: str, actor: str) -> list[Stop]:
    """Mark the alerts cancelled/replaced, cancel repeats and queued deliveries; returns speakers to stop."""
    stops: list[Stop] = []
    en, vi = _REASON.get(state, _REASON["cancelled"])
    for rec in s.scalars(sa.select(AlertRecord).where(AlertRecord.id.in_(alert_ids))):
        rec.state = state
        if rec.schedule_id:
            sch = s.get(Schedule, rec.schedule_id)
            if sch is not None and sch.status != "cancelled":
                sch.status, sch.updated_at = "cancelled", now
                store.cancel_future(s, sch.id, now - timedelta(days=1), now, "cancelled", en, vi)
                audit.record(s, "schedule_cancel", actor=actor, target=f"schedule:{sch.id}",
                             detail=f"alert:{rec.id} {state}")
        if rec.announcement_id is None:
            continue
        # A draft still waiting for approval must not air after its warning was withdrawn.
        for req in s.scalars(sa.select(BroadcastRequest).where(
                BroadcastRequest.announcement_id == rec.announcement_id,
                BroadcastRequest.status == "pending")):
            req.status, req.result = "cancelled", f"alert:{rec.id} {state}"
            audit.record(s, "request_cancelled", actor=actor, target=f"request:{req.id}",
                         detail=f"alert:{rec.id} {state}")
        q = (sa.select(Delivery, Broadcast.play_at).join(Broadcast)
             .where(Broadcast.announcement_id == rec.announcement_id, Broadcast.expires_at > now))
        for d, play_at in s.execute(q):
            if d.state == "queued":
                deliveries.append(s, d, "cancelled", "controller", at=now, detail=en)
            elif d.state == "playing":
                stops.append(Stop(d.speaker_id, now, rec.id))
            elif d.state in ON_SPEAKER:
                # Not begun yet: a stop now would find nothing to stop; stop it once it starts.
                stops.append(Stop(d.speaker_id, max(play_at, now) + timedelta(seconds=3), rec.id))
    return stops


def send_stops(ctx, stops: list[Stop], now: datetime) -> None:
    """Stop speakers playing now; leave later ones to the alert runner (if this process has one)."""
    later = [x for x in stops if x.at > now + timedelta(seconds=2)]
    for speaker_id in sorted({x.speaker_id for x in stops if x not in later}):
        stop_speaker(ctx, speaker_id)
    runner = getattr(ctx, "alert_runner", None)
    if later and runner is not None:
        runner.stop_later(later)
    elif later:
        log.warning("%d pre-delivered repeats cannot be stopped: no alert runner", len(later))


def stop_speaker(ctx, speaker_id: str) -> None:
    """Send one stop command; a missing broker is logged, not raised."""
    try:
        cid = commands.send(ctx, speaker_id, "stop")
        log.info("alert stop sent to %s (command %s)", speaker_id, cid)
    except commands.NoBroker:
        log.warning("cannot stop %s: not connected to the broker", speaker_id)
