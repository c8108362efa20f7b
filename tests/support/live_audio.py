"""A fake mouth and a real ear for live audio: chirps spoken in real time, heard from a mount.

`Mouth` writes 48 kHz PCM in real time (20 ms blocks, each written the moment its last sample
was "spoken") into ffmpeg encoding WebM/Opus the way Chrome's MediaRecorder does, and hands
the WebM bytes to `send(seq, data)` every 250 ms, like `recorder.start(250)`. With `raw=True`
the PCM goes to any process instead (the bare ffmpeg → Icecast floor of the benchmark).
`Ear` decodes a mount with ffmpeg and stamps every block of samples with its arrival time, so
a chirp found by cross-correlation has an arrival instant to compare with its speaking time.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

import numpy as np

SR = 48000
EAR_SR = 16000
BLOCK_S = 0.02


def chirp(sr: int = SR, seconds: float = 0.12, f0: float = 600.0, f1: float = 3000.0) -> np.ndarray:
    """A rising sweep with a soft edge: one unmistakable peak under cross-correlation."""
    t = np.arange(int(sr * seconds)) / sr
    k = (f1 - f0) / seconds
    x = np.sin(2 * np.pi * (f0 * t + k * t * t / 2))
    return x * np.hanning(len(x))


def chirp_train(seconds: float, period: float, lead: float, sr: int = SR) -> tuple[np.ndarray, list[int]]:
    """Silence with chirps after `lead`, spaced period, 1.3×, 1.6× period in turn; (int16 PCM, onsets).

    The uneven spacing lets `delays` tell which spoken chirp each heard one is, whatever the
    delay and whenever the listener joined.
    """
    pcm = np.zeros(int(seconds * sr))
    c = chirp(sr)
    onsets, at, i = [], lead, 0
    while int((at + 1.0) * sr) < len(pcm):  # a quiet last second: the recorder's tail is cut
        onsets.append(int(at * sr))
        at += period * (1.0, 1.3, 1.6)[i % 3]
        i += 1
    for o in onsets:
        pcm[o:o + len(c)] = 0.6 * c
    return (pcm * 32767).astype("<i2"), onsets


WEBM_ENCODER = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                "-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "pipe:0",
                "-c:a", "libopus", "-b:a", "48k", "-frame_duration", "20",
                "-f", "webm", "-live", "1", "-cluster_time_limit", "100", "-flush_packets", "1",
                "pipe:1"]


class Mouth:
    """Speaks int16 PCM in real time into an encoder; WebM pieces go to `send` every `slice_s`."""

    def __init__(self, pcm: np.ndarray, send: Callable[[int, bytes], None] | None = None,
                 slice_s: float = 0.25, cmd: list[str] | None = None,
                 hold: threading.Event | None = None, hold_s: float = 60.0):
        self.pcm = pcm
        self.hold = hold
        """If given, silence is spoken until it is set (at most hold_s), then the PCM."""
        self.hold_s = hold_s
        self.send = send
        self.slice_s = slice_s
        self.cmd = cmd or WEBM_ENCODER
        self.t0: float | None = None
        """Monotonic instant of sample 0: sample s is spoken at t0 + s / SR."""
        self.sent = 0
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._done = threading.Event()

    def run(self) -> None:
        """Speak everything, then flush the last piece (blocks for the PCM's duration)."""
        out = subprocess.PIPE if self.send else subprocess.DEVNULL
        proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=out)
        threads = []
        if self.send:
            threads = [threading.Thread(target=self._read, args=(proc,), daemon=True),
                       threading.Thread(target=self._post, daemon=True)]
            for t in threads:
                t.start()
        n = int(SR * BLOCK_S)
        if self.hold is not None:
            self._speak_silence_until_held(proc, n)
        raw = self.pcm.tobytes()
        self.t0 = time.monotonic()
        for i in range(0, len(self.pcm), n):
            wait = self.t0 + (i + n) / SR - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            proc.stdin.write(raw[2 * i:2 * (i + n)])
            proc.stdin.flush()
        proc.stdin.close()
        proc.wait(10)
        self._done.set()
        for t in threads:
            t.join(10)

    def _speak_silence_until_held(self, proc, n: int) -> None:
        """Silence in real time until `hold` is set: e.g. until a listener is on the mount."""
        quiet, start, i = bytes(2 * n), time.monotonic(), 0
        while not self.hold.is_set() and time.monotonic() - start < self.hold_s:
            wait = start + (i + 1) * BLOCK_S - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            proc.stdin.write(quiet)
            proc.stdin.flush()
            i += 1

    def _read(self, proc) -> None:
        while chunk := proc.stdout.read1(65536):
            with self._lock:
                self._buf += chunk

    def _post(self) -> None:
        seq = 0
        while True:
            finished = self._done.wait(self.slice_s)
            with self._lock:
                data, self._buf = bytes(self._buf), bytearray()
            if data:
                self.send(seq, data)
                seq += 1
                self.sent = seq
            if finished:
                return


class Ear:
    """Decodes a stream URL to 16 kHz mono and remembers when each block arrived."""

    def __init__(self, url: str):
        self.url = url
        self.blocks: list[tuple[float, bytes]] = []
        self.proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self.started_at: float | None = None

    def start(self) -> Ear:
        """Start listening (returns at once)."""
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-fflags", "nobuffer",
             "-probesize", "32", "-analyzeduration", "0", "-i", self.url,
             "-ac", "1", "-ar", str(EAR_SR), "-f", "s16le", "pipe:1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        while chunk := self.proc.stdout.read1(640):
            self.blocks.append((time.monotonic(), chunk))

    def stop(self) -> None:
        """Stop listening."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        if self._thread:
            self._thread.join(5)

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """(float samples, arrival instant of each sample)."""
        raw = b"".join(b for _, b in self.blocks)
        x = np.frombuffer(raw[:len(raw) // 2 * 2], dtype="<i2").astype(float) / 32768
        when = np.concatenate([np.full(len(b) // 2, t) for t, b in self.blocks]) if self.blocks \
            else np.zeros(0)
        return x, when[:len(x)]

    @property
    def first_arrival(self) -> float | None:
        """When the first audio arrived."""
        return self.blocks[0][0] if self.blocks else None


def find_chirps(x: np.ndarray, sr: int = EAR_SR, min_gap_s: float = 0.5,
                rel: float = 0.5) -> list[int]:
    """Onset sample of every chirp in `x` (FFT cross-correlation with the template, peak-picked)."""
    c = chirp(sr)
    if len(x) < len(c):
        return []
    n = 1 << int(np.ceil(np.log2(len(x) + len(c))))
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(c, n)), n)[:len(x) - len(c) + 1]
    corr = np.abs(corr)
    limit = rel * float(np.dot(c, c)) * 0.3  # a chirp at a fifth of the spoken level still counts
    peaks, gap, last = [], int(min_gap_s * sr), -1
    for i in np.flatnonzero(corr >= limit):
        if i <= last:
            continue
        j = int(i + np.argmax(corr[i:i + gap]))
        peaks.append(j)
        last = j + gap
    return peaks


def delays(mouth: Mouth, onsets: list[int], ear: Ear, max_spread_s: float = 0.3) -> list[float]:
    """Mouth-to-ear delay of each chirp heard (seconds), or [] if the match is not clear.

    If the ear was listening a second before the first chirp was spoken, the first chirp heard
    is the first spoken (Icecast sends a new listener only what arrives after it joined).
    Otherwise heard chirps are aligned by their uneven spacing: the alignment whose delays
    vary least wins, and it must vary by less than `max_spread_s`.
    """
    x, when = ear.samples()
    heard = np.array([when[h] for h in find_chirps(x)])
    spoken = mouth.t0 + np.array(onsets) / SR
    if not len(heard) or len(heard) > len(spoken):
        return []
    if ear.started_at is not None and ear.started_at < spoken[0] - 1.0:
        return [float(v) for v in heard - spoken[:len(heard)]]
    best = None
    for k0 in range(len(spoken) - len(heard) + 1):
        d = heard - spoken[k0:k0 + len(heard)]
        if best is None or np.ptp(d) < np.ptp(best):
            best = d
    return [float(v) for v in best] if np.ptp(best) < max_spread_s else []
