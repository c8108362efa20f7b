"""Schedules with real processes: a controller killed -9 around an occurrence, and agents that
play a pre-delivered command while the broker is down.

The controller uses an external Mosquitto (the `broker` fixture), so killing the controller
leaves the broker up and stopping the broker leaves the controller up.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from controller import agent_config, speech
from controller.config import load
from controller.runtime import Controller
from controller.services import announcements, registry, users
from protocol.messages import parse_time
from tests.support.controller import fresh_db_url as db_url_for
from tests.support.processes import BIN, Api, Proc, free_port, wait_for

pytestmark = pytest.mark.process
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SPEAKERS = {"spk-a": "Ấp Mỹ An", "spk-b": "Ấp Mỹ Hòa", "spk-c": "Ấp Mỹ Phú"}
TEXT = "Thông báo: chiều nay họp dân tại nhà văn hóa ấp."


class System:
    """A data dir set up in-process, then `commune-radio serve` and three agents as processes."""

    def __init__(self, tmp, broker, lead_s: int, validity_s: int):
        self.tmp = tmp
        self.broker = broker
        data = tmp / "data"
        url = (f"mqtt://controller:{broker.controller_password}@127.0.0.1:{broker.controller_port}")
        settings = {"database_url": db_url_for(tmp), "tts_engines": "espeak", "broker_url": url,
                    "lead_time_s": lead_s, "validity_s": validity_s}
        self.env = {f"COMMUNE_RADIO_{k.upper()}": str(v) for k, v in settings.items()}
        ctl = Controller(load(data, **settings))
        with ctl.db.session() as s:
            users.add_user(s, "chu-tich", "admin")
            token = users.new_token(s, "chu-tich")
            for sid, hamlet in SPEAKERS.items():
                registry.add_speaker(s, sid, hamlet)
        rendered = speech.render_text(ctl, TEXT)
        with ctl.db.session() as s:
            self.announcement = announcements.create(s, ctl, title="Họp dân", text=TEXT,
                                                      rendered=rendered, source="tts", user=None,
                                                      approved=True).id
        keys = ctl.keys.public_keys_text()
        ctl.db.dispose()
        self.agents = {}
        for sid in SPEAKERS:
            path = tmp / f"{sid}.toml"
            agent_config.write(path, agent_config.render(
                speaker_id=sid, password=broker.add_speaker(sid), host="127.0.0.1",
                port=broker.port, prefix=broker.topics.prefix, public_keys=keys,
                data_dir=str(tmp / "agents" / sid), backend="file",
                sink_dir=str(self.sink(sid)), relay_enabled=False, keepalive=5))
            self.agents[sid] = Proc([str(BIN / "speaker-agent"), "--config", str(path)],
                                    tmp / "logs" / f"{sid}.log")
        self.data = data
        self.api = Api("", token)
        self.ctl = self._controller()

    def _controller(self) -> Proc:
        # A fresh port each start: after kill -9 the old one may linger in TIME_WAIT.
        port = free_port()
        self.api.base = f"http://127.0.0.1:{port}"
        return Proc([str(BIN / "commune-radio"), "serve", "--data", str(self.data), "--port",
                     str(port)], self.tmp / "logs" / "controller.log", self.env)

    def restart_controller(self) -> None:
        """Start the (killed) controller again and wait for its web server."""
        self.ctl = self._controller().start()
        wait_for(self.api.up, what="controller web after restart")

    def sink(self, sid):
        """Where an agent's file player writes what it played."""
        return self.tmp / "sink" / sid

    def start(self) -> System:
        """Controller, then agents; returns once all three are online."""
        self.ctl.start()
        wait_for(self.api.up, what="controller web")
        for a in self.agents.values():
            a.start()
        wait_for(lambda: all(s["online"] for s in self.api.speakers().values()), timeout=60,
                 what="three speakers online")
        return self

    def stop(self) -> None:
        """Stop every process."""
        for a in self.agents.values():
            a.stop()
        self.ctl.stop()

    def schedule_once(self, seconds_ahead: float) -> datetime:
        """A once-schedule on all speakers, due that many seconds from now; returns the due time."""
        due = (datetime.now(TZ) + timedelta(seconds=seconds_ahead)).replace(microsecond=0)
        status, body = self.api.call("POST", "/api/v1/schedules", {
            "announcement_id": self.announcement, "targets": {"all": True}, "kind": "once",
            "at": due.strftime("%Y-%m-%d %H:%M:%S")})
        assert status == 201, body
        return due

    def occurrence(self) -> dict:
        """The only agenda entry."""
        day = datetime.now(TZ).date()
        status, body = self.api.call("GET", f"/api/v1/agenda?from={day - timedelta(days=1)}"
                                            f"&to={day + timedelta(days=2)}")
        assert status == 200, body
        (occ,) = body["occurrences"]
        return occ

    def played_everywhere(self) -> dict | None:
        """The broadcast once every delivery reached `played`."""
        bid = self.occurrence()["broadcast_id"]
        b = self.api.broadcast(bid) if bid else None
        if b and len(b["deliveries"]) == len(SPEAKERS) and all(
                d["state"] == "played" for d in b["deliveries"]):
            return b
        return None


@pytest.fixture
def broker(tmp_path):
    """The shared test broker, but on a random port: other sessions' brokers start at 18830 and
    upward, and one of them could take our port while ours is stopped (seen here: the agents
    then met a stranger's broker that refused them)."""
    from tests.support.broker import TestBroker

    b = TestBroker(tmp_path / "broker")
    b.managed.requested_port = b.managed.port = free_port()
    b.start()
    yield b
    b.stop()


@pytest.fixture
def make_system(tmp_path, broker):
    made = []

    def make(lead_s: int, validity_s: int) -> System:
        made.append(System(tmp_path, broker, lead_s, validity_s))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def sleep_until(instant: datetime) -> None:
    time.sleep(max(0.0, (instant - datetime.now(TZ)).total_seconds()))


def test_restart_inside_the_validity_window_plays_on_all_targets(make_system):
    system = make_system(lead_s=5, validity_s=300).start()
    due = system.schedule_once(12)
    system.ctl.kill9()  # before the command went out (due − 5 s)
    sleep_until(due + timedelta(seconds=5))
    system.restart_controller()
    b = wait_for(system.played_everywhere, timeout=120, what="played on all three speakers")
    assert sorted(d["speaker_id"] for d in b["deliveries"]) == sorted(SPEAKERS)
    for d in b["deliveries"]:
        assert (system.sink(d["speaker_id"]) / f"{d['command_id']}.wav").exists()
    # It started late (after the restart), not at the due time it could no longer meet.
    assert parse_time(b["play_at"]) >= due + timedelta(seconds=5)
    assert system.occurrence()["state"] == "played"


def test_restart_past_the_validity_window_records_missed_and_plays_nothing(make_system):
    # The shortest validity a schedule may have (60 s); the controller comes back after it.
    system = make_system(lead_s=5, validity_s=60).start()
    due = system.schedule_once(12)
    system.ctl.kill9()
    sleep_until(due + timedelta(seconds=65))
    system.restart_controller()
    occ = wait_for(lambda: (o := system.occurrence())["state"] == "missed" and o, timeout=60,
                   what="occurrence recorded missed")
    assert occ["reason_code"] == "expired"
    assert "1 min validity" in occ["reason"] and "quá thời hạn hiệu lực 1 phút" in occ["reason_vi"]
    assert occ["broadcast_id"] is None
    assert system.api.call("GET", "/api/v1/broadcasts")[1]["broadcasts"] == []
    assert not any(list(system.sink(sid).glob("*.wav")) for sid in SPEAKERS)


def test_pre_delivered_command_plays_while_the_broker_is_down(make_system, broker):
    system = make_system(lead_s=15, validity_s=300).start()
    due = system.schedule_once(30)

    def all_downloaded():
        bid = system.occurrence()["broadcast_id"]
        b = system.api.broadcast(bid) if bid else None
        return b if b and all(d["state"] == "downloaded" for d in b["deliveries"]) else None

    b = wait_for(all_downloaded, timeout=60, what="every agent holding the downloaded command")
    assert datetime.now(TZ) < due, "pre-delivery came too late for this test to mean anything"
    broker.stop()
    wait_for(lambda: all(list(system.sink(sid).glob("*.wav")) for sid in SPEAKERS), timeout=90,
             what="all three agents played with the broker down")
    broker.restart()
    b = wait_for(system.played_everywhere, timeout=120, what="acks in the log after the broker returns")
    play_at = parse_time(b["play_at"])
    assert play_at == due
    for d in b["deliveries"]:
        (playing,) = [e for e in d["events"] if e["event"] == "playing"]
        assert parse_time(playing["at"]) >= play_at  # held until play_at, on the agent's clock
