"""Reading the alert log: newest first, one entry, and the alert behind a broadcast."""

from __future__ import annotations

import sqlalchemy as sa

from controller.alerts.models import AlertRecord
from controller.models import Broadcast
from controller.services.errors import NotFound


def recent(s, limit: int = 50, offset: int = 0) -> list[AlertRecord]:
    """The newest alert-log lines."""
    q = sa.select(AlertRecord).order_by(AlertRecord.id.desc()).limit(limit).offset(offset)
    return list(s.scalars(q))


def get(s, alert_id: int) -> AlertRecord:
    """One alert-log line, or NotFound."""
    rec = s.get(AlertRecord, alert_id)
    if rec is None:
        raise NotFound("unknown_alert", f"unknown alert {alert_id}")
    return rec


def for_broadcast(s, broadcast: Broadcast) -> AlertRecord | None:
    """The alert a broadcast (first airing or a repeat) was made for, if any."""
    q = (sa.select(AlertRecord).where(AlertRecord.announcement_id == broadcast.announcement_id)
         .order_by(AlertRecord.id).limit(1))
    return s.scalar(q)


def broadcasts_of(s, rec: AlertRecord) -> list[int]:
    """Every broadcast of the alert: the first airing and the repeats fired so far."""
    if rec.announcement_id is None:
        return list(rec.broadcast_ids or [])
    q = sa.select(Broadcast.id).where(Broadcast.announcement_id == rec.announcement_id).order_by(Broadcast.id)
    return list(s.scalars(q))


def to_dict(s, rec: AlertRecord) -> dict:
    """The JSON shape of one alert-log line."""
    from web.serializers import t

    return {
        "id": rec.id, "received_at": t(rec.received_at), "source": rec.source,
        "identifier": rec.identifier, "sender": rec.sender, "sent": t(rec.sent),
        "status": rec.status, "msg_type": rec.msg_type, "event": rec.event,
        "headline": rec.headline, "language": rec.language, "severity": rec.severity,
        "urgency": rec.urgency, "expires": t(rec.expires_at), "areas": list(rec.areas or []),
        "matched_hamlets": list(rec.matched_hamlets or []), "action": rec.action,
        "reason": rec.reason, "state": rec.state, "signed": rec.signed,
        "broadcast_ids": broadcasts_of(s, rec), "schedule_id": rec.schedule_id,
        "announcement_id": rec.announcement_id, "refers_to": rec.refers_to,
        "raw_sha256": rec.raw_sha256,
    }


def scoped(rows: list[dict], scope) -> list[dict]:
    """What a hamlet-limited user may see: alerts for his hamlets (or for none), naming only his."""
    if not scope.limited:
        return rows
    out = []
    for row in rows:
        matched = row.get("matched_hamlets") or []
        mine = [h for h in matched if scope.allows(h["id"])]
        if matched and not mine:
            continue
        out.append({**row, "matched_hamlets": mine})
    return out
