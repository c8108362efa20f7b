"""Revoking a speaker cuts it off the broker at once; other speakers stay connected."""

from __future__ import annotations

import pytest

from controller.services import registry
from tests.security.mqtt_client import BAD_CREDENTIALS, NOT_AUTHORIZED, Probe
from tests.support.processes import cli, free_port

pytestmark = pytest.mark.process


@pytest.mark.parametrize("how", ["cli", "service"])
def test_revoked_speaker_is_disconnected_and_refused_others_keep_going(tmp_path, env, running, how):
    ctl = running()
    with ctl.db.session() as s:
        _, pw_a = registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
        _, pw_b = registry.add_speaker(s, "spk-b", "Ấp Mỹ Hòa")
    ctl.start(web_port=free_port())
    port, t = ctl.broker.port, ctl.topics
    a = Probe(port, "spk-a", pw_a, "speaker-spk-a")
    b = Probe(port, "spk-b", pw_b, "speaker-spk-b")
    watcher = Probe(port, "controller", ctl.controller_broker_password())
    try:
        for p in (a, b, watcher):
            assert p.connect() == 0
        assert a.subscribe(t.cmd("spk-a")) == [1]
        assert b.subscribe(t.cmd("spk-b")) == [1]
        if how == "cli":  # another process: the running broker is found by its pid file
            cli(tmp_path / "data", "speaker", "revoke", "spk-a", env=env)
        else:
            with ctl.db.session() as s:
                registry.revoke_speaker(s, "spk-a")
            ctl.sync_broker_auth()
        # Mosquitto 2.0.11 re-checks every connected client on SIGHUP and drops those
        # whose account is gone; paho then reconnects and is refused.
        a.wait(lambda: a.disconnects, what="revoked speaker disconnected")
        a.wait(lambda: a.connack in (NOT_AUTHORIZED, BAD_CREDENTIALS), timeout=30,
               what="revoked speaker's reconnect refused")
        assert watcher.publish(t.cmd("spk-a"), b"after revocation") in (0, 16)
        assert watcher.publish(t.cmd("spk-b"), b"still here") in (0, 16)
        b.wait(lambda: b.got(t.cmd("spk-b")), what="B still receives commands")
        assert b.disconnects == []
        assert a.got(t.cmd("spk-a")) == []
        # A fresh connection with the old secret is refused too.
        again = Probe(port, "spk-a", pw_a)
        assert again.connect() in (NOT_AUTHORIZED, BAD_CREDENTIALS)
        again.close()
    finally:
        for p in (a, b, watcher):
            p.close()
