"""Simulated speakers on a stream mount, and what each one got: admitted, bytes, audio time.

`OggReader` is the cheap one (a thread reading the mount and parsing its Ogg pages);
`PlayerListener` is the speaker agent's own stream player (bench/agent_sink.py).
`quality` turns a listener's (arrival, audio seconds) timeline into the figures a
speaker would notice: gaps and how late the audio came against real time.
"""

from __future__ import annotations

import struct
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.agent_sink import AgentSink, data_offset

UNDERRUN_S = 0.5  # audio this late against real time empties a half-second output buffer
SETTLE_S = 10.0


class OggReader:
    """A cheap speaker: reads the mount and parses its Ogg pages (audio time from granules)."""

    def __init__(self, url: str):
        self.url = url
        self.status: int | str | None = None
        self.first_byte_s: float | None = None
        self.reads: list[tuple[float, int]] = []
        self.timeline: list[tuple[float, float]] = []  # (arrival, audio seconds so far)
        self.bad_pages = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> OggReader:
        """Connect and read in a thread."""
        self._thread.start()
        return self

    def _run(self) -> None:
        t0 = time.monotonic()
        try:
            r = urllib.request.urlopen(self.url, timeout=10)  # noqa: S310 - loopback only
        except urllib.error.HTTPError as exc:
            self.status = exc.code
            return
        except OSError as exc:
            self.status = f"error: {exc}"[:80]
            return
        self.status = r.status
        buf = bytearray()
        with r:
            while not self._stop.is_set():
                try:
                    chunk = r.read1(4096)
                except OSError:
                    break
                if not chunk:
                    break
                now = time.monotonic()
                if self.first_byte_s is None:
                    self.first_byte_s = now - t0
                self.reads.append((now, len(chunk)))
                buf += chunk
                buf = self._pages(buf, now)

    def _pages(self, buf: bytearray, now: float) -> bytearray:
        """Consume whole Ogg pages from `buf`; note each page's granule position."""
        while True:
            i = buf.find(b"OggS")
            if i < 0:
                return buf[-3:]
            if i:
                self.bad_pages += 1  # bytes between pages: not a clean Ogg stream
                del buf[:i]
            if len(buf) < 27:
                return buf
            nseg = buf[26]
            if len(buf) < 27 + nseg:
                return buf
            size = 27 + nseg + sum(buf[27:27 + nseg])
            if len(buf) < size:
                return buf
            granule = struct.unpack("<q", bytes(buf[6:14]))[0]
            if granule > 0:
                self.timeline.append((now, granule / 48000))  # Opus granules count 48 kHz samples
            del buf[:size]

    def stop(self) -> None:
        """Stop reading."""
        self._stop.set()
        self._thread.join(10)

    @property
    def admitted(self) -> bool:
        """Audio flowed."""
        return self.status == 200 and bool(self.reads)

    def bytes_per_s(self) -> float:
        """Mean bytes/s from the first to the last read."""
        if len(self.reads) < 2:
            return 0.0
        return sum(n for _, n in self.reads) / (self.reads[-1][0] - self.reads[0][0])


class PlayerListener:
    """The agent's own stream player as a speaker; its WAV growth gives the audio timeline."""

    def __init__(self, url: str, sink_dir: Path, name: str):
        self.sink = AgentSink(url, sink_dir, name)
        self.name = name
        self.timeline: list[tuple[float, float]] = []
        self.first_byte_s = None  # the player reads the socket itself: not observed

    def start(self) -> PlayerListener:
        """Start the player."""
        self.sink.start()
        return self

    def stop(self) -> None:
        """End the player, then turn WAV growth into (arrival, audio seconds decoded)."""
        self.sink.stop()
        files = sorted(self.sink.sink_dir.glob(f"{self.name}.*.wav"))
        if not files:
            return
        offset, rate = data_offset(files[0].read_bytes()[:4096])
        self.timeline = [(t, (s - offset) / 2 / rate) for t, s in self.sink.growth if s > offset]

    @property
    def admitted(self) -> bool:
        """Decoded audio reached the sink."""
        return bool(self.timeline)

    @property
    def status(self):
        """How the connection ended, from the player."""
        r = self.sink.result
        return (r.reason or r.outcome) if r else None

    def bytes_per_s(self) -> float:
        """Not observed for the player (it owns its socket)."""
        return float("nan")


def quality(timeline: list[tuple[float, float]]) -> dict[str, float]:
    """Audio seconds per second, the longest wait for new audio, and the worst lateness.

    A speaker starting to play at its first audio, at real-time speed, needs audio second m
    at t0 + (m - m0); audio arriving later than that by more than its output buffer is an
    underrun. "late" is the largest such lag (the buffer needed never to underrun).
    """
    if len(timeline) < 2:
        return {"rate": float("nan"), "backlog": float("nan"), "gap": float("nan"),
                "late": float("nan"), "underruns": 0}
    t0, m0 = timeline[0]
    late, underruns, behind = 0.0, 0, False
    for t, m in timeline:
        lag = (t - t0) - (m - m0)
        late = max(late, lag)
        if lag > UNDERRUN_S and not behind:
            underruns += 1
        behind = lag > UNDERRUN_S
    gap = max(b[0] - a[0] for a, b in zip(timeline, timeline[1:], strict=False))
    # Audio beyond real time in the first SETTLE_S (a backlog caught up), then the rate after.
    i = next((k for k, (t, _) in enumerate(timeline) if t - t0 >= SETTLE_S), len(timeline) - 1)
    ts, ms_ = timeline[i]
    span = timeline[-1][0] - ts
    return {"rate": (timeline[-1][1] - ms_) / span if span > 0 else float("nan"),
            "backlog": (ms_ - m0) - (ts - t0), "gap": gap, "late": late, "underruns": underruns}
