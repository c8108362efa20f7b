"""A speaker's secret cannot knock the controller off the managed broker by taking its client id."""

from __future__ import annotations

import pytest

from controller.services import registry
from tests.security.mqtt_client import Probe
from tests.support.processes import free_port, wait_for

pytestmark = pytest.mark.process


def test_speaker_using_the_controllers_client_id_does_not_disconnect_it(running):
    ctl = running()
    with ctl.db.session() as s:
        _, pw = registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
    ctl.start(web_port=free_port())
    wait_for(ctl.bus.connected.is_set, what="controller connected")
    drops = []
    paho_callback = ctl.bus.client.on_disconnect
    ctl.bus.client.on_disconnect = lambda *a: (drops.append(a[3]), paho_callback(*a))
    ids = [ctl.bus.client._client_id.decode(), "controller", "controller-commune-radio"]
    attackers = [Probe(ctl.broker.port, "spk-a", pw, cid) for cid in ids]
    try:
        for p in attackers:
            assert p.connect() == 0
            p.close()
        # The controller still hears the speaker: what it publishes reaches the ingestor.
        pi = Probe(ctl.broker.port, "spk-a", pw)
        assert pi.connect() == 0
        assert pi.publish(ctl.topics.state("spk-a"), b"{}") == 0  # 16 if nobody listened
        pi.close()
        wait_for(lambda: ctl.ingestor.processed >= 1, what="the state ingested")
        assert drops == []
    finally:
        for p in attackers:
            p.close()
