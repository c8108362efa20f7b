"""Live sessions through /api/v1/live: who may go live, bad input, a second session refused
naming its holder, browser chunks heard on the mount, a closed tab, and an external encoder
pushing with the credentials the API shows. Real Icecast and ffmpeg; no agents needed."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import sqlalchemy as sa

from controller.models import AuditEvent
from controller.services import registry
from controller.stream_models import StreamSession
from tests.support.icecast import push_tone, stop_push
from tests.support.live_audio import Ear, Mouth, chirp_train, find_chirps
from tests.support.processes import wait_for

MY_AN, MY_HOA = "Ấp Mỹ An", "Ấp Mỹ Hòa"


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def add_fleet(controller):
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", MY_AN)
        registry.add_speaker(s, "spk-2", MY_AN)
        registry.add_speaker(s, "spk-3", MY_HOA)


@pytest.fixture
def fleet(controller):
    add_fleet(controller)


def test_only_admins_and_approvers_go_live_and_a_second_session_names_the_holder(
        client, controller, fleet, token_for):
    editor, viewer = token_for("editor"), token_for("viewer")
    approver, admin = token_for("approver", "chu-tich"), token_for("admin", "pho-chu-tich")
    body = {"targets": {"hamlets": [MY_AN]}}
    assert client.post("/api/v1/live", json=body, headers=auth(editor)).status_code == 403
    assert client.post("/api/v1/live", json=body, headers=auth(viewer)).status_code == 403
    for bad, status, words in [({}, 400, "targets"), ({"targets": {"hamlets": ["Ấp Không Có"]}}, 404,
                                                      "Ấp Không Có"),
                               ({"targets": {"hamlets": [MY_AN]}, "title": 5}, 400, "title")]:
        r = client.post("/api/v1/live", json=bad, headers=auth(admin))
        assert r.status_code == status and words in r.json["message"], r.json
    with controller.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(StreamSession)) == 0

    r = client.post("/api/v1/live", json=body, headers=auth(approver))
    assert r.status_code == 201, r.json
    live_id, ingest = r.json["id"], r.json["ingest"]
    assert ingest["chunk_url"].startswith("http://")
    assert f"/api/v1/live/{live_id}/chunks" in ingest["chunk_url"]
    ice = ingest["icecast"]
    assert ice["mount"] == f"/live-{live_id}" and ice["port"] and ice["host"] and ice["password"]

    # the same hamlet again, from someone else: refused, naming who holds it
    r = client.post("/api/v1/live", json={"targets": {"speakers": ["spk-2", "spk-3"]}},
                    headers=auth(admin))
    assert r.status_code == 409
    assert "chu-tich" in r.json["message"] and MY_AN in r.json["message"]
    assert r.json["holder"] == "chu-tich"
    other = client.post("/api/v1/live", json={"targets": {"hamlets": [MY_HOA]}}, headers=auth(admin))
    assert other.status_code == 201

    view = client.get(f"/api/v1/live/{live_id}", headers=auth(viewer)).json
    assert view["id"] == live_id and view["state"] == "active"
    assert [(d["speaker_id"], d["aired_s"]) for d in view["deliveries"]] == [("spk-1", 0), ("spk-2", 0)]
    assert client.post(f"/api/v1/live/{live_id}/stop", headers=auth(editor)).status_code == 403

    # chunks need the session's key and a sequence number
    url = ingest["chunk_url"].split("/api/v1")[1]
    path = "/api/v1" + url.replace("key=", "key=x")
    assert client.post(path + "&seq=0", data=b"x").status_code == 403
    assert client.post("/api/v1" + url, data=b"x").status_code == 400

    stopped = client.post(f"/api/v1/live/{live_id}/stop", headers=auth(approver)).json
    assert stopped["state"] == "ended" and stopped["end_reason"] == "stopped"
    assert client.post("/api/v1" + url + "&seq=0", data=b"x").status_code == 409
    again = client.post("/api/v1/live", json=body, headers=auth(admin))
    assert again.status_code == 201
    with controller.db.session() as s:
        ended = s.scalar(sa.select(AuditEvent).where(AuditEvent.action == "live_ended"))
        assert ended.actor == "chu-tich" and "duration_s" in ended.detail and "spk-1" in ended.detail
        assert s.scalar(sa.select(AuditEvent).where(AuditEvent.action == "live_targets")).detail \
            .startswith(f"hamlets: {MY_AN}")


@pytest.fixture
def on_air(tmp_path, icecast):
    """A controller using the session's Icecast (open mounts) with short live timeouts."""
    from controller.app import create_app
    from controller.config import load
    from controller.runtime import Controller
    from controller.services import live, users
    from tests.support.controller import fresh_db_url

    settings = load(tmp_path / "data", database_url=fresh_db_url(tmp_path), tts_engines="espeak",
                    run_scheduler=False, stream_url=f"http://127.0.0.1:{icecast.port}",
                    stream_source_password=icecast.source_password, live_idle_s=2,
                    live_source_grace_s=2)
    ctl = Controller(settings)
    add_fleet(ctl)
    with ctl.db.session() as s:
        users.add_user(s, "chu-tich", "approver")
        token = users.new_token(s, "chu-tich")
    live.watch(ctl).start(interval_s=0.25)
    app = create_app(controller=ctl)
    yield ctl, app, token
    ctl.stop()


def _state(client, token, live_id):
    return client.get(f"/api/v1/live/{live_id}", headers=auth(token)).json


@pytest.mark.process
def test_browser_chunks_are_heard_on_the_mount_and_a_closed_tab_ends_the_session(on_air, icecast):
    ctl, app, token = on_air
    client = app.test_client()
    r = client.post("/api/v1/live", json={"targets": {"hamlets": [MY_AN]}}, headers=auth(token))
    live_id, ingest = r.json["id"], r.json["ingest"]
    chunk_path = "/api/v1" + ingest["chunk_url"].split("/api/v1")[1]
    poster = app.test_client()
    answers: list[int] = []

    def send(seq: int, data: bytes) -> None:
        answers.append(poster.post(f"{chunk_path}&seq={seq}", data=data,
                                   content_type="application/octet-stream").status_code)

    pcm, onsets = chirp_train(seconds=5, period=1.0, lead=1.5)
    # The chirps are spoken only once the listener hears the mount: Icecast sends a listener
    # only what arrives after it joined, and on a loaded machine the mount and the listener
    # took longer than the lead to come up (it then heard 0-1 of the 3 chirps).
    listening = threading.Event()
    mouth = Mouth(pcm, send, hold=listening)
    speaking = threading.Thread(target=mouth.run)
    speaking.start()
    try:
        icecast.wait_mount(ingest["icecast"]["mount"])
        ear = Ear(icecast.listen_url(ingest["icecast"]["mount"])).start()
        wait_for(lambda: ear.blocks, timeout=30, what="the listener to receive the mount")
    finally:
        listening.set()
        speaking.join()
    # the tab is closed: chunks stop; the session ends by itself and nothing stays live
    wait_for(lambda: _state(client, token, live_id)["state"] == "ended", timeout=30,
             what="the live session to end after the chunks stopped")
    ear.stop()
    assert set(answers) == {200}
    assert _state(client, token, live_id)["end_reason"] == "browser_gone"
    x, _ = ear.samples()
    # the listener was on the mount before the first chirp: it hears every one
    assert len(find_chirps(x)) == len(onsets), "a listener on the mount did not hear the chirps"
    wait_for(lambda: ingest["icecast"]["mount"] not in icecast.mounts(), timeout=20,
             what="the mount to lose its source")


@pytest.mark.process
def test_an_external_encoder_pushes_with_the_shown_credentials(on_air, icecast, tmp_path):
    ctl, app, token = on_air
    client = app.test_client()
    r = client.post("/api/v1/live", json={"targets": {"hamlets": [MY_HOA]}}, headers=auth(token))
    live_id = r.json["id"]
    ice = client.get(f"/api/v1/live/{live_id}/ingest", headers=auth(token)).json["icecast"]
    url = f"icecast://{ice['username']}:{ice['password']}@{ice['host']}:{ice['port']}{ice['mount']}"
    pusher = push_tone(url, freq=880, log=tmp_path / "encoder.log")
    try:
        icecast.wait_mount(ice["mount"])
        ear = Ear(icecast.listen_url(ice["mount"])).start()
        wait_for(lambda: len(ear.blocks) > 50, timeout=20, what="audio from the encoder")
        ear.stop()
        assert _state(client, token, live_id)["state"] == "active"
    finally:
        stop_push(pusher)
    x, _ = ear.samples()
    assert float(np.sqrt(np.mean(x[-8000:] ** 2))) > 0.05, "the listener heard silence"
    # the mixer PC goes away for longer than the grace period: the session ends
    wait_for(lambda: _state(client, token, live_id)["state"] == "ended", timeout=30,
             what="the session to end after the encoder left")
    assert _state(client, token, live_id)["end_reason"] == "source_lost"


@pytest.mark.process
def test_an_encoder_that_dies_mid_speech_is_started_again_and_the_voice_comes_back(on_air, icecast):
    ctl, app, token = on_air
    client = app.test_client()
    r = client.post("/api/v1/live", json={"targets": {"hamlets": [MY_AN]}}, headers=auth(token))
    live_id, ingest = r.json["id"], r.json["ingest"]
    mount, chunk_path = ingest["icecast"]["mount"], "/api/v1" + ingest["chunk_url"].split("/api/v1")[1]
    poster = app.test_client()
    mouth = Mouth(chirp_train(seconds=8, period=0.8, lead=0.5)[0], lambda seq, data: poster.post(
        f"{chunk_path}&seq={seq}", data=data, content_type="application/octet-stream"))
    speaking = threading.Thread(target=mouth.run)
    speaking.start()
    icecast.wait_mount(mount)
    ctl.live._lives[live_id].encoder._proc.kill()  # as if Icecast had dropped the source
    wait_for(lambda: ctl.live._lives[live_id].restarts >= 1, timeout=20, what="a new encoder")
    icecast.wait_mount(mount)
    assert _state(client, token, live_id)["state"] == "active"  # the speakers never noticed
    ear = Ear(icecast.listen_url(mount)).start()
    speaking.join()
    ear.stop()
    assert len(find_chirps(ear.samples()[0])) >= 2, "no voice after the encoder was restarted"
