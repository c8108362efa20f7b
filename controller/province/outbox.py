"""Writing upward records, inside the caller's transaction, only when the link is on.

The controller marks its sessions with `info["province_link"] = True` when the link is
enabled (runtime), so the hooks in delivery and state handling cost one dict lookup when off.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Delivery, utcnow
from controller.province.models import ProvinceRecord

STATUS_KEYS = ("online", "volume", "version", "relay_on")
"""A change in any of these sends a status record at once; the rest waits for the heartbeat."""


def link_on(s: Session) -> bool:
    """Whether this session belongs to a controller with the province link enabled."""
    return bool(s.info.get("province_link"))


def _record(kind: str, speaker_id: str, body: dict, delivery_id: int | None = None
            ) -> ProvinceRecord:
    return ProvinceRecord(kind=kind, speaker_id=speaker_id, record_key=uuid.uuid4().hex,
                          body=body, created_at=utcnow(), delivery_id=delivery_id)


def delivery_ended(s: Session, delivery: Delivery, event: str, at: datetime) -> None:
    """An aired-bulletin log record for a delivery that just reached a final state."""
    if not link_on(s):
        return
    if delivery.id is None:
        s.flush([delivery])
    delivery_row_ended(s, delivery.id, delivery.speaker_id, event, at)


def delivery_row_ended(s: Session, delivery_id: int, speaker_id: str, event: str,
                       at: datetime) -> None:
    """The same, for code that handles deliveries as rows (bulk ack ingestion), not objects."""
    if link_on(s):
        s.add(_record("aired", speaker_id, {"event": event, "ended_at": at.isoformat()},
                      delivery_id))


def speaker_state(s: Session, speaker_id: str, before: dict | None, after: dict,
                  heartbeat: bool = False) -> bool:
    """A status record when the state changed in what the province sees (or on a heartbeat)."""
    if not link_on(s):
        return False
    if not heartbeat and before is not None and all(
            before.get(k) == after.get(k) for k in STATUS_KEYS):
        return False
    s.add(_record("status", speaker_id, dict(after)))
    return True


def queue_stats(s: Session) -> tuple[int, datetime | None, datetime | None]:
    """(unsent records, oldest unsent created_at, last sent_at)."""
    r = ProvinceRecord
    count, oldest = s.execute(sa.select(sa.func.count(r.id), sa.func.min(r.created_at))
                              .where(r.sent_at.is_(None))).one()
    last = s.scalar(sa.select(sa.func.max(r.sent_at)))
    if oldest is not None and oldest.tzinfo is None:  # aggregates skip the column type on SQLite
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=utcnow().tzinfo)
    if last is not None and last.tzinfo is None:
        last = datetime.fromisoformat(str(last)).replace(tzinfo=utcnow().tzinfo)
    return int(count), oldest, last
