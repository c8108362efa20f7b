"""Relays (tiếp sóng) end to end on the controller side: real Mosquitto, real Icecast, real ffmpeg.

The fake upstream stations are lavfi tones pushed to a second Icecast (the session's open
one). The controller pulls each once, re-encodes and pushes it to the relay's mount; a paho
client stands in for the agents (it receives the signed play_stream commands), and an ffmpeg
listener with a speaker's token hears what the speakers would.
"""

from __future__ import annotations

import dataclasses
import queue
import re
import subprocess
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from controller.app import create_app
from controller.models import utcnow
from controller.relay_models import Relay
from controller.runtime import Controller
from controller.server import WebServer
from controller.services import registry, users
from controller.stream_models import StreamSession
from protocol.messages import decode_command
from tests.support.icecast import stop_push
from tests.support.processes import free_port, wait_for

pytestmark = pytest.mark.process
SPEAKERS = (("spk-a", "Ấp 1"), ("spk-b", "Ấp 1"), ("spk-c", "Ấp 2"))


def push(icecast, mount: str, source: str, tmp_path) -> subprocess.Popen:
    """A fake station: a lavfi source, MP3, pushed to the upstream Icecast in real time."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re", "-f", "lavfi",
           "-i", source, "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k",
           "-content_type", "audio/mpeg", "-f", "mp3", icecast.source_url(mount)]
    with open(tmp_path / f"push{mount.replace('/', '-')}.log", "ab") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)  # noqa: S603


TONE = "sine=frequency=440:sample_rate=44100"
SILENCE = "aevalsrc=0:sample_rate=44100"
DEAD_AIR_THEN_TONE = r"aevalsrc=0.125*sin(2*PI*440*t)*gte(t\,12):s=44100"
"""A station back on the air that sends 12 s of silence before its programme."""


def loudness(url: str, seconds: float = 2.0) -> float:
    """Max volume (dB) an ffmpeg listener hears on a URL; -inf if it hears nothing."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-rw_timeout", "5000000",
                          "-i", url, "-t", str(seconds), "-af", "volumedetect", "-f", "null",
                          "-"], capture_output=True, text=True, timeout=40, check=False)
    m = re.search(r"max_volume: (-?[\d.]+) dB", out.stderr)
    return float(m.group(1)) if m else float("-inf")


@pytest.fixture
def running(settings, broker):
    """A started controller (managed Icecast, relay supervisor), its web server, three speakers."""
    url = f"mqtt://controller:{broker.controller_password}@127.0.0.1:{broker.controller_port}"
    ctl = Controller(dataclasses.replace(settings, broker_url=url, stream_port=18200,
                                         relay_silence_s=3, relay_recheck_s=3))
    with ctl.db.session() as s:
        for sid, hamlet in SPEAKERS:
            registry.add_speaker(s, sid, hamlet)
        users.add_user(s, "chu-tich", "approver")
        token = users.new_token(s, "chu-tich")
    port = free_port()
    ctl.start(web_port=port)
    web = WebServer(create_app(controller=ctl), "127.0.0.1", port, threads=4)
    web.start()
    wait_for(ctl.bus.connected.is_set, what="controller connected")
    inbox: queue.Queue = queue.Queue()
    agents = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fake-agents",
                         protocol=mqtt.MQTTv5)
    agents.username_pw_set("controller", broker.controller_password)
    agents.on_message = lambda _c, _u, msg: inbox.put(decode_command(msg.payload))
    agents.connect("127.0.0.1", broker.controller_port)
    for sid, _h in SPEAKERS:
        agents.subscribe(broker.topics.cmd(sid), qos=1)
    agents.loop_start()
    client = create_app(controller=ctl).test_client()
    yield ctl, client, {"Authorization": f"Bearer {token}"}, inbox
    agents.loop_stop()
    agents.disconnect()
    web.stop()
    ctl.stop()


def play_commands(inbox, n: int) -> dict:
    """The first n play_stream commands, by speaker."""
    got = {}
    while len(got) < n:
        cmd = inbox.get(timeout=30)
        if cmd.type == "play_stream":
            got[cmd.speaker_id] = cmd
    return got


def relay_view(client, auth, rid) -> dict:
    r = client.get(f"/api/v1/relays/{rid}", headers=auth)
    assert r.status_code == 200
    return r.get_json()


def add_source(client, auth, icecast, name, main, backup=None) -> int:
    body = {"name": name, "url": icecast.listen_url(main)}
    if backup:
        body["backup_url"] = icecast.listen_url(backup)
    r = client.post("/api/v1/sources", headers=auth, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_relay_to_one_hamlet_survives_an_upstream_outage_and_ends_at_until(
        running, icecast, tmp_path):
    ctl, client, auth, inbox = running
    station = push(icecast, "/vov1", TONE, tmp_path)
    try:
        icecast.wait_mount("/vov1")
        src = add_source(client, auth, icecast, "VOV1", "/vov1")
        r = client.post("/api/v1/relays", headers=auth,
                        json={"source_id": src, "targets": {"hamlets": ["Ấp 1"]},
                              "duration_s": 45})
        assert r.status_code == 201, r.get_json()
        rid = r.get_json()["id"]

        # Two of three speakers are told to play the relay's mount; spk-c is not.
        cmds = play_commands(inbox, 2)
        assert sorted(cmds) == ["spk-a", "spk-b"]
        a = cmds["spk-a"]
        listen = f"{a.stream.url}&token={a.stream.token}"
        assert a.stream.kind == "relay" and a.stream.until <= utcnow() + timedelta(seconds=46)
        wait_for(lambda: loudness(listen) > -30, timeout=60, what="the tone on the relay mount")

        # A second relay on a speaker already relaying: a conflict, and nothing is stored.
        r = client.post("/api/v1/relays", headers=auth,
                        json={"source_id": src, "targets": {"speakers": ["spk-b", "spk-c"]},
                              "duration_s": 60})
        assert r.status_code == 409 and r.get_json()["error"] == "relay_conflict"
        assert "spk-b" in r.get_json()["message"]
        with ctl.db.session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(Relay)) == 1
            assert s.scalar(sa.select(sa.func.count()).select_from(StreamSession)) == 1

        # The station goes off the air for a while: a gap with its reason, then the relay goes on.
        stop_push(station)
        gap = wait_for(lambda: relay_view(client, auth, rid)["gaps"], timeout=30,
                       what="a gap in the relay log")[0]
        assert "upstream" in gap["reason"]
        # It comes back with dead air first: no backup to switch to, so the silence is relayed
        # as it is, and logged as a gap of its own until the programme starts.
        station = push(icecast, "/vov1", DEAD_AIR_THEN_TONE, tmp_path)
        closed = wait_for(lambda: [g for g in relay_view(client, auth, rid)["gaps"]
                                   if g["ended_at"]], timeout=40, what="the gap closed")
        assert closed[0]["started_at"] < closed[0]["ended_at"]
        silence = wait_for(lambda: [g for g in relay_view(client, auth, rid)["gaps"]
                                    if "silence" in g["reason"] and g["ended_at"]], timeout=40,
                           what="the dead air logged as a gap, closed by sound")[0]
        assert silence["reason"] == "silence on the main source for over 3 s", silence
        assert relay_view(client, auth, rid)["state"] == "running"
        assert [e["event"] for e in relay_view(client, auth, rid)["events"]
                if e["event"] in ("backup", "main")] == []
        wait_for(lambda: loudness(listen) > -30, timeout=60, what="the tone again after the gap")

        # It never runs past its end: the relay ends, the session ends, the mount goes away.
        view = wait_for(lambda: (v := relay_view(client, auth, rid))["state"] != "running" and v,
                        timeout=60, what="the relay's end")
        assert (view["state"], view["reason"]) == ("ended", "reached its end time")
        wait_for(lambda: "/relay-" not in " ".join(ctl.streams_server.managed.status()["mounts"]),
                 timeout=20, what="the relay mount gone")
        assert [d["speaker_id"] for d in view["deliveries"]] == ["spk-a", "spk-b"]
    finally:
        stop_push(station)


def test_silent_station_switches_to_the_backup_and_back(running, icecast, tmp_path):
    ctl, client, auth, inbox = running
    main = push(icecast, "/tinh-main", SILENCE, tmp_path)
    backup = push(icecast, "/tinh-backup", TONE, tmp_path)
    try:
        icecast.wait_mount("/tinh-main")
        icecast.wait_mount("/tinh-backup")
        src = add_source(client, auth, icecast, "Đài tỉnh", "/tinh-main", "/tinh-backup")
        r = client.post("/api/v1/relays", headers=auth,
                        json={"source_id": src, "targets": {"speakers": ["spk-c"]},
                              "duration_s": 120})
        rid = r.get_json()["id"]
        c = play_commands(inbox, 1)["spk-c"]
        listen = f"{c.stream.url}&token={c.stream.token}"

        def events():
            return [e["event"] for e in relay_view(client, auth, rid)["events"]]

        wait_for(lambda: "backup" in events(), timeout=40, what="the switch to the backup")
        wait_for(lambda: loudness(listen) > -30, timeout=60, what="the backup's tone on the mount")
        gap = wait_for(lambda: [g for g in relay_view(client, auth, rid)["gaps"] if g["ended_at"]],
                       timeout=30, what="the silence gap closed by the backup's sound")[0]
        assert "silence on the main source" in gap["reason"] and "backup" in gap["reason"]

        # The main station has sound again: the relay goes back to it.
        stop_push(main)
        main = push(icecast, "/tinh-main", TONE, tmp_path)
        wait_for(lambda: "main" in events(), timeout=60, what="the switch back to the main source")

        r = client.post(f"/api/v1/relays/{rid}/stop", headers=auth)
        assert r.status_code == 200 and r.get_json()["state"] == "stopped"
        stop = inbox.get(timeout=30)
        while stop.type != "stop":
            stop = inbox.get(timeout=30)
        assert stop.session_id == c.stream.session_id
        assert client.post(f"/api/v1/relays/{rid}/stop", headers=auth).status_code == 409
    finally:
        stop_push(main)
        stop_push(backup)
