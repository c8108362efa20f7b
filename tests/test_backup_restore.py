"""Backup while the controller ingests acks, restore elsewhere, run a controller on the restored
data: the database is sound, every audio file matches its hash, and the old install's agent
accepts the restored controller's signed commands and plays."""

from __future__ import annotations

import os
import threading

import pytest

from controller import backup
from protocol.digest import sha256_file
from tests.support.processes import BIN, Api, Proc, cli, free_port, wait_for

pytestmark = pytest.mark.process


def _all_played(api, bid):
    b = api.broadcast(bid)
    return b if b["deliveries"] and all(d["state"] == "played" for d in b["deliveries"]) else None


def test_backup_during_ingest_restores_to_a_working_controller(tmp_path):
    pg = os.environ.get("COMMUNE_RADIO_TEST_DB")
    if pg:
        from tests.support.controller import fresh_db_url

        fresh_db_url(tmp_path)  # empties the test database
    db_env = {"COMMUNE_RADIO_DATABASE_URL": pg} if pg else {}
    env = {"COMMUNE_RADIO_TTS_ENGINES": "espeak", "COMMUNE_RADIO_BROKER_PORT": str(free_port()), **db_env}
    data = tmp_path / "data"
    cli(data, "speaker", "add", "spk-a", "--hamlet", "Ấp 1", "--out", str(tmp_path / "agent.toml"),
        "--player", "file", "--agent-data", str(tmp_path / "agent"), "--sink-dir", str(tmp_path / "sink"),
        env=env)
    cli(data, "user", "add", "chu-tich", "--role", "admin", env=env)
    token = cli(data, "user", "token", "chu-tich", env=env).strip().splitlines()[-1]
    port = free_port()
    ctl = Proc([str(BIN / "commune-radio"), "serve", "--data", str(data), "--port", str(port)],
               tmp_path / "controller.log", env).start()
    agent = Proc([str(BIN / "speaker-agent"), "--config", str(tmp_path / "agent.toml")],
                 tmp_path / "agent.log")
    try:
        api = Api(f"http://127.0.0.1:{port}", token)
        wait_for(api.up, what="controller web")
        agent.start()
        wait_for(lambda: api.speakers()["spk-a"]["online"], what="speaker online")
        ids = []

        def send(n):
            for i in range(n):
                status, body = api.call("POST", "/api/v1/broadcasts", {
                    "text": f"Thông báo số {i + 1}.", "targets": {"all": True}})
                assert status == 201, body
                ids.append(body["id"])

        send(1)
        # Its audio is in the store once its speech is no longer `rendering` (made on the
        # render pool after the POST answered); its acks are then ingested during the backup.
        wait_for(lambda: all(d["state"] != "rendering" for d in api.broadcast(ids[0])["deliveries"]),
                 what="the first broadcast's speech ready")
        sender = threading.Thread(target=send, args=(3,))
        sender.start()  # acks are being ingested while the backup runs
        out = cli(data, "backup", "--out", str(tmp_path / "b.tar.gz"), env=env)
        sender.join()
        assert "backup written" in out
        for bid in ids:
            wait_for(lambda bid=bid: _all_played(api, bid), timeout=120, what=f"broadcast {bid} played")
        ctl.stop()

        restored = tmp_path / "restored"
        args = ["--database-url", pg, "--force"] if pg else []
        cli(restored, "restore", str(tmp_path / "b.tar.gz"), *args)
        if not pg:
            assert backup.check_sqlite(restored / "controller.db") == "ok"
        audio = [p for p in (restored / "audio").rglob("*") if p.is_file()]
        assert audio and all(sha256_file(p) == p.stem for p in audio)

        port2 = free_port()
        ctl = Proc([str(BIN / "commune-radio"), "serve", "--data", str(restored), "--port", str(port2)],
                   tmp_path / "restored.log", env).start()
        api2 = Api(f"http://127.0.0.1:{port2}", token)  # the API token came back with the database
        wait_for(api2.up, what="restored controller web")
        before = api2.broadcast(ids[0])  # taken before the backup started: it is in the copy
        assert [d["speaker_id"] for d in before["deliveries"]] == ["spk-a"]
        wait_for(lambda: api2.speakers()["spk-a"]["online"], timeout=60,
                 what="the old agent on the restored controller")
        status, body = api2.call("POST", "/api/v1/broadcasts", {"text": "Sau khi phục hồi.",
                                                                "targets": {"all": True}})
        assert status == 201, body
        b = wait_for(lambda: _all_played(api2, body["id"]), timeout=120, what="played after restore")
        assert (tmp_path / "sink" / f"{b['deliveries'][0]['command_id']}.wav").exists()
    finally:
        agent.stop()
        ctl.stop()
