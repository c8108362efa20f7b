"""The walking skeleton, end to end with real processes: controller + managed Mosquitto +
three speaker agents with file sinks, one Vietnamese announcement to two of them."""

from __future__ import annotations

import pytest

from tests.support.processes import BIN, Api, Proc, cli, ffprobe_duration_s, free_port, wait_for

pytestmark = pytest.mark.process
TEXT = ("Ủy ban nhân dân xã Mỹ Hòa Hưng thông báo: ngày 02/12/2026, lúc 7h30, "
        "tổ chức tiêm vắc xin cho trẻ em dưới 5 tuổi tại trạm y tế xã. "
        "Đề nghị các gia đình đưa trẻ đến đúng giờ.")


@pytest.fixture
def system(tmp_path):
    """Data dir with three registered speakers, a running controller and three agents."""
    from tests.support.controller import fresh_db_url

    data = tmp_path / "data"
    env = {"COMMUNE_RADIO_TTS_ENGINES": "espeak", "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp_path),
           "COMMUNE_RADIO_BROKER_PORT": str(free_port())}
    hamlets = {"spk-a": "Ấp Mỹ An", "spk-b": "Ấp Mỹ Hòa", "spk-c": "Ấp Mỹ Phú"}
    for sid, hamlet in hamlets.items():
        cli(data, "speaker", "add", sid, "--hamlet", hamlet, "--out", str(tmp_path / f"{sid}.toml"),
            "--player", "file", "--agent-data", str(tmp_path / "agents" / sid),
            "--sink-dir", str(tmp_path / "sink" / sid), env=env)
    cli(data, "user", "add", "chu-tich", "--role", "admin", env=env)
    token = cli(data, "user", "token", "chu-tich", env=env).strip().splitlines()[-1]
    port = free_port()
    ctl = Proc([str(BIN / "commune-radio"), "serve", "--data", str(data), "--port", str(port)],
               tmp_path / "logs" / "controller.log", env).start()
    api = Api(f"http://127.0.0.1:{port}", token)
    wait_for(api.up, what="controller web")
    agents = {sid: Proc([str(BIN / "speaker-agent"), "--config", str(tmp_path / f"{sid}.toml")],
                        tmp_path / "logs" / f"{sid}.log").start() for sid in hamlets}
    yield {"api": api, "agents": agents, "tmp": tmp_path, "hamlets": hamlets, "ctl": ctl}
    for a in agents.values():
        a.stop()
    ctl.stop()


def test_announcement_plays_on_chosen_hamlets_only(system):
    api, tmp = system["api"], system["tmp"]
    wait_for(lambda: all(s["online"] for s in api.speakers().values()), what="3 speakers online")
    status, body = api.call("POST", "/api/v1/broadcasts", {
        "text": TEXT, "targets": {"hamlets": ["Ấp Mỹ An", "Ấp Mỹ Hòa"]}})
    assert status == 201, body
    bid = body["id"]

    def all_played():
        b = api.broadcast(bid)
        return b if all(d["state"] == "played" for d in b["deliveries"]) else None

    b = wait_for(all_played, timeout=120, what="both deliveries played")
    assert sorted(d["speaker_id"] for d in b["deliveries"]) == ["spk-a", "spk-b"]
    for d in b["deliveries"]:
        events = [e["event"] for e in d["events"]]
        for step in ("rendering", "queued", "sent", "received", "downloaded", "playing", "played"):
            assert step in events, (d["speaker_id"], events)
        wav = tmp / "sink" / d["speaker_id"] / f"{d['command_id']}.wav"
        assert wav.exists(), f"{wav} missing"
        expected = b["duration_ms"] / 1000
        assert abs(ffprobe_duration_s(wav) - expected) <= 0.1 * expected
    # The third speaker got nothing.
    assert not list((tmp / "sink" / "spk-c").glob("*.wav"))


def test_killed_agent_goes_offline_and_comes_back(system):
    api = system["api"]
    wait_for(lambda: all(s["online"] for s in api.speakers().values()), what="3 speakers online")
    agent = system["agents"]["spk-b"]
    agent.kill9()
    # Keepalive is 10 s; the broker publishes the last will after 1.5x that.
    wait_for(lambda: not api.speakers()["spk-b"]["online"], timeout=40, what="spk-b offline")
    assert api.speakers()["spk-a"]["online"]
    agent.start()
    wait_for(lambda: api.speakers()["spk-b"]["online"], timeout=40, what="spk-b online again")
