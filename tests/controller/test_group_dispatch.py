"""The dispatcher's group fan-out: who goes by group command, on which topic with which targets,
who still gets a per-speaker command, `sent` for every delivery, resends per speaker, and the
signed memberships that follow a move."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from controller.dispatcher import Dispatcher
from controller.models import AudioAsset, Delivery, DeliveryEvent, Speaker, utcnow
from controller.services import announcements, broadcasts, registry
from protocol import signing
from protocol.groups import GroupCommand, Membership


class RecordingBus:
    """Stands in for the MQTT adapter: remembers per-speaker, group and membership publishes."""

    def __init__(self):
        self.connected = threading.Event()
        self.connected.set()
        self.connects = 1
        self.commands, self.groups, self.memberships = [], [], {}

    def publish_command(self, cmd, expiry_s):
        self.commands.append(cmd)
        return len(self.commands)

    def publish_group(self, topic, cmd, expiry_s):
        self.groups.append((topic, GroupCommand.decode(cmd.encode())))
        return len(self.groups)

    def publish_membership(self, speaker_id, payload):
        self.memberships[speaker_id] = payload


def _fleet(ctl, listening=("s1", "s2", "s3")):
    """s1, s2 in Ấp 1; s3, s4 in Ấp 2; the `listening` ones reported their hamlet's group topics."""
    with ctl.db.session() as s:
        for sid, hamlet in (("s1", "Ấp 1"), ("s2", "Ấp 1"), ("s3", "Ấp 2"), ("s4", "Ấp 2")):
            spk, _ = registry.add_speaker(s, sid, hamlet)
            if sid in listening:
                spk.state = {"speaker_id": sid, "online": True, "hamlet_id": spk.hamlet_id}
        s.add(AudioAsset(sha256="b" * 64, bytes=10, duration_ms=1000, source="tts"))
        return {sid: s.get(Speaker, sid).hamlet_id for sid in ("s1", "s2", "s3", "s4")}


def _broadcast(ctl, speaker_ids, priority="normal"):
    with ctl.db.session() as s:
        ann = announcements.Announcement(title="Họp dân", audio_sha256="b" * 64, status="approved")
        s.add(ann)
        s.flush()
        b = broadcasts.create(s, announcement=ann, speakers=[s.get(Speaker, i) for i in speaker_ids],
                              priority=priority, user=None)
        return {d.speaker_id: d.command_id for d in b.deliveries}


def _sent(ctl, command_id):
    with ctl.db.session() as s:
        return s.execute(sa.select(DeliveryEvent.detail).join(Delivery)
                         .where(Delivery.command_id == command_id, DeliveryEvent.event == "sent")
                         ).scalars().all()


def test_whole_commune_goes_in_one_group_command_and_the_rest_per_speaker(controller):
    hamlets = _fleet(controller)
    ids = _broadcast(controller, ["s1", "s2", "s3", "s4"])
    bus = RecordingBus()
    Dispatcher(controller, bus).publish_due()
    # Every active speaker has a delivery: one message on the commune topic, naming hamlets.
    assert [t for t, _ in bus.groups] == [controller.topics.commune_cmd()]
    group = bus.groups[0][1]
    assert sorted(group.targets.hamlets) == sorted(set(hamlets.values()))
    signing.verify(group, {signing.key_id(controller.keys.public_key): controller.keys.public_key})
    assert {sid: group.member(sid).id for sid in ("s1", "s2", "s3")} == {
        sid: ids[sid] for sid in ("s1", "s2", "s3")}
    assert "spk=~group-" in group.media.url  # not a link of any one speaker
    # s4 never said it listens on its group topic: its own command, as before.
    assert [(c.speaker_id, c.id) for c in bus.commands] == [("s4", ids["s4"])]
    for sid in ("s1", "s2", "s3"):
        assert _sent(controller, ids[sid]) == ["group"]
    assert _sent(controller, ids["s4"]) == [None]


def test_part_of_a_hamlet_is_listed_and_a_single_speaker_stays_per_speaker(controller):
    hamlets = _fleet(controller, listening=("s1", "s2", "s3", "s4"))
    ids = _broadcast(controller, ["s1", "s3", "s4"])
    single = _broadcast(controller, ["s2"])
    bus = RecordingBus()
    Dispatcher(controller, bus).publish_due()
    t = controller.topics
    assert sorted(((topic, g.targets.to_payload()) for topic, g in bus.groups), key=str) == sorted([
        (t.hamlet_cmd(hamlets["s1"]), {"speakers": ["s1"]}),  # s2 is in Ấp 1 too: not a target
        (t.hamlet_cmd(hamlets["s3"]), {"hamlets": [hamlets["s3"]]}),  # all of Ấp 2
    ], key=str)
    assert [c.id for c in bus.commands] == [single["s2"]]
    assert all(_sent(controller, ids[sid]) == ["group"] for sid in ids)


def test_unacknowledged_group_deliveries_are_resent_per_speaker_with_the_same_id(controller):
    _fleet(controller, listening=("s1", "s2"))
    ids = _broadcast(controller, ["s1", "s2"])
    bus = RecordingBus()
    d = Dispatcher(controller, bus)
    d.publish_due()
    assert len(bus.groups) == 1 and bus.commands == []
    with controller.db.session() as s:  # nobody answered for a while
        s.execute(sa.update(Delivery).values(last_sent_at=utcnow() - timedelta(minutes=5)))
    assert d.resend_unacknowledged() == 2
    assert sorted((c.speaker_id, c.id) for c in bus.commands) == sorted(ids.items())
    assert all(_sent(controller, cid) == ["group", "resend 1"] for cid in ids.values())


def test_memberships_are_signed_and_follow_a_move_and_a_revocation(controller):
    hamlets = _fleet(controller)
    bus = RecordingBus()
    d = Dispatcher(controller, bus)
    assert d.groups.sync_memberships() == 4
    keys = {signing.key_id(controller.keys.public_key): controller.keys.public_key}
    m = Membership.decode(bus.memberships["s1"])
    signing.verify(m, keys)
    assert (m.speaker_id, m.hamlet_id) == ("s1", hamlets["s1"])
    with controller.db.session() as s:
        moved = registry.move_speaker(s, "s1", "Ấp 2")
        registry.revoke_speaker(s, "s4")
        assert moved.hamlet_id == hamlets["s3"]
    bus.memberships.clear()
    d.groups._last_sync = 0  # the next periodic sync
    assert d.groups.sync_memberships() == 1
    m = Membership.decode(bus.memberships["s1"])
    assert m.hamlet_id == hamlets["s3"]
    assert bus.memberships["s4"] == b""  # revoked: its retained membership is cleared
    # The ACL follows the registry: s1 may now read Ấp 2's group topic, not Ấp 1's.
    _, acl = controller.auth_files()
    block = acl.split("user s1\n")[1].split("\n\n")[0]
    assert controller.topics.hamlet_cmd(hamlets["s3"]) in block
    assert controller.topics.hamlet_cmd(hamlets["s1"]) not in block


def test_group_commands_off_sends_one_command_per_speaker(controller):
    from dataclasses import replace

    controller.settings = replace(controller.settings, group_commands=False)
    _fleet(controller, listening=("s1", "s2", "s3", "s4"))
    ids = _broadcast(controller, ["s1", "s2", "s3", "s4"])
    bus = RecordingBus()
    Dispatcher(controller, bus).run_once()
    assert bus.groups == [] and bus.memberships == {}
    assert sorted(c.id for c in bus.commands) == sorted(ids.values())


def test_a_few_speakers_of_a_big_hamlet_go_per_speaker(controller):
    with controller.db.session() as s:
        for i in range(5):
            spk, _ = registry.add_speaker(s, f"b{i}", "Ấp Lớn")
            spk.state = {"speaker_id": spk.id, "online": True, "hamlet_id": spk.hamlet_id}
        s.add(AudioAsset(sha256="b" * 64, bytes=10, duration_ms=1000, source="tts"))
    ids = _broadcast(controller, ["b0", "b1"])  # 2 of 5: the other 3 would get it for nothing
    bus = RecordingBus()
    Dispatcher(controller, bus).publish_due()
    assert bus.groups == []
    assert sorted(c.id for c in bus.commands) == sorted(ids.values())
