"""A bench site: a data directory with N registered speakers, the managed broker config, and a
real `commune-radio serve` process pointed at that broker.

The broker is started by the bench from the controller's own generated files (same
mosquitto.conf, passwd and ACL the managed broker uses) so it can run before the
controller does: the MQTT floor is measured on it with no controller attached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import free_port, wait_until

BIN = Path(sys.executable).parent


@dataclass
class Site:
    """Everything one bench run set up; `close()` undoes it."""

    data: Path
    ctl: object
    speakers: list[tuple[str, str]]
    token: str
    broker: object
    web_port: int = 0
    proc: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)

    @property
    def broker_port(self) -> int:
        """Port of the bench-run managed broker (the speakers' listener)."""
        return self.broker.port

    @property
    def controller_port(self) -> int:
        """The broker's controller listener, for clients logging in as the controller."""
        return self.broker.controller_port

    def controller_password(self) -> str:
        """The controller's broker password (the floor publisher logs in as the controller)."""
        return self.ctl.controller_broker_password()

    def public_keys(self) -> list[str]:
        """The controller's command-signing public keys, as agents get them."""
        return self.ctl.keys.public_keys_text()

    def api(self, method: str, path: str, body=None, timeout: float = 120) -> tuple[int, dict]:
        """Call the controller's JSON API on loopback."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.web_port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - loopback
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def start_controller(self, log: Path, env: dict | None = None, timeout: float = 120) -> None:
        """Start `commune-radio serve` on this data dir, using the bench broker; wait for the web."""
        self.web_port = free_port()
        pw = self.controller_password()
        self.env = {**os.environ, **(env or {}), "COMMUNE_RADIO_TTS_ENGINES": "espeak",
                    "COMMUNE_RADIO_BROKER_URL": f"mqtt://controller:{pw}@127.0.0.1:{self.controller_port}",
                    "COMMUNE_RADIO_DATABASE_URL": self.ctl.settings.db_url}
        out = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(  # noqa: S603 - our own console script
            [str(BIN / "commune-radio"), "serve", "--data", str(self.data),
             "--port", str(self.web_port)], stdout=out, stderr=subprocess.STDOUT, env=self.env)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"controller exited; see {log}")
            try:
                return self.api("GET", "/api/v1/openapi.json", timeout=2)[0] == 200
            except OSError:
                return False

        wait_until(up, timeout, 0.2, "controller web")

    def close(self) -> None:
        """Stop the controller and the broker."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.broker.stop()
        self.ctl.db.dispose()


def build(tmp: Path, n_speakers: int, db_url: str = "") -> Site:
    """Register n speakers (registry.add_speaker), write the broker's auth, start the broker."""
    from controller import config
    from controller.managed_broker import ManagedBroker
    from controller.runtime import Controller
    from controller.services import registry, users

    data = tmp / "data"
    settings = config.load(data, tts_engines="espeak", broker_port=free_port(),
                           database_url=db_url or None)
    ctl = Controller(settings)
    speakers = []
    with ctl.db.session() as s:
        for i in range(n_speakers):
            sid = f"sim-{i:04d}"
            _, secret = registry.add_speaker(s, sid, f"Ấp {i % 9 + 1}")
            speakers.append((sid, secret))
        users.add_user(s, "bench", "admin")
        token = users.new_token(s, "bench")
    ctl.sync_broker_auth()  # broker not running yet: this only writes passwd and acl
    broker = ManagedBroker(data / "broker", ctl.broker_port(), "127.0.0.1")
    broker.start()
    return Site(data=data, ctl=ctl, speakers=speakers, token=token, broker=broker)
