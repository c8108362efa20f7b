"""Stream player: time from starting the agent's ffmpeg to the first decoded audio, per format.

Starts a real Icecast (the project's managed config), pushes an ffmpeg lavfi tone to
one mount per format, then runs the agent's own stream player (file sink) against each
mount --runs times. "Connect to sound" is the time from starting ffmpeg until it
reports decoded audio (`out_time_us` > 0 on -progress), which is when the agent acks
`stream_playing`. It shows why the agent names the container when the mount's
extension allows it: MP3 probing waits for many small frames.

    .venv/bin/python -m bench.stream_connect [--runs 5] [--write]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from bench.common import machine, ms, replace_section, summary, table
from speaker_agent.config import StreamSettings
from speaker_agent.stream_player import FileSinkStreamPlayer
from tests.support.icecast import TestIcecast, push_tone, stop_push

CASES = [  # (label, mount, codec, input_format)
    ("MP3, container from Content-Type (default)", "/bench-mp3", "mp3", "auto"),
    ("MP3, probed by ffmpeg (`input_format = \"probe\"`)", "/bench-mp3", "mp3", "probe"),
    ("Opus in Ogg, container from Content-Type (default)", "/bench-ogg", "opus", "auto"),
    ("Opus in Ogg, probed by ffmpeg", "/bench-ogg", "opus", "probe"),
]


def connect_time(player: FileSinkStreamPlayer, url: str, session: str) -> float:
    """Seconds from starting ffmpeg to decoded audio; the connection is closed at once."""
    flowing = threading.Event()
    started = time.monotonic()
    at: list[float] = []

    def on_flowing() -> None:
        at.append(time.monotonic() - started)
        flowing.set()
        player.interrupt()

    worker = threading.Thread(target=player.play, args=(url, session, 80, on_flowing))
    worker.start()
    if not flowing.wait(30):
        player.interrupt()
    worker.join(30)
    return at[0] if at else float("nan")


def measure(runs: int) -> list[list]:
    """One table row per case."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        ice = TestIcecast(Path(tmp) / "icecast").start()
        pushers = {}
        try:
            for _, mount, codec, _ in CASES:
                if mount not in pushers:
                    pushers[mount] = push_tone(ice.source_url(mount), freq=440, codec=codec)
                    ice.wait_mount(mount)
            for label, mount, _, fmt in CASES:
                player = FileSinkStreamPlayer(StreamSettings(input_format=fmt), Path(tmp) / "sink")
                times = [connect_time(player, ice.listen_url(mount), f"run{i}") for i in range(runs)]
                s = summary(times)
                rows.append([label, s["n"], ms(s["p50"]), ms(s["max"])])
        finally:
            for p in pushers.values():
                stop_push(p)
            ice.stop()
    return rows


def main() -> None:
    """Measure and print (and with --write, record in docs/benchmarks.md)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--write", action="store_true", help="replace the section in docs/benchmarks.md")
    args = p.parse_args()
    rows = measure(args.runs)
    body = f"""Time from starting the speaker agent's stream player (ffmpeg `-fflags nobuffer -flags
low_delay`, file sink) to its first decoded audio, against a real Icecast on loopback fed
by an ffmpeg tone at 32 kbps (burst-size 0). This is the agent's share of the delay when
a session starts or comes back after a drop or a preemption; it is what `stream_playing`
waits for.

Command:

```
.venv/bin/python -m bench.stream_connect --runs {args.runs} --write
```

Measured on {machine()}:

{table(["stream", "runs", "p50", "max"], rows)}

Naming the container skips ffmpeg's format probe: for MP3 at 32 kbps the probe waits for
seconds of small frames, so the agent opens the connection itself and names the
container from the server's Content-Type (`stream.input_format = "auto"`); Ogg is
recognised from its first page either way. The rest is ffmpeg's start-up and the first
0.5 s progress report.
"""
    print(body)
    if args.write:
        replace_section("Stream player: connect to sound", body)


if __name__ == "__main__":
    main()
