"""The log's 'reason' is a reason: why something did not play, not bookkeeping like the volume."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from controller.models import AudioAsset, Speaker
from controller.services import announcements, broadcasts, delivery_log, registry
from controller.services.deliveries import append


def test_played_shows_no_reason_and_failed_shows_why(controller):
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp 1")
        registry.add_speaker(s, "spk-2", "Ấp 1")
        s.add(AudioAsset(sha256="c" * 64, bytes=10, duration_ms=1000, source="tts"))
        ann = announcements.Announcement(title="Họp dân", audio_sha256="c" * 64, status="approved")
        s.add(ann)
        s.flush()
        b = broadcasts.create(s, announcement=ann, user=None, priority="normal",
                              speakers=[s.get(Speaker, "spk-1"), s.get(Speaker, "spk-2")])
        s.flush()
        ok, bad = sorted(b.deliveries, key=lambda d: d.speaker_id)
        append(s, ok, "sent", "controller", detail="resend 1")
        append(s, ok, "playing", "agent", detail="volume 80")
        append(s, ok, "played", "agent")
        append(s, bad, "failed", "agent", detail="audio cannot be decoded")
        append(s, bad, "playing", "agent", detail="volume 80")  # a late, out-of-order ack
        bid = b.id
    with controller.db.session() as s:
        m = delivery_log.matrix(s, bid)
        reasons = {d.speaker_id: reason for d, _times, reason in m.rows}
        rows = delivery_log.search(s, delivery_log.LogFilter(), ZoneInfo("Asia/Ho_Chi_Minh")).rows
        details = {r.speaker_id: r.detail for r in rows}
    assert reasons == {"spk-1": None, "spk-2": "audio cannot be decoded"}
    assert details == {"spk-1": None, "spk-2": "audio cannot be decoded"}
