"""The named pipe a stream player's ffmpeg reads from: opening it is ffmpeg's sign that it is ready.

With stdin there is no telling when ffmpeg starts reading; a named pipe opened for writing
without blocking fails (ENXIO) until ffmpeg has opened it for reading, so the player's
copier knows which audio came before the decoder was ready (speaker_agent/live_point.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def make_pipe() -> Path:
    """A new named pipe in a private temporary folder."""
    fifo = Path(tempfile.mkdtemp(prefix="stream-")) / "in"
    os.mkfifo(fifo, 0o600)
    return fifo


def remove_pipe(fifo: Path) -> None:
    """Remove the pipe and its folder (ffmpeg keeps what it has open)."""
    shutil.rmtree(fifo.parent, ignore_errors=True)


def open_if_reading(fifo: Path):
    """The pipe opened for writing if ffmpeg has it open for reading, else None."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # no reader yet
            return None
        raise
    os.set_blocking(fd, True)  # from here ffmpeg's reading paces the copy
    return os.fdopen(fd, "wb", buffering=0)


def open_when_reading(fifo: Path, proc: subprocess.Popen, timeout: float = 10.0):
    """The pipe once ffmpeg opens it, or None if ffmpeg ends (or takes too long) first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            pipe = open_if_reading(fifo)
            if pipe is not None:
                return pipe
        time.sleep(0.02)
    return None


def waiting(response):
    """Chunks already waiting on the connection, read without blocking."""
    while select.select([response.fileno()], [], [], 0)[0]:
        chunk = response.read1(65536)
        if not chunk:
            return
        yield chunk
