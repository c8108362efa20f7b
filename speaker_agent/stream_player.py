"""Stream players: pull an Icecast mount with ffmpeg at low latency, to ALSA on the Pi or into a WAV sink.

One connection per `play()` call: it blocks until the stream drops, the server
refuses it, or `interrupt()` ends it. Reconnecting is the caller's business
(speaker_agent/streams.py), so each drop is seen and acknowledged. The only
module that runs ffmpeg for streams.

Latency: ffmpeg decodes with `-fflags nobuffer -flags low_delay` and the smallest
probe. Naming the container (`-f mp3`) skips format probing, which costs seconds
on a 32 kbps MP3 stream; it is taken from the config, else from the server's
Content-Type, else from the mount's extension (docs/benchmarks.md has figures).

Live point: the connection is open before ffmpeg has started, and Icecast sends audio
from the moment we connect. ffmpeg reads a named pipe rather than stdin because opening
it is the one sign that ffmpeg is ready: until then the copier drops the audio at whole
pages/frames (speaker_agent/decoder_pipe.py, live_point.py), so a (re)connecting player starts at the live
point instead of decoding the wait at once and playing it late all connection long.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from speaker_agent.config import PlayerSettings, StreamSettings
from speaker_agent.decoder_pipe import make_pipe, open_if_reading, open_when_reading, remove_pipe, waiting
from speaker_agent.live_point import LiveJoin

FORMAT_BY_EXTENSION = {".mp3": "mp3", ".ogg": "ogg", ".opus": "ogg", ".oga": "ogg", ".aac": "aac"}
FORMAT_BY_TYPE = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/ogg": "ogg", "application/ogg": "ogg",
                  "audio/opus": "ogg", "audio/aac": "aac", "audio/aacp": "aac"}


@dataclass(frozen=True)
class StreamResult:
    """How one connection ended: `interrupted` (we asked), `dropped` or `failed` (with a reason)."""

    outcome: str
    reason: str | None = None
    flowed_s: float = 0.0


def with_token(url: str, token: str, param: str) -> str:
    """The mount URL carrying the listener token as a query parameter (kept if already there)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k == param for k, _ in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, (param, token)])))


def public_url(url: str) -> str:
    """The URL without its query string: what may appear in logs and acks (no token)."""
    return urlunsplit(urlsplit(url)._replace(query="", fragment=""))


def input_format(url: str, setting: str, content_type: str = "") -> str | None:
    """The ffmpeg demuxer to name (config, then the server's Content-Type, then the extension), or None."""
    if setting == "probe":
        return None
    if setting != "auto":
        return setting
    kind = content_type.split(";")[0].strip().lower()
    if kind in FORMAT_BY_TYPE:
        return FORMAT_BY_TYPE[kind]
    path = urlsplit(url).path.lower()
    return next((fmt for ext, fmt in FORMAT_BY_EXTENSION.items() if path.endswith(ext)), None)


def _reason(stderr: str, url: str) -> str:
    """The last useful line of ffmpeg's errors, without the URL (it carries the token)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    lines = [ln for ln in lines if "Immediate exit requested" not in ln and "Exiting normally" not in ln]
    last = lines[-1] if lines else "ffmpeg ended without a message"
    last = last.replace(url, "").replace(public_url(url), "")
    last = re.sub(r"https?://\S+", "<url>", last).lstrip(": ").strip()
    return last[:200]


def _hang_up(response) -> None:
    """Shut the connection's socket so a read blocked on it returns at once.

    response.close() does not: it waits for the buffer lock that the blocked read holds, so
    an interrupt on a quiet connection (a dead network) held the horn until the stall timeout,
    and an emergency waiting for it started that much later.
    """
    # AttributeError, ValueError: the copier has already closed it (fp None, or a closed file)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sock = socket.socket(fileno=os.dup(response.fileno()))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


class StreamPlayer:
    """Base: one connection at a time, interruptibly, reporting when audio flows.

    Python opens the HTTP connection (so a refusal is read as its status code and the
    container is known from Content-Type before ffmpeg starts) and copies the bytes into
    ffmpeg's stdin; ffmpeg decodes with the least buffering.
    """

    name = "ffmpeg"

    def __init__(self, settings: StreamSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._response = None
        self._interrupted = False

    def input_args(self, url: str, content_type: str = "", source: str = "pipe:0") -> list[str]:
        """ffmpeg arguments that decode the piped stream (from `source`) with the least buffering."""
        fmt = input_format(url, self.settings.input_format, content_type)
        args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats",
                "-progress", "pipe:1", "-stats_period", "0.5", "-fflags", "nobuffer", "-flags", "low_delay"]
        if fmt:
            args += ["-f", fmt, "-probesize", "32", "-analyzeduration", "0"]
        else:
            args += ["-probesize", "2048", "-analyzeduration", "0"]  # quick for Ogg, slow for MP3
        return [*args, "-i", source]

    def _open(self, url: str):
        """The HTTP response of the mount, or a StreamResult saying why not."""
        request = urllib.request.Request(url, headers={"User-Agent": "commune-radio-speaker"})  # noqa: S310
        try:
            return urllib.request.urlopen(request, timeout=self.settings.stall_timeout_s)  # noqa: S310
        except urllib.error.HTTPError as exc:
            return StreamResult("failed", f"HTTP {exc.code} {exc.reason}")
        except (urllib.error.URLError, OSError) as exc:
            why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            return StreamResult("failed", f"cannot connect: {why}"[:200])

    def _copy(self, response, proc: subprocess.Popen, ended: list[str], fifo: Path,
              fmt: str | None) -> None:
        """Copy the stream into ffmpeg's pipe from the live point until EOF, a stall or an interrupt."""
        join, pipe = LiveJoin(fmt), None
        try:
            while True:
                chunk = response.read1(8192)
                if not chunk:
                    ended.append("the stream ended (source gone)")
                    break
                if pipe is None:
                    pipe = open_if_reading(fifo)
                    if pipe is None:
                        if proc.poll() is not None:
                            break  # ffmpeg ended before it read anything
                        join.feed(chunk)  # ffmpeg not reading yet: this is behind the live point
                        continue
                    join.feed(chunk)
                    for old in waiting(response):  # queued while ffmpeg started: behind too
                        join.feed(old)
                    join.ready()
                    chunk = b""
                data = join.feed(chunk)
                if data:
                    pipe.write(data)
                    pipe.flush()
        except TimeoutError:
            ended.append(f"no audio for {self.settings.stall_timeout_s:.0f} s (connection stalled)")
        except (BrokenPipeError, ValueError):
            pass  # ffmpeg ended (or was ended) first
        except OSError as exc:
            ended.append(f"connection lost: {exc}"[:200])
        finally:
            if pipe is None:  # ffmpeg may still be opening the pipe: give it an end to read
                pipe = open_when_reading(fifo, proc)
            with contextlib.suppress(OSError, ValueError, AttributeError):
                pipe.close()
            remove_pipe(fifo)
            with contextlib.suppress(OSError):
                response.close()

    def _start_decoder(self, argv: list[str]) -> subprocess.Popen:
        """Start ffmpeg (a seam: tests delay it to see what a slow start does)."""
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def output_args(self, session_id: str, volume: int) -> list[str]:
        """Where the decoded audio goes."""
        raise NotImplementedError

    def play(self, url: str, session_id: str, volume: int,
             on_flowing: Callable[[], None]) -> StreamResult:
        """Pull `url` until it ends or `interrupt()`; `on_flowing` runs once when audio arrives."""
        with self._lock:
            self._interrupted = False
        response = self._open(url)
        if isinstance(response, StreamResult):
            return response
        content_type = response.headers.get("Content-Type", "")
        fifo = make_pipe()
        argv = self.input_args(url, content_type, str(fifo)) + self.output_args(session_id, volume)
        with self._lock:
            self._response = response
            self._proc = self._start_decoder(argv)
            proc = self._proc
            if self._interrupted:  # interrupt() came while connecting
                proc.terminate()
                threading.Timer(5.0, lambda: proc.poll() is None and proc.kill()).start()
        errors: list[bytes] = []
        ended: list[str] = []
        fmt = input_format(url, self.settings.input_format, content_type)
        helpers = [threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True),
                   threading.Thread(target=self._copy, args=(response, proc, ended, fifo, fmt), daemon=True)]
        for t in helpers:
            t.start()
        flowing_since: float | None = None
        for line in proc.stdout:  # -progress: key=value lines every 0.5 s
            key, _, value = line.decode("ascii", "replace").strip().partition("=")
            if flowing_since is None and key == "out_time_us" and value.isdigit() and int(value) > 0:
                flowing_since = time.monotonic()
                on_flowing()
        proc.wait()
        # Why the connection ended by itself, noted before we hang up (the copier notes a drop
        # before it closes ffmpeg's input, so a drop that ended ffmpeg is already here).
        gone = list(ended)
        _hang_up(response)  # the copier may sit in a read on a quiet connection: end it now
        for t in helpers:
            t.join(timeout=self.settings.stall_timeout_s + 1)
        with contextlib.suppress(OSError):
            response.close()
        with self._lock:
            self._proc = None
            self._response = None
            interrupted = self._interrupted
        flowed = time.monotonic() - flowing_since if flowing_since else 0.0
        if interrupted:
            return StreamResult("interrupted", None, flowed)
        if proc.returncode in (-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP):
            return StreamResult("dropped", f"player got signal {-proc.returncode}", flowed)
        if gone:
            return StreamResult("dropped", gone[0], flowed)
        stderr = b"".join(errors).decode("utf-8", "replace")
        return StreamResult("failed", _reason(stderr, url), flowed)

    def interrupt(self) -> bool:
        """End the current connection; True if one was open."""
        with self._lock:
            first = not self._interrupted
            self._interrupted = True  # also stops a connection still being opened
            proc = self._proc
            if proc is None or proc.poll() is not None:
                return False
        if first:
            # One SIGTERM: ffmpeg then finishes the WAV header. Repeated signals make it
            # "hard exit" without one, so callers may ask again and again safely.
            proc.terminate()
            threading.Timer(5.0, lambda: proc.poll() is None and proc.kill()).start()
        return True


    def check(self) -> str:
        """Raise RuntimeError unless ffmpeg can pull streams here; plain words otherwise."""
        import shutil

        if not shutil.which("ffmpeg"):
            raise RuntimeError("ffmpeg is not installed (apt-get install ffmpeg): streams cannot play")
        return "ffmpeg found for relay and live streams"


class AlsaStreamPlayer(StreamPlayer):
    """Decodes to the ALSA device; the mixer sets the volume, as for files."""

    name = "ffmpeg (alsa)"

    def check(self) -> str:
        """ffmpeg exists and was built with ALSA output."""
        base = super().check()
        devices = subprocess.run(["ffmpeg", "-hide_banner", "-devices"], capture_output=True, text=True,
                                 timeout=30).stdout
        if not any(line.split()[1:2] == ["alsa"] for line in devices.splitlines()):
            raise RuntimeError("this ffmpeg has no ALSA output (ffmpeg -devices); streams cannot play")
        return f"{base}, to ALSA device {self.settings.alsa_device!r}"

    def output_args(self, session_id: str, volume: int) -> list[str]:
        """ALSA output on the configured device."""
        return ["-f", "alsa", self.settings.alsa_device]


class FileSinkStreamPlayer(StreamPlayer):
    """Records what arrived: one WAV per connection, <sink_dir>/<session_id>.<n>.wav.

    Each connection is also noted in <session_id>.json (file, start, end, outcome,
    reason), so tests and the demo can tell the pieces and the gaps apart.
    """

    name = "ffmpeg (file sink)"

    def __init__(self, settings: StreamSettings, sink_dir: Path):
        super().__init__(settings)
        self.sink_dir = Path(sink_dir)
        self._current: Path | None = None

    def output_args(self, session_id: str, volume: int) -> list[str]:
        """A new numbered WAV with the volume applied as a gain."""
        n = len(list(self.sink_dir.glob(f"{session_id}.*.wav"))) + 1
        self._current = self.sink_dir / f"{session_id}.{n:03d}.wav"
        return ["-ac", "1", "-af", f"volume={volume / 100:.2f}", "-y", str(self._current)]

    def play(self, url: str, session_id: str, volume: int,
             on_flowing: Callable[[], None]) -> StreamResult:
        """Record one connection and note it in the sidecar JSON."""
        self.sink_dir.mkdir(parents=True, exist_ok=True)
        self._current = None  # set when ffmpeg starts: a refused connection records no file
        started = time.time()
        result = super().play(url, session_id, volume, on_flowing)
        sidecar = self.sink_dir / f"{session_id}.json"
        record = json.loads(sidecar.read_text()) if sidecar.exists() else {"connections": []}
        wav = self._current if self._current and self._current.exists() else None
        record["connections"].append({
            "file": wav.name if wav else None, "started_at": started,
            "ended_at": time.time(), "volume": volume, "outcome": result.outcome,
            "reason": result.reason})
        tmp = sidecar.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(sidecar)
        return result


def make_stream_player(player: PlayerSettings, settings: StreamSettings) -> StreamPlayer:
    """The stream backend matching the file player's backend."""
    if player.backend == "alsa":
        return AlsaStreamPlayer(settings)
    return FileSinkStreamPlayer(settings, Path(player.sink_dir))
