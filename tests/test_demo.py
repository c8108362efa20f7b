"""`commune-radio demo` as `make run` starts it: from the working directory, with the default
relative data folder (./instance) or a relative --data, a broadcast is heard in the sink."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

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
        assert re.search(r"-f ogg icecast://USERNAME:PASSWORD@127\.0\.0\.1:\d+/live-N", demo.output())
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
        # The agent's own health, as systemd or a technician on the Pi would ask it.
        agent_cfg = data / "demo" / "agents" / "ap-1" / "agent.toml"
        health = subprocess.run([str(BIN / "speaker-agent"), "--config", str(agent_cfg), "--health"],
                                capture_output=True, text=True, timeout=60)
        assert health.returncode == 0 and "connected" in health.stdout, health.stdout + health.stderr
        assert "starting" in (data / "demo" / "logs" / "ap-1.log").read_text()  # its rotated log
        if data_args:
            return
        # Tiếp sóng with no internet: the demo's own station, relayed to Ấp 2 only.
        station = re.search(r"Đài thử nghiệm \(demo\)' \(a beeping tone, id (\d+)\)", demo.output())
        assert station, demo.output()
        status, relay = api.call("POST", "/api/v1/relays", {
            "source_id": int(station.group(1)), "targets": {"hamlets": ["Ấp 2"]}, "duration_s": 60})
        assert status == 201, relay

        def aired():
            r = api.call("GET", f"/api/v1/relays/{relay['id']}")[1]
            return r if r["deliveries"][0]["aired_s"] >= 3 else None

        wait_for(aired, timeout=90, what="the demo station aired on Ấp 2")
        assert api.call("POST", f"/api/v1/relays/{relay['id']}/stop")[0] == 200
        recordings = list((data / "demo" / "sink" / "ap-2").glob("*.wav"))
        assert recordings and max(w.stat().st_size for w in recordings) > 20_000, recordings
        stat = subprocess.run(["sox", str(max(recordings, key=lambda w: w.stat().st_size)), "-n", "stat"],
                              capture_output=True, text=True).stderr
        assert float(re.search(r"RMS\s+amplitude:\s+([\d.]+)", stat).group(1)) > 0.02, \
            "Ấp 2's horn recorded the station's tone, not silence"
        assert [w.name for w in (data / "demo" / "sink" / "ap-1").glob("*.wav")] == [wav.name], \
            "Ấp 1 was not a target of the relay"
    finally:
        demo.stop()


def test_ctrl_c_stops_the_whole_demo_and_every_agent_says_so(tmp_path):
    """Ctrl-C in the terminal (SIGINT to the foreground process group) stops the controller,
    the scheduler, the broker and all nine agents; each agent logs that it stopped."""
    import os
    import signal
    import subprocess
    import time

    from tests.support.controller import fresh_db_url

    env = {**os.environ, "COMMUNE_RADIO_BROKER_PORT": str(free_port()),
           "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp_path)}
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        demo = subprocess.Popen([str(BIN / "commune-radio"), "demo", "--data", "data", "--port",
                                 str(free_port())], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    logs = tmp_path / "data" / "demo" / "logs"
    try:
        wait_for(lambda: "Press Ctrl-C" in log.read_text(), timeout=120, what="the demo's banner")
        agent_logs = [logs / f"ap-{i}.log" for i in range(1, 10)]
        wait_for(lambda: all(p.exists() and "connected to" in p.read_text() for p in agent_logs),
                 timeout=120, what="nine agents connected")
        broker_pid = int((tmp_path / "data" / "broker" / "mosquitto.pid").read_text())
        # A process signal may land on any thread; the agent must stop even when it is not
        # the main one (a bare Event.wait() in the main thread then never ran the handler).
        _signal_a_worker_thread(_agent_pid(tmp_path / "data" / "demo" / "agents" / "ap-1"), signal.SIGTERM)
        wait_for(lambda: "speaker agent ap-1 stopped" in agent_logs[0].read_text(), timeout=60,
                 what="ap-1 stopped on a SIGTERM delivered to a worker thread")
        started = time.monotonic()
        os.killpg(demo.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        wait_for(lambda: demo.poll() is not None, timeout=120, what="the demo exited")
        took = time.monotonic() - started
        print(f"demo with 9 agents stopped {took:.1f} s after SIGINT")  # figure for the report
        assert demo.returncode == 0, log.read_text()[-2000:]
        for p in agent_logs:
            assert re.search(r"speaker agent ap-\d+ stopped", p.read_text()), f"{p.name}: no 'stopped'"
        text = log.read_text()
        assert "Scheduler has been shut down" in text and "demo stopped" in text
        assert not _alive(broker_pid), "the managed broker is still running"
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _agent_pid(agent_dir) -> int:
    """The pid of the agent started with the config in AGENT_DIR."""
    import os

    wanted = str(agent_dir / "agent.toml").encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if wanted in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                return int(pid)
        except OSError:
            continue
    raise AssertionError(f"no agent running with {agent_dir}")


def _signal_a_worker_thread(pid: int, sig: int) -> None:
    """Deliver SIG to one thread of PID that is not its main thread (glibc's tgkill)."""
    import ctypes
    import os

    worker = next(int(t) for t in sorted(os.listdir(f"/proc/{pid}/task")) if int(t) != pid)
    assert ctypes.CDLL(None, use_errno=True).tgkill(pid, worker, sig) == 0
