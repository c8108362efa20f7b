"""A real Icecast for tests (the project's managed one, on a free port) and ffmpeg pushers.

Use the session fixture `icecast` (tests/conftest.py) for open mounts, or `TestIcecast(dir,
listener_auth_url=...)` for one that asks a controller about every listener.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from controller.managed_icecast import ManagedIcecast
from controller.streams_server import normalize_mount
from tests.support.processes import wait_for


class TestIcecast:
    """Icecast from the generated config; mounts are open unless `listener_auth_url` is given."""

    __test__ = False  # not a test class

    def __init__(self, files_dir: Path, listener_auth_url: str | None = None, port: int = 18000):
        self.managed = ManagedIcecast(files_dir, port=port, listener_auth_url=listener_auth_url)

    def start(self) -> TestIcecast:
        """Start Icecast (the next free port from 18000)."""
        self.managed.start()
        return self

    def stop(self) -> None:
        """Stop Icecast."""
        self.managed.stop()

    @property
    def host(self) -> str:
        """Loopback."""
        return self.managed.bind

    @property
    def port(self) -> int:
        """The port Icecast listens on."""
        return self.managed.port

    @property
    def source_password(self) -> str:
        """The shared source password (user `source`)."""
        return self.managed.source_password

    def listen_url(self, mount: str) -> str:
        """http://127.0.0.1:PORT/mount."""
        return f"http://{self.host}:{self.port}{normalize_mount(mount)}"

    def source_url(self, mount: str, user: str = "source", password: str | None = None) -> str:
        """icecast://source:PASS@127.0.0.1:PORT/mount for ffmpeg."""
        return (f"icecast://{user}:{password or self.source_password}@{self.host}:{self.port}"
                f"{normalize_mount(mount)}")

    def mounts(self) -> list[str]:
        """Mounts that have a source connected now."""
        return (self.managed.status() or {}).get("mounts", [])

    def wait_mount(self, mount: str, timeout: float = 30.0) -> None:
        """Wait until a source is connected on `mount`."""
        wait_for(lambda: normalize_mount(mount) in self.mounts(), timeout, what=f"mount {mount}")


def push_tone(source_url: str, *, freq: int = 440, beep: bool = False, seconds: float | None = None,
              log: Path | None = None, codec: str = "opus") -> subprocess.Popen:
    """Push a lavfi sine (with `beep`, a 4×freq beep every second) to an Icecast mount in real time.

    Opus in Ogg with 20 ms pages for low delay (`codec="mp3"` for MP3). Icecast needs the
    content type: ffmpeg announces audio/mpeg by default, and an Ogg stream announced that
    way goes to Icecast's generic handler, without Ogg header replay for late listeners.
    """
    src = f"sine=frequency={freq}:sample_rate=48000" + (":beep_factor=4" if beep else "")
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re", "-f", "lavfi",
           "-i", src]
    if seconds is not None:
        cmd += ["-t", f"{seconds}"]
    cmd += ["-ac", "1"]
    if codec == "mp3":
        cmd += ["-c:a", "libmp3lame", "-b:a", "32k", "-content_type", "audio/mpeg", "-f", "mp3"]
    else:
        cmd += ["-c:a", "libopus", "-b:a", "32k", "-page_duration", "20000",
                "-content_type", "audio/ogg", "-f", "ogg"]
    cmd.append(source_url)
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - child keeps it
    return subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL)  # noqa: S603


def stop_push(proc: subprocess.Popen) -> None:
    """Stop a pusher started by `push_tone`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pull_status(url: str, nbytes: int = 4096, timeout: float = 10.0) -> tuple[int, bytes]:
    """GET a mount as a listener: (HTTP status, first bytes of audio)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
            return r.status, r.read(nbytes)
    except urllib.error.HTTPError as exc:
        return exc.code, b""
