"""Real processes for end-to-end tests: `commune-radio serve` and `speaker-agent`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):
    """Poll until predicate() returns a truthy value; fail with `what` after a generous timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(data: Path, *args: str, env: dict | None = None) -> str:
    """Run `commune-radio` with --data and return stdout (fails the test on error)."""
    sub, *rest = args
    cmd = [str(BIN / "commune-radio"), *args[:2], "--data", str(data), *args[2:]] if sub in (
        "user", "speaker", "tts", "db", "keys") else [str(BIN / "commune-radio"), sub, "--data", str(data),
                                             *rest]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})},
                         timeout=120)
    assert out.returncode == 0, f"{' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, cmd: list[str], log: Path, env: dict | None = None):
        self.cmd = cmd
        self.log = log
        self.env = {**os.environ, **(env or {})}
        self.cwd: Path | None = None
        """Working directory of the child (None: the test's own)."""
        self.p: subprocess.Popen | None = None

    def start(self) -> Proc:
        """Start (or restart)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.p = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                  cwd=self.cwd)
        return self

    def kill9(self) -> None:
        """SIGKILL, as a power cut or crash would."""
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL."""
        if self.p and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def output(self) -> str:
        """What the process printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Api:
    """Tiny JSON client for the controller's API (loopback only)."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        """Send a request; return (status, decoded JSON)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:  # noqa: S310 - loopback
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def up(self) -> bool:
        """True once the web server answers."""
        try:
            return self.call("GET", "/api/v1/openapi.json")[0] == 200
        except OSError:
            return False

    def speakers(self) -> dict[str, dict]:
        """Speakers by id."""
        return {s["id"]: s for s in self.call("GET", "/api/v1/speakers")[1]["speakers"]}

    def broadcast(self, bid: int) -> dict:
        """One broadcast."""
        return self.call("GET", f"/api/v1/broadcasts/{bid}")[1]


def ffprobe_duration_s(path: Path) -> float:
    """Duration of a media file according to ffprobe."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())
