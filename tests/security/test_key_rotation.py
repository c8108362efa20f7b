"""Key rotation as documented in docs/security.md, with a running controller and a real agent.

`keys rotate` stages a new key and writes both keys into the agent configs; commands are
still signed by the current key. After every agent has restarted with both keys,
`keys retire` switches the controller (without a restart) to the new key and drops the
old one: the agents, given the new list, then refuse anything signed by the old key.
"""

from __future__ import annotations

import json
import tomllib

import pytest
from cryptography.hazmat.primitives import serialization

from protocol.acks import decode_acks
from protocol.messages import Ack
from protocol.signing import sign
from tests.security.system import System, forged_command
from tests.support.processes import cli, wait_for

pytestmark = pytest.mark.process


@pytest.fixture
def system(tmp_path, env):
    """A running controller and two agents."""
    s = System(tmp_path, env).start()
    yield s
    s.stop()


def _key(path):
    return serialization.load_pem_private_key(path.read_bytes(), None)


def _ping(system: System, key, listener) -> Ack:
    cmd = sign(forged_command("spk-a", "ping"), key)
    assert listener.publish(system.topics.cmd("spk-a"), cmd.encode()) == 0

    def answered():
        acks = [a for p in listener.got(system.topics.ack("spk-a")) for a in decode_acks(p)]
        return next((a for a in acks if a.command_id == cmd.id and a.event != "received"), None)

    return wait_for(answered, what=f"ack of {cmd.id}")


def test_rotate_then_retire(system):
    keys_dir = system.data / "keys"
    old_key = _key(keys_dir / "command-signing.pem")
    configs = [a for c in ("spk-a", "spk-b") for a in ("--agent-config", str(system.config(c)))]
    out = cli(system.data, "keys", "rotate", *configs, env=system.env)
    assert "staged signing key" in out
    new_key = _key(keys_dir / "command-signing.next.pem")
    trusted = tomllib.loads(system.config("spk-a").read_text())["security"]["public_keys"]
    assert len(trusted) == 2
    system.restart_agent("spk-a")

    # The operator's tool (here: the broker's controller account) checks both keys work.
    tool = system.attacker()
    try:
        assert tool.subscribe(system.topics.ack("spk-a")) == [1]
        assert _ping(system, new_key, tool).event == "pong"
        assert _ping(system, old_key, tool).event == "pong"
        # The controller still signs with the old key: a broadcast plays on both agents,
        # including spk-b, which has not been restarted with the new list yet.
        system.broadcast_and_wait("spk-a")
        system.broadcast_and_wait("spk-b")

        cli(system.data, "keys", "retire", *configs, env=system.env)
        assert len(tomllib.loads(system.config("spk-a").read_text())["security"]["public_keys"]) == 1
        system.restart_agent("spk-a")
        # The running controller follows the switch without a restart.
        b = system.broadcast_and_wait("spk-a", "Sau khi đổi khóa, bản tin vẫn phát.")
        assert b["deliveries"][0]["state"] == "played"
        refused = _ping(system, old_key, tool)
        assert refused.event == "rejected" and "unknown key" in refused.detail
        assert _ping(system, new_key, tool).event == "pong"
    finally:
        tool.close()
    actions = [e["action"] for e in system.audit("signing_key_rotated") + system.audit("signing_key_retired")]
    assert actions == ["signing_key_rotated", "signing_key_retired"]
    assert json.dumps(trusted)  # the key list is plain base64 text agents can carry
