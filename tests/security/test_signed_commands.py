"""Signed commands end to end: `commune-radio serve` + managed Mosquitto + real speaker agents.

An attacker who stole the controller's *broker password* (keys/broker-controller.secret)
can publish on any command topic, but without the signing key nothing plays: the agent
acks `rejected` and the controller writes the rejection to its audit log.
"""

from __future__ import annotations

import base64
import re
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import sign
from tests.security.system import System, forged_command
from tests.support.processes import wait_for

pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """One running system shared by the tests of this module (they run in file order)."""
    from tests.support.controller import fresh_db_url
    from tests.support.processes import free_port

    tmp = tmp_path_factory.mktemp("signed")
    env = {"COMMUNE_RADIO_TTS_ENGINES": "espeak", "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp),
           "COMMUNE_RADIO_BROKER_PORT": str(free_port())}
    sys_ = System(tmp, env).start()
    yield sys_
    sys_.stop()


def _rejections(system: System, command_id: str) -> list[dict]:
    return [e for e in system.audit("command_rejected") if e["target"] == command_id]


@pytest.mark.parametrize("forgery", ["unsigned", "attacker_key", "bad_sig_with_real_kid"])
def test_forged_command_with_stolen_broker_password_is_rejected_and_audited(system, forgery):
    attacker = system.attacker()
    try:
        cmd = forged_command("spk-a")
        if forgery == "attacker_key":
            cmd = sign(cmd, Ed25519PrivateKey.generate())
        elif forgery == "bad_sig_with_real_kid":  # names the controller's key, cannot sign
            cmd = cmd.with_sig(base64.b64encode(b"\0" * 64).decode(), _active_kid(system))
        assert attacker.publish(system.topics.cmd("spk-a"), cmd.encode()) == 0  # broker lets it in
        events = wait_for(lambda: _rejections(system, cmd.id), what="rejection in the audit log")
    finally:
        attacker.close()
    assert events[0]["actor"] == "spk-a"
    assert "signature" in events[0]["detail"]
    assert system.plays("spk-a", cmd.id) == []
    assert not any(cmd.id in p.name for p in system.sink_files("spk-a"))


def _active_kid(system: System) -> str:
    from cryptography.hazmat.primitives import serialization

    from protocol.signing import key_id

    pem = (system.data / "keys" / "command-signing.pem").read_bytes()
    return key_id(serialization.load_pem_private_key(pem, None).public_key())


def test_valid_command_replayed_later_plays_only_once(system):
    t = system.topics
    spy = system.attacker()  # records the genuine signed command off the wire
    try:
        assert spy.subscribe(t.cmd("spk-a")) == [1]
        b = system.broadcast_and_wait("spk-a", "Bản tin thử: phát lại không được phát hai lần.")
        command_id = b["deliveries"][0]["command_id"]
        wait_for(lambda: spy.got(t.cmd("spk-a")), what="the spy saw the command")
        captured = spy.got(t.cmd("spk-a"))[0]
        assert len(system.plays("spk-a", command_id)) == 1
        # Later, and after the agent restarted (its memory of ids is durable), replay it.
        system.restart_agent("spk-a")
        assert spy.publish(t.cmd("spk-a"), captured) == 0
        wait_for(lambda: _rejections(system, command_id), what="replay rejected in the audit log")
    finally:
        spy.close()
    assert "replay" in _rejections(system, command_id)[0]["detail"]
    assert len(system.plays("spk-a", command_id)) == 1


def test_no_secret_in_logs_and_secret_files_are_0600(system):
    secrets = {f"{sid} broker secret": system.secret(sid) for sid in ("spk-a", "spk-b")}
    secrets["controller broker password"] = system.controller_broker_password()
    secrets["API token"] = system.token
    keys = system.data / "keys"
    pem = (keys / "command-signing.pem").read_text()
    secrets["signing key"] = "".join(pem.strip().splitlines()[1:-1])
    for name in ("media.key", "flask.key"):
        raw = (keys / name).read_bytes()
        secrets[f"{name} (hex)"] = raw.hex()
        secrets[f"{name} (base64)"] = base64.b64encode(raw).decode()
    logs = [system.ctl.log, *(a.log for a in system.agents.values()),
            *(system.data / "broker").glob("mosquitto.*")]
    logs = [p for p in logs if p.suffix in (".log", ".stderr")]
    assert system.ctl.log in logs and len(logs) >= 4
    for log in logs:
        text = log.read_text(errors="replace")
        for what, value in secrets.items():
            assert value not in text, f"{what} leaked into {log.name}"
    # The agents did log their activity (the scan looked at real content).
    assert re.search(r"rejected", system.agents["spk-a"].output())

    private = [*keys.iterdir(), system.config("spk-a"), system.config("spk-b"),
               *(system.data / "broker" / n for n in ("passwd", "acl", "mosquitto.conf"))]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} is not 0600"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
