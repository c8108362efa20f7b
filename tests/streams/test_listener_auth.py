"""A stream session end to end on the controller side, with real Mosquitto and real Icecast.

The controller signs play_stream commands for each target speaker (a paho client stands in
for the agents), and Icecast itself admits a listener only with that speaker's token:
a wrong token, a revoked speaker and an ended session are refused by Icecast.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import urllib.request
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from controller.app import create_app
from controller.models import utcnow
from controller.runtime import Controller
from controller.server import WebServer
from controller.services import registry, streams
from protocol import signing
from protocol.messages import Ack, decode_command
from tests.support.icecast import pull_status, push_tone, stop_push
from tests.support.processes import free_port, wait_for

pytestmark = pytest.mark.process


@pytest.fixture
def running(settings, broker):
    """A started controller (managed Icecast), its web server, and three speakers."""
    url = f"mqtt://controller:{broker.controller_password}@127.0.0.1:{broker.controller_port}"
    ctl = Controller(dataclasses.replace(settings, broker_url=url, stream_port=18100))
    with ctl.db.session() as s:
        for sid in ("spk-a", "spk-b", "spk-c"):
            registry.add_speaker(s, sid, "Ấp 1")
    port = free_port()
    ctl.start(web_port=port)
    web = WebServer(create_app(controller=ctl), "127.0.0.1", port, threads=4)
    web.start()
    wait_for(ctl.bus.connected.is_set, what="controller connected")
    yield ctl
    web.stop()
    ctl.stop()


def _commands(broker, speakers):
    """A paho client on the speakers' command topics (controller account) and its inbox."""
    inbox: queue.Queue = queue.Queue()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fake-agents", protocol=mqtt.MQTTv5)
    c.username_pw_set("controller", broker.controller_password)
    c.on_message = lambda _c, _u, msg: inbox.put(decode_command(msg.payload))
    c.connect("127.0.0.1", broker.controller_port)
    for sid in speakers:
        c.subscribe(broker.topics.cmd(sid), qos=1)
    c.loop_start()
    return c, inbox


def _next(inbox, kind: str):
    while True:
        cmd = inbox.get(timeout=30)
        if cmd.type == kind:
            return cmd


def _closed(response) -> bool:
    try:
        return response.read(4096) == b""
    except OSError:
        return True


def _listen(cmd, token: str | None) -> int:
    url = cmd.stream.url + (f"&token={token}" if token is not None else "")
    return pull_status(url, nbytes=64)[0]


def test_signed_play_stream_and_icecast_admits_only_valid_tokens(running, broker, tmp_path):
    ctl = running
    client, inbox = _commands(broker, ["spk-a", "spk-b", "spk-c"])
    with ctl.db.session() as s:
        session = streams.open_session(s, kind="relay", speakers=["spk-a", "spk-b"],
                                       starts_at=utcnow(), until=utcnow() + timedelta(minutes=10),
                                       user=None, title="Tiếp sóng VOV1")
        sid, key, mount = session.id, session.key, session.mount
    ctl.kick()
    got = {}
    for _ in range(2):
        cmd = _next(inbox, "play_stream")
        got[cmd.speaker_id] = cmd
    assert sorted(got) == ["spk-a", "spk-b"]  # spk-c is not a target
    for cmd in got.values():
        signing.verify(cmd, {signing.key_id(ctl.keys.public_key): ctl.keys.public_key})
        assert cmd.stream.session_id == key and cmd.stream.kind == "relay"
        assert cmd.stream.url.startswith(ctl.streams_server.listen_url(mount) + "?")
        assert cmd.expires_at == cmd.stream.until
    a, b = got["spk-a"], got["spk-b"]

    pusher = push_tone(ctl.streams_server.source_url(mount), log=tmp_path / "push.log")
    try:
        wait_for(lambda: mount in (ctl.streams_server.managed.status() or {}).get("mounts", []),
                 what="the relay mount on Icecast")
        assert _listen(a, a.stream.token) == 200
        assert _listen(b, b.stream.token) == 200
        assert _listen(a, b.stream.token) in (401, 403)  # another speaker's token
        assert _listen(a, "0" * 64) in (401, 403)
        assert _listen(a, None) in (401, 403)

        # The agent says it plays; the log counts airtime from then.
        acks = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="acks", protocol=mqtt.MQTTv5)
        acks.username_pw_set("controller", broker.controller_password)
        acks.connect("127.0.0.1", broker.controller_port)
        acks.loop_start()
        ack = Ack(command_id=a.id, speaker_id="spk-a", event="stream_playing",
                  at=utcnow() - timedelta(seconds=5))
        acks.publish(broker.topics.ack("spk-a"), ack.encode(), qos=1).wait_for_publish(5)

        # spk-b is pulling when it is revoked: Icecast drops the connection it already
        # admitted, and refuses the next one even with the right token.
        pulling = urllib.request.urlopen(f"{b.stream.url}&token={b.stream.token}", timeout=10)
        assert pulling.read(64)
        with ctl.db.session() as s:
            registry.revoke_speaker(s, "spk-b")
        ctl.kick()
        wait_for(lambda: _closed(pulling), what="the revoked speaker's connection dropped")
        assert _listen(b, b.stream.token) in (401, 403)  # revoked speaker, valid token

        with ctl.db.session() as s:
            streams.stop_session(s, sid, "stopped by the clerk", user=None)
        ctl.kick()
        stop = _next(inbox, "stop")
        assert stop.session_id == key
        signing.verify(stop, {signing.key_id(ctl.keys.public_key): ctl.keys.public_key})
        assert _listen(a, a.stream.token) in (401, 403)  # ended session
        done = Ack(command_id=a.id, speaker_id="spk-a", event="stream_stopped", at=utcnow(),
                   detail="stopped")
        acks.publish(broker.topics.ack("spk-a"), done.encode(), qos=1).wait_for_publish(5)

        def view():
            with ctl.db.session() as s:
                v = streams.session_view(s, sid)
            return v if v["deliveries"][0]["state"] == "stream_stopped" else None

        v = wait_for(view, what="stream_stopped in the log")
        assert v["state"] == "ended" and v["end_reason"] == "stopped by the clerk"
        spk_a = v["deliveries"][0]
        assert spk_a["aired_s"] >= 5
        assert [e["event"] for e in spk_a["events"]][:2] == ["queued", "sent"]
        assert "stop_sent" in [e["event"] for e in spk_a["events"]]
        json.dumps(v)  # the API answers it as is
        acks.loop_stop()
        acks.disconnect()
    finally:
        stop_push(pusher)
        client.loop_stop()
        client.disconnect()
