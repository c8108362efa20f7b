"""A real commune-radio system for security process tests: `commune-radio serve`, its managed
Mosquitto, two `speaker-agent` processes with file sinks, and an attacker's MQTT client."""

from __future__ import annotations

import json
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from protocol.messages import Command, Media
from protocol.topics import Topics
from tests.security.mqtt_client import Probe
from tests.support.processes import BIN, Api, Proc, cli, free_port, wait_for

SPEAKERS = {"spk-a": "Ấp Mỹ An", "spk-b": "Ấp Mỹ Hòa"}


class System:
    """Everything started by the fixture, plus helpers that read what a user would look at."""

    def __init__(self, tmp: Path, env: dict):
        self.tmp, self.env = tmp, env
        self.data = tmp / "data"
        self.topics = Topics("commune-radio")
        for sid, hamlet in SPEAKERS.items():
            cli(self.data, "speaker", "add", sid, "--hamlet", hamlet, "--out", str(self.config(sid)),
                "--player", "file", "--agent-data", str(tmp / "agents" / sid),
                "--sink-dir", str(tmp / "sink" / sid), env=env)
        cli(self.data, "user", "add", "chu-tich", "--role", "admin", env=env)
        self.token = cli(self.data, "user", "token", "chu-tich", env=env).strip().splitlines()[-1]
        self.web_port = free_port()
        self.ctl = Proc([str(BIN / "commune-radio"), "serve", "--data", str(self.data), "--port",
                         str(self.web_port)], tmp / "logs" / "controller.log", env)
        self.api = Api(f"http://127.0.0.1:{self.web_port}", self.token)
        self.agents = {sid: Proc([str(BIN / "speaker-agent"), "--config", str(self.config(sid))],
                                 tmp / "logs" / f"{sid}.log") for sid in SPEAKERS}

    def start(self) -> System:
        """Start the controller, wait for its web server, start the agents, wait until online."""
        self.ctl.start()
        wait_for(self.api.up, what="controller web")
        for a in self.agents.values():
            a.start()
        wait_for(lambda: all(s["online"] for s in self.api.speakers().values()), what="speakers online")
        return self

    def stop(self) -> None:
        """Stop agents and controller."""
        for a in self.agents.values():
            a.stop()
        self.ctl.stop()

    def restart_agent(self, sid: str) -> None:
        """Stop and start one agent (it rereads its config) and wait until it is online again."""
        self.agents[sid].stop()
        wait_for(lambda: not self.api.speakers()[sid]["online"], what=f"{sid} offline")
        self.agents[sid].start()
        wait_for(lambda: self.api.speakers()[sid]["online"], what=f"{sid} online")

    def config(self, sid: str) -> Path:
        """The agent config `speaker add` wrote."""
        return self.tmp / f"{sid}.toml"

    def secret(self, sid: str) -> str:
        """A speaker's broker secret, from its agent config."""
        return tomllib.loads(self.config(sid).read_text())["broker"]["password"]

    @property
    def broker_port(self) -> int:
        """The managed broker's port (remembered in the data dir)."""
        return int((self.data / "broker" / "port").read_text())

    def controller_broker_password(self) -> str:
        """What an attacker who stole keys/broker-controller.secret would log in with."""
        return (self.data / "keys" / "broker-controller.secret").read_bytes().hex()

    def attacker(self) -> Probe:
        """An MQTT client logged in as the controller, with the stolen broker password."""
        p = Probe(self.broker_port, "controller", self.controller_broker_password())
        assert p.connect() == 0
        return p

    def audit(self, action: str) -> list[dict]:
        """Audit events of one kind, oldest first."""
        engine = sa.create_engine(self.env["COMMUNE_RADIO_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text(
                    "SELECT actor, action, target, detail FROM audit_events WHERE action = :a "
                    "ORDER BY id"), {"a": action}).mappings().all()
                return [dict(r) for r in rows]
        finally:
            engine.dispose()

    def plays(self, sid: str, command_id: str) -> list[dict]:
        """The file sink's record of each time a command was played."""
        sidecar = self.tmp / "sink" / sid / f"{command_id}.json"
        return json.loads(sidecar.read_text())["plays"] if sidecar.exists() else []

    def sink_files(self, sid: str) -> list[Path]:
        """Everything the speaker's file sink wrote."""
        d = self.tmp / "sink" / sid
        return sorted(d.iterdir()) if d.exists() else []

    def broadcast_and_wait(self, sid: str, text: str = "Thông báo thử hệ thống loa.") -> dict:
        """Send a text to one speaker through the API and wait until it has played."""
        status, body = self.api.call("POST", "/api/v1/broadcasts",
                                     {"text": text, "targets": {"speakers": [sid]}})
        assert status == 201, body

        def played():
            b = self.api.broadcast(body["id"])
            return b if b["deliveries"][0]["state"] == "played" else None

        return wait_for(played, timeout=120, what=f"broadcast {body['id']} played on {sid}")


def forged_command(sid: str, kind: str = "play", media_url: str = "http://127.0.0.1:9/x.mp3") -> Command:
    """A well-formed, unsigned command an attacker might write."""
    now = datetime.now(UTC)
    media = Media(url=media_url, sha256="0" * 64, bytes=1000, duration_ms=1000) if kind == "play" else None
    return Command(id=f"evil-{uuid.uuid4().hex[:8]}", type=kind, speaker_id=sid, issued_at=now,
                   expires_at=now + timedelta(minutes=10), priority="emergency",
                   play_at=now if kind == "play" else None, media=media)
