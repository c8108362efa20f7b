"""The demo's own radio station, so tiếp sóng can be tried with no internet.

ffmpeg makes a live HLS playlist of a beeping tone in real time (the way many provincial
stations publish), and a small HTTP server on 127.0.0.1 serves it. The demo registers it
as the source "Đài thử nghiệm (demo)"; a relay of it goes through the same pipeline,
Icecast mount, tokens and agents as a relay of VOV1 would.

Why HLS and not a direct ffmpeg HTTP server: `ffmpeg -listen 1` serves one client and
exits, while a station is probed when it is registered and pulled again by each relay.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from controller.managed_broker import stop_child

log = logging.getLogger(__name__)
NAME = "Đài thử nghiệm (demo)"
PLAYLIST = "live.m3u8"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        log.debug("demo station: " + format, *args)


class DemoStation:
    """A live HLS tone on loopback: start() returns its playlist URL, stop() ends it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.proc: subprocess.Popen | None = None
        self.httpd: ThreadingHTTPServer | None = None

    def start(self, timeout: float = 20.0) -> str:
        """Start the encoder and the HTTP server; return the playlist's URL once it exists."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.iterdir():  # a previous run's segments would replay old audio
            old.unlink()
        self.proc = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
             "-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4",
             "-ac", "1", "-c:a", "aac", "-b:a", "48k",
             "-f", "hls", "-hls_time", "2", "-hls_list_size", "6",
             "-hls_flags", "delete_segments+omit_endlist",
             "-hls_segment_filename", str(self.folder / "seg%06d.ts"),
             str(self.folder / PLAYLIST)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        handler = functools.partial(_Quiet, directory=str(self.folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, name="demo-station", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not (self.folder / PLAYLIST).exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the demo station's ffmpeg did not start")
            time.sleep(0.1)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{PLAYLIST}"

    def stop(self) -> None:
        """Stop serving and encoding."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.proc is not None:
            stop_child(self.proc, 5.0)
            self.proc = None


def register(ctl, url: str, admin: str) -> int:
    """Save the demo station as a relay source, or point the saved one at this run's URL."""
    import sqlalchemy as sa

    from controller.relay_models import StreamSource
    from controller.services import sources, users

    with ctl.db.session() as s:
        src = s.scalar(sa.select(StreamSource).where(StreamSource.name == NAME))
        if src is not None:
            src.url = url  # the port is new on every run
            return src.id
        user = users.get_user(s, admin)
    return sources.register(ctl, name=NAME, url=url, user=user)
