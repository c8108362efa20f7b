"""The stream outbox without a broker: what goes out, what is resent, stops, and the end."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import sqlalchemy as sa

from controller.models import utcnow
from controller.services import registry, streams
from controller.stream_dispatch import StreamSender
from controller.stream_models import StreamDelivery


class RecordingBus:
    """Stands in for the MQTT adapter: records what would be published."""

    def __init__(self):
        self.connected = threading.Event()
        self.connected.set()
        self.published = []

    def publish_command(self, cmd, expiry_s):
        """Record a command as the real bus would publish it."""
        self.published.append((cmd, expiry_s))
        return len(self.published)


def _types(bus) -> list[tuple[str, str]]:
    return [(c.type, c.speaker_id) for c, _ in bus.published]


def test_outbox_sends_resends_stops_and_closes_with_reasons(controller):
    ctl = controller
    ctl.settings = dataclasses.replace(ctl.settings, resend_after_s=1, lead_time_s=60)
    with ctl.db.session() as s:
        for sid in ("spk-a", "spk-b"):
            registry.add_speaker(s, sid, "Ấp 1")
        now = utcnow()
        later = streams.open_session(s, kind="relay", speakers=["spk-a"],
                                     starts_at=now + timedelta(hours=1),
                                     until=now + timedelta(hours=2), user=None, title="sau")
        live = streams.open_session(s, kind="live", speakers=["spk-a", "spk-b"], starts_at=now,
                                    until=now + timedelta(minutes=5), user=None, title="ngay")
        later_id, live_id = later.id, live.id
    bus = RecordingBus()
    sender = StreamSender(ctl, bus)
    sender.run_once()
    # Only the session due within the lead time goes out, once per speaker, until `until`.
    assert sorted(_types(bus)) == [("play_stream", "spk-a"), ("play_stream", "spk-b")]
    cmd, expiry = bus.published[0]
    assert cmd.stream.session_id == f"live-{live_id}" and 290 <= expiry <= 300
    sender.run_once()
    assert len(bus.published) == 2  # nothing new before resend_after_s
    with ctl.db.session() as s:  # spk-a answers, spk-b stays silent
        d_a = s.scalar(sa.select(StreamDelivery).where(StreamDelivery.session_id == live_id,
                                                       StreamDelivery.speaker_id == "spk-a"))
        streams.append(s, d_a, "received", "agent")
        for d in s.scalars(sa.select(StreamDelivery)):
            d.last_sent_at = utcnow() - timedelta(seconds=5)
    sender.run_once()
    assert _types(bus)[2:] == [("play_stream", "spk-b")]  # only the silent one is resent
    first_b = next(c for c, _ in bus.published[:2] if c.speaker_id == "spk-b")
    resent = bus.published[2][0]
    assert (resent.id, resent.stream.token) == (first_b.id, first_b.stream.token)  # dedupable

    with ctl.db.session() as s:
        streams.stop_session(s, live_id, "stopped", user=None)
        streams.stop_session(s, later_id, "cancelled by the clerk", user=None)
    sender.run_once()
    stops = [c for c, _ in bus.published if c.type == "stop"]
    assert sorted(c.speaker_id for c in stops) == ["spk-a", "spk-b"]
    assert {c.session_id for c in stops} == {f"live-{live_id}"}
    with ctl.db.session() as s:  # spk-a answers the stop command; spk-b stays silent
        from controller import stream_ingest
        from protocol.messages import Ack

        rows = {d.speaker_id: d for d in s.scalars(
            sa.select(StreamDelivery).where(StreamDelivery.session_id == live_id))}
        stop_a = next(c for c in stops if c.speaker_id == "spk-a")
        stream_ingest.apply(s, rows["spk-a"], Ack(command_id=stop_a.id, speaker_id="spk-a",
                                                  event="stopped", at=utcnow()), set())
        for d in rows.values():
            d.stop_last_sent_at = utcnow() - timedelta(seconds=5)
    sender.run_once()
    again = [c.speaker_id for c, _ in bus.published if c.type == "stop"][len(stops):]
    assert again == ["spk-b"]
    with ctl.db.session() as s:
        view = streams.session_view(s, later_id)
        assert view["deliveries"][0]["state"] == "cancelled"  # never sent: nothing to stop
        view = streams.session_view(s, live_id)
        assert [d["state"] for d in view["deliveries"]] == ["stopped", "sent"]
        assert all("stop_sent" in [e["event"] for e in d["events"]] for d in view["deliveries"])


def test_a_session_nobody_could_receive_ends_as_missed(controller):
    ctl = controller
    with ctl.db.session() as s:
        registry.add_speaker(s, "spk-a", "Ấp 1")
        session = streams.open_session(s, kind="relay", speakers=["spk-a"], starts_at=utcnow(),
                                       until=utcnow() + timedelta(minutes=1), user=None,
                                       title="VOV1")
        session.until = utcnow() - timedelta(seconds=1)  # the broker was down all along
        sid = session.id
    bus = RecordingBus()
    bus.connected.clear()
    StreamSender(ctl, bus).run_once()
    assert bus.published == []
    with ctl.db.session() as s:
        view = streams.session_view(s, sid)
    assert view["state"] == "ended" and view["end_reason"] == "ended"
    assert view["deliveries"][0]["state"] == "missed"
    assert "not sent" in view["deliveries"][0]["events"][-1]["detail"]
