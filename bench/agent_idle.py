"""Idle footprint of one `speaker-agent` process: RSS and CPU over a quiet window.

Starts a real Mosquitto (the tests' generated config) and one agent with the file
sink and a mock relay, lets it settle, plays one short announcement so every code
path (download, ffmpeg, relay) has been loaded, then samples /proc for --seconds.
Goal (issue 5): idle RSS <= 40 MB, idle CPU <= 1 %.

    .venv/bin/python -m bench.agent_idle [--seconds 60] [--write]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import machine, replace_section, table
from tests.support.agent_proc import AgentProcess
from tests.support.broker import TestBroker
from tests.support.fake_controller import FakeController
from tests.support.media_server import MediaServer

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS and its anonymous/file parts, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def measure(seconds: float) -> dict:
    """Run the agent, warm it with one playback, then sample its idle RSS and CPU."""
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        root = Path(tmp)
        broker = TestBroker(root / "broker").start()
        media = MediaServer()
        ctl = FakeController(broker)
        agent = AgentProcess(root, "ap-1", broker, [ctl.public_key], health={"heartbeat_s": 30},
                             relay={"idle_off_s": 1.0})
        try:
            mp3 = root / "tone.mp3"
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                            "sine=frequency=440:duration=1", "-ac", "1", "-y", str(mp3)], check=True)
            m = media.add("tone.mp3", mp3.read_bytes(), 1000)
            agent.start()
            ctl.wait_state("ap-1", lambda s: s.online, timeout=30)
            cmd = ctl.send(ctl.command("ap-1", media=m))
            ctl.wait_ack(cmd.id, "played", timeout=60)
            time.sleep(3)  # relay idle-off and any follow-up state message
            pid = agent.proc.pid
            c0, t0 = cpu_seconds(pid), time.monotonic()
            samples = []
            while time.monotonic() - t0 < seconds:
                samples.append(rss_kb(pid)["VmRSS"])
                time.sleep(1)
            c1, t1 = cpu_seconds(pid), time.monotonic()
            final = rss_kb(pid)
            return {"seconds": t1 - t0, "cpu_pct": 100 * (c1 - c0) / (t1 - t0),
                    "cpu_s": c1 - c0, "rss_max_kb": max(samples), "rss_kb": final}
        finally:
            agent.stop()
            ctl.close()
            media.close()
            broker.stop()


def main() -> None:
    """Measure and print (and with --write, record in docs/benchmarks.md)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--write", action="store_true", help="replace the section in docs/benchmarks.md")
    args = p.parse_args()
    r = measure(args.seconds)
    rss = r["rss_kb"]
    rows = [
        ["idle RSS (max over window)", f"{r['rss_max_kb'] / 1024:.1f} MB", "≤ 40 MB"],
        ["  of which anonymous / file-backed",
         f"{rss['RssAnon'] / 1024:.1f} / {rss['RssFile'] / 1024:.1f} MB", ""],
        ["peak RSS since start (VmHWM)", f"{rss['VmHWM'] / 1024:.1f} MB", ""],
        ["idle CPU", f"{r['cpu_pct']:.2f} % ({r['cpu_s']:.2f} s in {r['seconds']:.0f} s)", "≤ 1 %"],
    ]
    body = f"""One `speaker-agent` process (file sink, mock relay, heartbeat every 30 s) connected to
a real Mosquitto, after it has played one announcement, then left idle. RSS from
`/proc/<pid>/status`, CPU from utime+stime in `/proc/<pid>/stat`.

Command:

```
.venv/bin/python -m bench.agent_idle --seconds {args.seconds:.0f} --write
```

Measured on {machine()}:

{table(["figure", "value", "goal"], rows)}

Where the memory goes: the Python interpreter with the agent's imports alone is ~36 MB
here (paho-mqtt pulls in `ssl`, and `cryptography` carries its own OpenSSL, so two
TLS libraries are mapped). The file-backed part is shared libraries and is shared with
any other Python process on the Pi; the anonymous part is the agent's own. Idle CPU is
the play loop waking every 30 s, paho's keepalive ping and the 30 s heartbeat. An
aarch64 Pi will differ somewhat; run the command there to check.
"""
    print(body)
    if args.write:
        replace_section("Speaker agent", body)


if __name__ == "__main__":
    main()
