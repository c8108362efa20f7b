"""Relays (tiếp sóng) end to end on the controller side: real Mosquitto, real Icecast, real ffmpeg.

The fake upstream stations are lavfi tones pushed to a second Icecast (the session's open
one). The controller pulls each once, re-encodes and pushes it to the relay's mount; a paho
client stands in for the agents (it receives the signed play_stream commands), and an ffmpeg
listener with a speaker's token hears what the speakers would. An upstream outage, dead
air, a dead speaker network and a controller killed -9, with real agents, are in
test_relay_faults.py.
"""

from __future__ import annotations

import dataclasses
import queue
import re
import subprocess

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from controller.app import create_app
from controller.runtime import Controller
from controller.server import WebServer
from controller.services import registry, users
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
