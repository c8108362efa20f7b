"""One ffmpeg that pulls an upstream, levels it, re-encodes it and pushes it to an Icecast mount.

The only module of the relay that touches ffmpeg. It turns ffmpeg's output into events the
supervisor acts on: `audio` (the output clock advanced: sound is flowing), `silence_start` /
`silence_end` (from the silencedetect filter, which runs *before* levelling so a quiet
station is not mistaken for a live one), and `exit` (with ffmpeg's last error line).

Output format: Opus in Ogg, mono, 48 kHz, 32 kbps, 200 ms pages (the default one-second
pages add a second of delay). Levelling is dynaudnorm with a short window: loudnorm's
single-pass mode looks 3 s ahead and resamples to 192 kHz; dynaudnorm with 200 ms frames and
a 5-frame window adds about half a second and is enough to even out two stations' levels.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import queue
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)
PROTOCOLS = "http,https,tls,tcp,hls,crypto"
FAST_OPEN = ("-formatprobesize", "4096", "-probesize", "32768", "-analyzeduration", "1000000")
"""Open a live stream quickly. A live mount sends no burst, and ffmpeg's default probe (64 KB
to guess the format, 5 s of analysis) waits ~8 s of real time on a 64 kbps MP3, 16 s at 32."""
_SILENCE_START = re.compile(r"silence_start: (-?[\d.]+)")
_SILENCE_END = re.compile(r"silence_end: (-?[\d.]+)")
_ERROR = re.compile(r"error|fail|refused|not found|timed out|invalid|unreachable|forbidden"
                    r"|no route|unauthorized|[45]\d\d ", re.IGNORECASE)


@dataclass(frozen=True)
class Event:
    """Something ffmpeg said: kind is audio, silence_start, silence_end or exit."""

    kind: str
    at: float
    """time.monotonic() when it was seen."""
    detail: str = ""


def command(url: str, push_url: str, silence_s: float, bitrate_k: int = 32,
            rw_timeout_s: float = 5.0) -> list[str]:
    """The ffmpeg command line for one pull → level → encode → push."""
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
        "-progress", "pipe:1", "-stats_period", "0.5",
        "-protocol_whitelist", PROTOCOLS, "-rw_timeout", str(int(rw_timeout_s * 1e6)),
        *FAST_OPEN, "-i", url, "-vn", "-ac", "1",
        "-af", f"silencedetect=n=-50dB:d={silence_s:g},dynaudnorm=f=200:g=5:m=10,aresample=48000",
        "-c:a", "libopus", "-b:a", f"{bitrate_k}k", "-application", "audio",
        "-page_duration", "200000", "-content_type", "audio/ogg", "-f", "ogg", push_url,
    ]


def _killed_with_parent() -> None:  # runs in the child between fork and exec
    # SIGKILL, not SIGTERM: probed with kill -9 on the controller, an orphaned ffmpeg left
    # SIGTERM pending for good (blocked in its threads) and went on pulling the upstream.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Pipe:
    """A running ffmpeg whose events arrive on `events` (a queue.Queue of Event)."""

    def __init__(self, url: str, push_url: str, silence_s: float, bitrate_k: int = 32):
        self.url = url
        self.events: queue.Queue[Event] = queue.Queue()
        self._last_error = ""
        self._proc = subprocess.Popen(  # noqa: S603 - fixed binary; URL checked by the service
            command(url, push_url, silence_s, bitrate_k), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
            # Dies with the thread that started it, so a controller killed with -9 leaves no
            # orphan pulling the upstream or holding the mount.
            preexec_fn=_killed_with_parent)  # noqa: PLW1509 - only calls prctl
        self._log_reader = threading.Thread(target=self._read_log, daemon=True, name="relay-log")
        self._log_reader.start()
        threading.Thread(target=self._read_progress, daemon=True, name="relay-progress").start()

    def _read_progress(self) -> None:
        last = 0
        for line in self._proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit() and int(value) > last:
                last = int(value)
                self.events.put(Event("audio", time.monotonic()))
        rc = self._proc.wait()
        self._log_reader.join(timeout=3)  # its last line is the reason ffmpeg gave up
        self.events.put(Event("exit", time.monotonic(), self._last_error or
                              f"the upstream closed the stream (ffmpeg exit code {rc})"))

    def _read_log(self) -> None:
        for line in self._proc.stderr:
            line = line.strip()
            if _SILENCE_START.search(line):
                self.events.put(Event("silence_start", time.monotonic()))
            elif _SILENCE_END.search(line):
                self.events.put(Event("silence_end", time.monotonic()))
            elif _ERROR.search(line):
                self._last_error = _scrub(line)[:300]

    def stop(self) -> None:
        """End ffmpeg (SIGTERM, then SIGKILL after 3 s)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=3)


def _scrub(line: str) -> str:
    """Drop the source password from an icecast:// URL before a line is logged or stored."""
    return re.sub(r"icecast://[^@\s]*@", "icecast://***@", line)


def upstream_alive(url: str, listen_s: float = 3.0, threshold_db: float = -50.0) -> bool:
    """Listen to an upstream for a few seconds: True if it answers with sound above threshold."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-protocol_whitelist", PROTOCOLS,
           "-rw_timeout", "5000000", *FAST_OPEN, "-i", url, "-t", f"{listen_s:g}", "-vn",
           "-af", "volumedetect", "-f", "null", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=listen_s + 12,
                             check=False)
    except subprocess.TimeoutExpired:
        return False
    m = re.search(r"max_volume: (-?[\d.]+|-inf) dB", out.stderr)
    return bool(m) and m.group(1) != "-inf" and float(m.group(1)) > threshold_db


def preview(url: str, seconds: float = 20.0):
    """Yield an MP3 of the first `seconds` of an upstream as ffmpeg makes it (the listen button)."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist",
           PROTOCOLS, "-rw_timeout", "5000000", *FAST_OPEN, "-i", url, "-t", f"{seconds:g}",
           "-vn", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", "pipe:1"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # noqa: S603
                            stderr=subprocess.DEVNULL)
    try:
        while chunk := proc.stdout.read(4096):
            yield chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
