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


def test_retained_fake_rejection_is_audited_once_across_controller_restarts(running):
    import sqlalchemy as sa

    from controller.models import AuditEvent
    from protocol.messages import Ack, utc_now
    from tests.support.processes import wait_for

    def audited(ctl) -> int:
        with ctl.db.session() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "command_rejected"))

    ctl = running()
    with ctl.db.session() as s:
        _, pw = registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
    ctl.start(web_port=free_port())
    wait_for(ctl.bus.connected.is_set, what="controller connected")
    pi = Probe(ctl.broker.port, "spk-a", pw, "speaker-spk-a")
    try:
        assert pi.connect() == 0
        fake = Ack("no-such-command", "spk-a", "rejected", utc_now(), detail="bad signature")
        assert pi.publish(ctl.topics.ack("spk-a"), fake.encode(), retain=True) == 0
    finally:
        pi.close()
    wait_for(lambda: audited(ctl) == 1, what="the rejection audited")
    ctl.stop()
    again = running()
    again.start(web_port=free_port())
    # The broker hands the retained ack to the new subscription; once it is ingested:
    wait_for(lambda: again.ingestor.processed >= 1, what="the retained ack ingested again")
    assert audited(again) == 1
