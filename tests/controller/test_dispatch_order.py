"""The outbox publishes emergencies before anything else that is due."""

from __future__ import annotations

import threading

from controller.dispatcher import Dispatcher
from controller.models import AudioAsset, Speaker
from controller.services import announcements, broadcasts, registry


class RecordingBus:
    """Stands in for the MQTT adapter: connected, and remembers what was published in order."""

    def __init__(self):
        self.connected = threading.Event()
        self.connected.set()
        self.published = []

    def publish_command(self, cmd, expiry_s):
        self.published.append(cmd)
        return len(self.published)


def test_emergency_is_published_before_earlier_normal_and_priority_items(controller):
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp 1")
        s.add(AudioAsset(sha256="b" * 64, bytes=10, duration_ms=1000, source="tts"))
        spk = s.get(Speaker, "spk-1")
        ids = {}
        for prio in ("normal", "priority", "emergency"):
            ann = announcements.Announcement(title=prio, audio_sha256="b" * 64, status="approved")
            s.add(ann)
            s.flush()
            ids[prio] = broadcasts.create(s, announcement=ann, speakers=[spk], priority=prio,
                                          user=None).deliveries[0].command_id
    bus = RecordingBus()
    Dispatcher(controller, bus).publish_due()
    assert [c.priority for c in bus.published] == ["emergency", "priority", "normal"]
    assert [c.id for c in bus.published] == [ids["emergency"], ids["priority"], ids["normal"]]
