"""The speaker agent's own stream player as the ear of a delay bench, with wall-clock stamps.

`AgentSink` runs `speaker_agent.stream_player.FileSinkStreamPlayer` (the agent's code: its
HTTP open, the container named from Content-Type, the copy thread, ffmpeg with the agent's
low-delay flags, the WAV sink) against a mount, and stamps the growth of the sink's WAV
every 2 ms. Each decoded sample's arrival is the first instant the file was long enough to
hold it: the moment ffmpeg handed it to the output, where an ALSA device would take it.

The bench adds `-flush_packets 1` to the sink's output options, so ffmpeg writes every
decoded frame (20 ms) at once. As shipped, the file sink's WAV grows in 262,144-byte steps
(2.7 s of 48 kHz mono), a file artefact that the ALSA output does not have.
"""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

import numpy as np

from speaker_agent.config import StreamSettings
from speaker_agent.stream_player import FileSinkStreamPlayer

POLL_S = 0.002


class _FlushingSink(FileSinkStreamPlayer):
    """The agent's file sink, writing each decoded frame as it comes (see the module doc)."""

    def output_args(self, session_id: str, volume: int) -> list[str]:
        """The sink's own arguments with `-flush_packets 1` before the file name."""
        args = super().output_args(session_id, volume)
        return [*args[:-1], "-flush_packets", "1", args[-1]]


def data_offset(raw: bytes) -> tuple[int, int]:
    """(offset of the PCM in a WAV file, sample rate), walking the RIFF chunks."""
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    pos, rate = 12, 0
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            rate = struct.unpack("<I", raw[pos + 12:pos + 16])[0]
        if cid == b"data":
            return pos + 8, rate
        pos += 8 + size + (size & 1)
    raise ValueError("no data chunk")


class AgentSink:
    """One agent stream player on `url`, its WAV growth stamped (monotonic clock)."""

    def __init__(self, url: str, sink_dir: Path, session: str):
        self.player = _FlushingSink(StreamSettings(), Path(sink_dir))
        self.url = url
        self.session = session
        self.sink_dir = Path(sink_dir)
        self.growth: list[tuple[float, int]] = []
        self.result = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> AgentSink:
        """Start the player and the stamping (returns at once)."""
        self._threads = [threading.Thread(target=self._play, daemon=True),
                         threading.Thread(target=self._watch, daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def _play(self) -> None:
        self.result = self.player.play(self.url, self.session, 100, lambda: None)

    def _watch(self) -> None:
        last = -1
        while not self._stop.is_set():
            files = sorted(self.sink_dir.glob(f"{self.session}.*.wav"))
            if files:
                try:
                    size = files[0].stat().st_size
                except OSError:
                    size = last
                if size != last:
                    self.growth.append((time.monotonic(), size))
                    last = size
            time.sleep(POLL_S)

    def stop(self) -> None:
        """End the player (ffmpeg finishes the WAV) and the stamping."""
        self._stop.set()
        for _ in range(3):
            self.player.interrupt()
        for t in self._threads:
            t.join(15)

    def samples(self, rate: int, paced: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(float samples resampled to `rate`, arrival instant of each); empty if nothing came.

        With `paced`, the instant is when a loudspeaker would sound the sample instead: a
        device playing at real time from the first sample, never dropping one, plays sample k
        at max(its arrival, the previous one's + 1/rate). The file sink is not paced, so audio
        that piled up while the connection started is written at once; a device would play
        it at real time, late. (The device's own buffer comes on top; not modelled.)
        """
        files = sorted(self.sink_dir.glob(f"{self.session}.*.wav"))
        if not files or not self.growth:
            return np.zeros(0), np.zeros(0)
        raw = files[0].read_bytes()
        offset, src_rate = data_offset(raw)
        pcm = np.frombuffer(raw[offset:offset + (len(raw) - offset) // 2 * 2], dtype="<i2")
        x = pcm.astype(float) / 32768
        # Sample k is in the file once it is offset + 2(k+1) bytes long.
        stamps = np.array([t for t, _ in self.growth])
        sizes = np.array([s for _, s in self.growth])
        need = offset + 2 * (np.arange(len(x)) + 1)
        idx = np.searchsorted(sizes, need, side="left")
        keep = idx < len(sizes)  # written after the last stamp (at the header rewrite): dropped
        x, when = x[keep], stamps[idx[keep]]
        if paced and len(x):
            k = np.arange(len(x)) / src_rate
            when = k + np.maximum.accumulate(when - k)
        if src_rate != rate and len(x):
            step = src_rate / rate
            k = max(1, int(round(step)))
            smooth = np.convolve(x, np.ones(k) / k, mode="same")  # a box low-pass before picking
            pick = (np.arange(int(len(x) / step)) * step).astype(int)
            x, when = smooth[pick], when[pick]
        return x, when

    @property
    def started_at(self) -> float | None:
        """Since when the sink was listening: its first decoded audio."""
        return next((t for t, s in self.growth if s > 100), None)
