"""`commune-radio broker-config --out DIR`: files for an operator-run Mosquitto that enforces them."""

from __future__ import annotations

import getpass
import stat
import subprocess
import time

import pytest

from controller.managed_broker import find_mosquitto
from protocol.topics import Topics
from tests.security.mqtt_client import BAD_CREDENTIALS, NOT_AUTHORIZED, Probe
from tests.support.processes import cli, free_port

pytestmark = pytest.mark.process


def _secret_from_agent_config(path) -> str:
    import tomllib

    return tomllib.loads(path.read_text())["broker"]["password"]


def test_exported_files_run_a_broker_that_enforces_the_acl(tmp_path, env):
    data = tmp_path / "data"
    for sid, hamlet in (("spk-a", "Ấp Mỹ An"), ("spk-b", "Ấp Mỹ An"), ("spk-c", "Ấp Mỹ Hòa")):
        cli(data, "speaker", "add", sid, "--hamlet", hamlet, "--out", str(tmp_path / f"{sid}.toml"),
            env=env)
    cli(data, "speaker", "revoke", "spk-b", env=env)
    out, port = tmp_path / "export", free_port()
    cli(data, "broker-config", "--out", str(out), "--port", str(port), "--bind", "127.0.0.1",
        "--run-as", getpass.getuser(), env=env)
    for name in ("mosquitto.conf", "passwd", "acl"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    passwd = (out / "passwd").read_text()
    secret_a = _secret_from_agent_config(tmp_path / "spk-a.toml")
    assert secret_a not in passwd and "spk-a:$7$" in passwd  # hashed, never plain
    assert "spk-b" not in passwd and "spk-b" not in (out / "acl").read_text()  # revoked
    conf = (out / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "use_username_as_clientid true" in conf
    assert "max_packet_size" in conf and "max_queued_bytes" in conf

    broker = subprocess.Popen([find_mosquitto(), "-c", str(out / "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ok = None
        for _ in range(100):  # until it listens
            ok = Probe(port, "spk-a", secret_a)
            try:
                if ok.connect() == 0:
                    break
            except OSError:
                ok.close()
                time.sleep(0.1)
        assert ok.connack == 0, broker.stderr
        assert ok.publish(Topics("commune-radio").cmd("spk-b"), b"forged") == NOT_AUTHORIZED
        _group_topics_readable_only_by_their_hamlet_and_writable_by_none(data, env, port, ok)
        ok.close()
        revoked = Probe(port, "spk-b", _secret_from_agent_config(tmp_path / "spk-b.toml"))
        assert revoked.connect() in (NOT_AUTHORIZED, BAD_CREDENTIALS)
        revoked.close()
        anon = Probe(port)
        assert anon.connect() in (NOT_AUTHORIZED, BAD_CREDENTIALS)
        anon.close()
    finally:
        broker.terminate()
        broker.wait(10)


def _group_topics_readable_only_by_their_hamlet_and_writable_by_none(data, env, port, a: Probe):
    """spk-a (Ấp Mỹ An) reads its membership, the commune's and its hamlet's group topics;
    not spk-c's (Ấp Mỹ Hòa); and may publish on none of them."""
    import sqlalchemy as sa

    engine = sa.create_engine(env["COMMUNE_RADIO_DATABASE_URL"])
    with engine.connect() as conn:
        hid = dict(conn.execute(sa.text("SELECT name, id FROM hamlets")).all())
    engine.dispose()
    t = Topics("commune-radio")
    mine = [t.membership("spk-a"), t.commune_cmd(), t.hamlet_cmd(hid["Ấp Mỹ An"])]
    theirs = [t.membership("spk-c"), t.hamlet_cmd(hid["Ấp Mỹ Hòa"])]
    ctl = Probe(port, "controller", (data / "keys" / "broker-controller.secret").read_bytes().hex())
    try:
        assert ctl.connect() == 0
        for topic in mine + theirs:
            a.subscribe(topic)  # Mosquitto may grant and filter on delivery (test_broker_acl)
        for topic in theirs + mine:
            assert ctl.publish(topic, b"group " + topic.encode()) == 0
        a.wait(lambda: all(a.got(topic) for topic in mine), what="spk-a's own group topics")
        time.sleep(1.0)  # its own arrived after the others were published: give leaks time
        assert [topic for topic in theirs if a.got(topic)] == []
        for topic in mine + theirs:
            assert a.publish(topic, b"forged") == NOT_AUTHORIZED, topic
    finally:
        ctl.close()
