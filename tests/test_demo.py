"""`commune-radio demo` as `make run` starts it: from the working directory, with the default
relative data folder (./instance) or a relative --data, a broadcast is heard in the sink."""

from __future__ import annotations

import re

import pytest

from tests.support.processes import BIN, Api, Proc, cli, free_port, wait_for

pytestmark = pytest.mark.process


@pytest.mark.parametrize("data_args, data_rel", [([], "instance"), (["--data", "rel/data"], "rel/data")],
                         ids=["default-instance", "relative-data"])
def test_demo_with_a_relative_data_folder_plays(tmp_path, data_args, data_rel):
    from tests.support.controller import fresh_db_url

    env = {"COMMUNE_RADIO_BROKER_PORT": str(free_port()),
           "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp_path)}
    port = free_port()
    demo = Proc([str(BIN / "commune-radio"), "demo", *data_args, "--speakers", "2", "--port", str(port)],
                tmp_path / "demo.log", env)
    demo.cwd = tmp_path  # what `make run` does: the data folder is relative to the checkout
    demo.start()
    try:
        wait_for(lambda: "Press Ctrl-C" in demo.output(), timeout=90, what="the demo's banner")
        assert re.search(rf"Web page:\s+http://127\.0\.0\.1:{port}/", demo.output())
        # The demo runs Icecast and says how to push a live test with ffmpeg.
        assert re.search(r"-f ogg icecast://source:\S+@127\.0\.0\.1:\d+/live-N", demo.output())
        data = tmp_path / data_rel
        token = cli(data, "user", "token", "admin", env=env).strip().splitlines()[-1]
        api = Api(f"http://127.0.0.1:{port}", token)
        wait_for(lambda: all(s["online"] for s in api.speakers().values()), what="2 speakers online")
        status, body = api.call("POST", "/api/v1/broadcasts", {
            "text": "Thông báo thử loa ấp một.", "targets": {"hamlets": ["Ấp 1"]}})
        assert status == 201, body

        def played():
            b = api.broadcast(body["id"])
            return b if all(d["state"] == "played" for d in b["deliveries"]) else None

        b = wait_for(played, timeout=90, what="the demo speaker played")
        (d,) = b["deliveries"]
        wav = data / "demo" / "sink" / d["speaker_id"] / f"{d['command_id']}.wav"
        assert wav.stat().st_size > 10_000, "the sink holds the decoded announcement"
        assert not list((data / "demo" / "sink" / "ap-2").glob("*.wav"))
    finally:
        demo.stop()
