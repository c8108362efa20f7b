"""An ack ingested between the dispatcher's publish and its commit is never overwritten by `sent`.

With 1,000 speakers the first acks arrive while the dispatcher is still publishing the
batch (bench/fanout.py); the delivery must still end in the agent's state.
"""

from __future__ import annotations

import threading

from controller.dispatcher import Dispatcher
from controller.ingest import Ingestor
from controller.models import AudioAsset, Delivery, Speaker
from controller.services import announcements, broadcasts, registry
from protocol.messages import Ack, decode_command, utc_now


class RacingBus:
    """A bus whose publish makes the speaker answer at once, through the real ingestor."""

    def __init__(self, ingestor: Ingestor, events=("received", "downloaded", "playing")):
        self.connected = threading.Event()
        self.connected.set()
        self.ingestor = ingestor
        self.events = events
        self.published: list = []

    def publish_command(self, cmd, expiry_s: int) -> int:
        """Record the command and ingest the speaker's acks before the dispatcher commits."""
        self.published.append(decode_command(cmd.encode()))
        self.ingestor.process([(cmd.speaker_id, "ack",
                                Ack(cmd.id, cmd.speaker_id, e, utc_now()).encode())
                               for e in self.events])
        return len(self.published)


def _broadcast(ctl, speaker_ids):
    with ctl.db.session() as s:
        for sid in speaker_ids:
            registry.add_speaker(s, sid, "Ấp 1")
        s.add(AudioAsset(sha256="b" * 64, bytes=10, duration_ms=1000, source="tts"))
        ann = announcements.Announcement(title="t", audio_sha256="b" * 64, status="approved")
        s.add(ann)
        s.flush()
        spks = [s.get(Speaker, sid) for sid in speaker_ids]
        return broadcasts.create(s, announcement=ann, speakers=spks, priority="normal",
                                 user=None).id


def test_acks_that_beat_the_commit_keep_their_state(controller):
    bid = _broadcast(controller, ["spk-1", "spk-2", "spk-3"])
    bus = RacingBus(Ingestor(controller))
    assert Dispatcher(controller, bus).publish_due() == 3
    with controller.db.session() as s:
        rows = s.query(Delivery).filter_by(broadcast_id=bid).all()
        for d in rows:
            events = [e.event for e in d.events]
            assert d.state == "playing", (d.speaker_id, d.state, events)
            assert d.sends == 1 and d.last_sent_at is not None and d.agent_seen
            assert sorted(events) == sorted(["queued", "sent", "received", "downloaded",
                                             "playing"])
    assert {c.speaker_id for c in bus.published} == {"spk-1", "spk-2", "spk-3"}


def test_sent_moves_a_quiet_delivery_forward_and_resend_counts(controller):
    bid = _broadcast(controller, ["spk-1"])
    bus = RacingBus(Ingestor(controller), events=())
    d = Dispatcher(controller, bus)
    assert d.publish_due() == 1
    assert d.publish_due() == 0  # already sent: not published twice
    with controller.db.session() as s:
        (dl,) = s.query(Delivery).filter_by(broadcast_id=bid).all()
        assert (dl.state, dl.sends, dl.agent_seen) == ("sent", 1, False)
        assert [e.event for e in dl.events] == ["queued", "sent"]


def test_one_batch_with_many_acks_and_an_unknown_command(controller):
    _broadcast(controller, ["spk-1", "spk-2"])
    with controller.db.session() as s:
        cmds = {d.speaker_id: d.command_id for d in s.query(Delivery).all()}
    items = [(sid, "ack", Ack(cid, sid, ev, utc_now()).encode())
             for ev in ("received", "playing", "played") for sid, cid in cmds.items()]
    items.append(("spk-1", "ack", Ack("no-such-command", "spk-1", "played", utc_now()).encode()))
    Ingestor(controller).process(items)
    with controller.db.session() as s:
        assert {d.speaker_id: d.state for d in s.query(Delivery).all()} == {
            "spk-1": "played", "spk-2": "played"}
