"""A malformed MQTT payload never crashes the controller: it logs, ignores, and keeps ingesting."""

from __future__ import annotations

import dataclasses

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from controller.models import AudioAsset, Speaker
from controller.runtime import Controller
from controller.services import announcements, broadcasts, registry
from protocol.messages import Ack, SpeakerState, utc_now
from tests.support.processes import wait_for

pytestmark = pytest.mark.process


@pytest.fixture
def running(settings, broker):
    """A controller started against the test broker, with one registered speaker."""
    url = f"mqtt://controller:{broker.controller_password}@127.0.0.1:{broker.controller_port}"
    ctl = Controller(dataclasses.replace(settings, broker_url=url))
    pw = broker.add_speaker("spk-1")
    with ctl.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp 1")
    ctl.start(web_port=1)
    wait_for(ctl.bus.connected.is_set, what="controller connected")
    yield ctl, pw
    ctl.stop()


def speaker_client(broker, pw):
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="spk-1-test", protocol=mqtt.MQTTv5)
    c.username_pw_set("spk-1", pw)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def test_garbage_on_ack_and_state_topics_is_ignored_and_good_messages_still_land(running, broker):
    ctl, pw = running
    with ctl.db.session() as s:
        s.add(AudioAsset(sha256="a" * 64, bytes=10, duration_ms=1000, source="tts"))
        ann = announcements.Announcement(title="t", audio_sha256="a" * 64, status="approved")
        s.add(ann)
        s.flush()
        b = broadcasts.create(s, announcement=ann, speakers=[s.get(Speaker, "spk-1")],
                              priority="normal", user=None)
        command_id = b.deliveries[0].command_id
    c = speaker_client(broker, pw)
    ack_topic, state_topic = broker.topics.ack("spk-1"), broker.topics.state("spk-1")
    for junk in (b"not json", b"\xff\xfe", b"[]", b'{"v": 1}', b'{"v": 99, "command_id": "x"}',
                 b'{"v":1,"command_id":"x","speaker_id":"spk-1","event":"exploded","at":"now"}',
                 b"{" * 100000, b""):
        c.publish(ack_topic, junk, qos=1).wait_for_publish(5)
        c.publish(state_topic, junk, qos=1).wait_for_publish(5)
    # A forged ack naming another speaker is not believed either.
    forged = Ack(command_id=command_id, speaker_id="spk-2", event="played", at=utc_now())
    c.publish(ack_topic, forged.encode(), qos=1).wait_for_publish(5)
    good = Ack(command_id=command_id, speaker_id="spk-1", event="received", at=utc_now())
    c.publish(ack_topic, good.encode(), qos=1).wait_for_publish(5)
    # The agent resends unconfirmed acks byte for byte after a crash: the log keeps one.
    c.publish(ack_topic, good.encode(), qos=1).wait_for_publish(5)
    c.publish(state_topic, SpeakerState("spk-1", True, utc_now(), volume=70).encode(), qos=1,
              retain=True).wait_for_publish(5)

    def landed():
        with ctl.db.session() as s:
            d = broadcasts.get(s, b.id).deliveries[0]
            spk = s.get(Speaker, "spk-1")
            return d.state == "received" and spk.online and spk.state.get("volume") == 70
    wait_for(landed, what="the good ack and state after the garbage")
    with ctl.db.session() as s:
        events = [e.event for e in broadcasts.get(s, b.id).deliveries[0].events]
    assert "played" not in events  # the forged ack did not count
    assert events.count("received") == 1
    assert ctl.ingestor._thread.is_alive()
