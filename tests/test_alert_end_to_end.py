"""Public warnings through the real system: controller + managed Mosquitto + three agents with
file sinks, a warning authority's feed on loopback, and an alert source posting to the API.

The flood warning (Severe, Immediate) must air at once on the two hamlets its polygons cover,
and only there; a Test alert on the feed must not air; the Cancel read from the feed must stop
the speakers mid-air and cancel the repeats.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest

from controller.models import utcnow
from tests.alerts import fixtures as fx
from tests.alerts.feed_server import FeedServer
from tests.support.processes import BIN, Api, Proc, free_port, wait_for

pytestmark = pytest.mark.process
# Long enough (about 40 s spoken) that the Cancel arrives while it plays.
LONG = ("Mực nước sông Hậu tại Châu Đốc đang lên nhanh, vượt báo động ba. " * 5).strip()
HAMLETS = {"spk-a": "Ấp Mỹ An", "spk-b": "Ấp Mỹ Hòa", "spk-c": "Ấp Mỹ Thới"}


def box(lat1, lon1, lat2, lon2) -> str:
    ring = [[lon1, lat1], [lon2, lat1], [lon2, lat2], [lon1, lat2], [lon1, lat1]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def post_cap(base: str, token: str, doc: bytes) -> dict:
    req = urllib.request.Request(base + "/api/v1/alerts", data=doc, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/cap+xml"})
    with urllib.request.urlopen(req, timeout=120) as r:  # noqa: S310 - loopback
        return json.loads(r.read())


@pytest.fixture
def system(tmp_path):
    from tests.support.controller import fresh_db_url

    feed = FeedServer().__enter__()
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.toml").write_text(
        '[alerts]\ncommune_geocodes = ["89"]\nrepeat_minutes = 30\n'
        f'[[alerts.feeds]]\nname = "kttv"\nurl = "{feed.base}/atom.xml"\ninterval_s = 5\n'
        "timeout_s = 5\n", encoding="utf-8")
    env = {"COMMUNE_RADIO_TTS_ENGINES": "espeak", "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp_path),
           "COMMUNE_RADIO_BROKER_PORT": str(free_port())}
    def run(*args: str) -> str:
        # In this process (click's runner): ten commands cost one interpreter start, not ten.
        from click.testing import CliRunner

        from controller.cli import main

        result = CliRunner().invoke(main, [*args[:2], "--data", str(data), *args[2:]], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    for sid, hamlet in HAMLETS.items():
        run("speaker", "add", sid, "--hamlet", hamlet, "--out", str(tmp_path / f"{sid}.toml"),
            "--player", "file", "--agent-data", str(tmp_path / "agents" / sid),
            "--sink-dir", str(tmp_path / "sink" / sid))
        (tmp_path / f"{sid}.geojson").write_text(box(*fx.HAMLET_BOXES[hamlet]), encoding="utf-8")
        run("hamlet", "area", hamlet, "--polygon", str(tmp_path / f"{sid}.geojson"))
    run("user", "add", "kttv", "--role", "alert-source")
    source = run("user", "token", "kttv").strip().splitlines()[-1]
    run("user", "add", "chu-tich", "--role", "admin")
    token = run("user", "token", "chu-tich").strip().splitlines()[-1]
    port = free_port()
    ctl = Proc([str(BIN / "commune-radio"), "serve", "--data", str(data), "--port", str(port)],
               tmp_path / "logs" / "controller.log", env).start()
    api = Api(f"http://127.0.0.1:{port}", token)
    wait_for(api.up, what="controller web")
    agents = {sid: Proc([str(BIN / "speaker-agent"), "--config", str(tmp_path / f"{sid}.toml")],
                        tmp_path / "logs" / f"{sid}.log").start() for sid in HAMLETS}
    yield {"api": api, "source": source, "feed": feed, "tmp": tmp_path}
    for a in agents.values():
        a.stop()
    ctl.stop()
    feed.__exit__(None, None, None)


def alerts(api) -> dict[str, dict]:
    return {a["identifier"]: a for a in api.call("GET", "/api/v1/alerts")[1]["alerts"]}


def test_a_flood_warning_airs_where_it_should_and_a_cancel_stops_it(system):
    api, feed, tmp = system["api"], system["feed"], system["tmp"]
    wait_for(lambda: all(s["online"] for s in api.speakers().values()), what="3 speakers online")
    now = utcnow()
    feed.publish("/cap/test.xml", fx.flood(now, identifier="AG-TEST-1").replace(
        b"<status>Actual", b"<status>Test"))
    posted = post_cap(api.base, system["source"], fx.flood(now, description=LONG))
    assert posted["action"] == "emergency", posted
    bid = posted["broadcast_ids"][0]

    def playing():
        b = api.broadcast(bid)
        return b if all(d["state"] == "playing" for d in b["deliveries"]) else None

    b = wait_for(playing, timeout=90, what="the flood warning playing on both hamlets")
    assert sorted(d["speaker_id"] for d in b["deliveries"]) == ["spk-a", "spk-b"]
    assert b["priority"] == "emergency"
    feed.publish("/cap/cancel.xml", fx.cancel(now + timedelta(seconds=1), "AG-LU-001", now))

    def stopped():
        b = api.broadcast(bid)
        return b if all(d["state"] == "stopped" for d in b["deliveries"]) else None

    wait_for(stopped, timeout=60, what="both speakers stopped by the Cancel")
    log = wait_for(lambda: (lambda a: a if "AG-TEST-1" in a else None)(alerts(api)), what="test alert")
    assert log["AG-TEST-1"]["action"] == "test" and log["AG-TEST-1"]["broadcast_ids"] == []
    assert log["AG-LU-001-HUY"]["action"] == "cancel"
    assert log["AG-LU-001"]["state"] == "cancelled"
    status, sch = api.call("GET", f"/api/v1/schedules/{posted['schedule_id']}")
    assert status == 200 and sch["status"] == "cancelled"
    # The hamlet outside the polygons heard nothing.
    assert not list((tmp / "sink" / "spk-c").glob("*.wav"))
