"""The one ffmpeg per live session: WebM/Opus chunks on stdin → Opus in Ogg onto an Icecast mount.

Latency choices, each measured by `bench/live_delay.py` (docs/benchmarks.md):
- `-fflags nobuffer -probesize 32 -analyzeduration 0` make ffmpeg start decoding the first
  cluster it sees instead of reading seconds of input to guess the format (it is told: WebM).
- Ogg's default page is one second long and Icecast forwards whole pages, so the page is cut
  to `PAGE_MS`; `-flush_packets 1` writes each page at once.
- Opus mono 32 kbps, `-application lowdelay`, 20 ms frames: speech over a horn, small pages.
The HTTP handler must never wait on ffmpeg, so writes go through a queue to one thread.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import subprocess
import threading
from pathlib import Path

log = logging.getLogger(__name__)

PAGE_MS = 60
BITRATE = "32k"


def encoder_command(source_url: str, page_ms: int | None = None) -> list[str]:
    """The ffmpeg command reading WebM on stdin and pushing Opus/Ogg to `source_url`."""
    page_ms = page_ms or PAGE_MS
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
            "-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0",
            "-f", "webm", "-i", "pipe:0",
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", BITRATE,
            "-application", "lowdelay", "-frame_duration", "20",
            "-page_duration", str(page_ms * 1000), "-flush_packets", "1",
            "-f", "ogg", "-content_type", "audio/ogg", source_url]


def redact(text: str) -> str:
    """Hide the password of any URL in `text` (source URLs carry one)."""
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


class LiveEncoder:
    """One ffmpeg process fed in order; `write` never blocks the caller."""

    def __init__(self, source_url: str, log_path: Path | None = None):
        self.source_url = source_url
        self.log_path = log_path
        self._q: queue.Queue[bytes | None] = queue.Queue()
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self.bytes_written = 0

    def start(self) -> LiveEncoder:
        """Start ffmpeg and the writer thread."""
        err = subprocess.DEVNULL
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            err = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self._proc = subprocess.Popen(encoder_command(self.source_url), stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=err)
        if self.log_path:
            err.close()
        self._thread = threading.Thread(target=self._pump, name="live-encoder", daemon=True)
        self._thread.start()
        log.info("live encoder started → %s", redact(self.source_url))
        return self

    @property
    def alive(self) -> bool:
        """True while ffmpeg runs."""
        return self._proc is not None and self._proc.poll() is None

    def write(self, data: bytes) -> None:
        """Queue bytes for ffmpeg's stdin."""
        self._q.put(data)

    def _pump(self) -> None:
        proc = self._proc
        while True:
            data = self._q.get()
            if data is None:
                break
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
                self.bytes_written += len(data)
            except (BrokenPipeError, OSError, ValueError):
                log.warning("live encoder gone (exit %s); dropping input", proc.poll())
                break
        with contextlib.suppress(OSError):
            proc.stdin.close()

    def close(self, wait_s: float = 3.0) -> int | None:
        """End the input, let ffmpeg flush, and make sure it exits; returns its exit code."""
        if self._proc is None:
            return None
        self._q.put(None)
        if self._thread:
            self._thread.join(wait_s)
        try:
            return self._proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            self._proc.terminate()
            try:
                return self._proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                return self._proc.wait(wait_s)
