"""The managed broker's TLS listener (settings broker_tls_port / broker_*file) with a test CA."""

from __future__ import annotations

import pytest

from controller.config import ConfigError
from controller.services import registry
from tests.security.certs import make_ca_and_server
from tests.security.mqtt_client import BAD_CREDENTIALS, NOT_AUTHORIZED, Probe
from tests.support.processes import free_port

pytestmark = pytest.mark.process


def test_tls_listener_accepts_speakers_that_trust_the_ca(tmp_path, running):
    pem = make_ca_and_server(tmp_path / "tls")
    other_ca = make_ca_and_server(tmp_path / "other", "someone else's CA")["ca"]
    tls_port = free_port()
    ctl = running(broker_tls_port=tls_port, broker_cafile=str(pem["ca"]),
                  broker_certfile=str(pem["cert"]), broker_keyfile=str(pem["key"]))
    with ctl.db.session() as s:
        _, pw = registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
    ctl.start(web_port=free_port())
    assert f"listener {tls_port}" in ctl.broker.config_path.read_text()

    ok = Probe(tls_port, "spk-a", pw, tls_ca=str(pem["ca"]))
    assert ok.connect() == 0
    assert ok.subscribe(ctl.topics.cmd("spk-a")) == [1]
    ok.close()

    # Same ACL and passwords on the TLS listener: anonymous is still refused.
    anon = Probe(tls_port, tls_ca=str(pem["ca"]))
    assert anon.connect() in (NOT_AUTHORIZED, BAD_CREDENTIALS)
    anon.close()

    # A client that does not trust the server's CA cannot complete the handshake.
    wrong = Probe(tls_port, "spk-a", pw, tls_ca=str(other_ca))
    with pytest.raises(OSError):  # ssl.SSLCertVerificationError is an OSError
        wrong.connect()
    wrong.close()


def test_tls_settings_must_name_existing_files(tmp_path):
    from controller.config import load

    with pytest.raises(ConfigError, match="broker_cafile"):
        load(tmp_path / "data", broker_tls_port=8883, broker_cafile=str(tmp_path / "missing.pem"))
