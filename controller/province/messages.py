"""Upward messages: an outbox record rendered with the mapping's field names.

Times are ISO 8601 in the commune's zone (+07:00 for Việt Nam); durations "HH:MM:SS".
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Announcement, Broadcast, Delivery, DeliveryEvent, Speaker
from controller.province.mapping import PRIORITY_LEVELS, Mapping
from controller.province.models import ProvinceBulletin, ProvinceRecord


def local_iso(at: datetime, tz: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset, to the second (2026-12-01T08:00:00+07:00)."""
    return at.astimezone(tz).isoformat(timespec="seconds")


def hhmmss(seconds: float) -> str:
    """A duration as HH:MM:SS."""
    total = max(0, round(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def status(s: Session, rec: ProvinceRecord, m: Mapping, speakers: dict | None = None) -> dict:
    """A device status message (TrangThaiHoatDong, AmLuong, ViDo/KinhDo, …)."""
    f = m.fields("device_status")
    st = rec.body
    if speakers is None:
        speakers = {}
    if rec.speaker_id not in speakers:  # kept per batch: the session holds its objects weakly
        speakers[rec.speaker_id] = s.get(Speaker, rec.speaker_id)
    spk = speakers[rec.speaker_id]
    out = {
        f["source_id"]: m.source_id,
        f["speaker_id"]: m.speaker_code(rec.speaker_id),
        f["operating"]: 1 if st.get("online") else 0,
        f["connection"]: st.get("network") or "LAN",
        f["volume"]: st.get("volume"),
        f["latitude"]: spk.latitude if spk else None,
        f["longitude"]: spk.longitude if spk else None,
        f["device_info"]: {f["temperature"]: st.get("cpu_temp_c"),
                           f["disk_used"]: st.get("disk_used_bytes")},
        f["app_version"]: st.get("version"),
    }
    if f.get("record_id"):
        out[f["record_id"]] = rec.record_key
    return out


def aired(s: Session, rec: ProvinceRecord, m: Mapping, tz: ZoneInfo) -> dict:
    """An aired-bulletin log message for one delivery (GiaTri 1 played, 0 not)."""
    f = m.fields("aired_log")
    d = s.get(Delivery, rec.delivery_id)
    b = s.get(Broadcast, d.broadcast_id)
    ann = s.get(Announcement, b.announcement_id)
    ended = datetime.fromisoformat(rec.body["ended_at"])
    started = s.scalar(sa.select(DeliveryEvent.at).where(
        DeliveryEvent.delivery_id == d.id, DeliveryEvent.event == "playing")
        .order_by(DeliveryEvent.id).limit(1))
    started = started or ended
    from_province = s.scalar(sa.select(ProvinceBulletin).where(
        ProvinceBulletin.announcement_id == ann.id))
    played = rec.body["event"] == "played"
    out = {
        f["bulletin_id"]: from_province.bulletin_id if from_province else f"XA-{b.id}",
        f["speaker_id"]: m.speaker_code(rec.speaker_id),
        f["start"]: local_iso(started, tz),
        f["end"]: local_iso(ended, tz),
        f["duration"]: hhmmss((ended - started).total_seconds()),
        f["log_kind"]: 1 if played else 0,
        f["value"]: 1 if played else 0,
        f["priority"]: PRIORITY_LEVELS.get(b.priority, 3),
        f["title"]: ann.title,
        f["field"]: (from_province.field if from_province and from_province.field
                     else m.own_field),
    }
    if f.get("record_id"):
        out[f["record_id"]] = rec.record_key
    return out


def render(s: Session, rec: ProvinceRecord, m: Mapping, tz: ZoneInfo,
           speakers: dict | None = None) -> tuple[str, dict]:
    """(endpoint operation, message) for one outbox record; `speakers` caches lookups per batch."""
    if rec.kind == "status":
        return "device_status", status(s, rec, m, speakers)
    return "aired_log", aired(s, rec, m, tz)
