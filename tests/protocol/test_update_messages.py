"""The `update` command: round trip, signature over the manifest, strict refusal of bad manifests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import ProtocolError
from protocol.messages import Ack, Command, Update, decode_command
from protocol.signing import key_id, sign, verify

NOW = datetime.now(UTC).replace(microsecond=0)  # the wire keeps milliseconds
MANIFEST = Update(version="0.2.0", url="http://127.0.0.1:8080/updates/commune_radio-0.2.0-py3-none-any.whl",
                  sha256="b" * 64, bytes=123456)


def update_cmd(**kw) -> Command:
    base = dict(id="u1", type="update", speaker_id="ap-1", issued_at=NOW,
                expires_at=NOW + timedelta(days=1), update=MANIFEST)
    base.update(kw)
    return Command(**base)


def test_update_command_round_trips_and_its_manifest_is_signed():
    key = Ed25519PrivateKey.generate()
    cmd = sign(update_cmd(), key)
    back = decode_command(cmd.encode())
    assert back == cmd and back.update == MANIFEST
    verify(back, {key_id(key.public_key()): key.public_key()})
    obj = json.loads(cmd.encode())
    obj["update"]["sha256"] = "c" * 64  # a tampered manifest no longer verifies
    with pytest.raises(ProtocolError, match="bad signature"):
        verify(decode_command(json.dumps(obj).encode()), {key_id(key.public_key()): key.public_key()})


@pytest.mark.parametrize("change,words", [
    ({"update": None}, "missing field 'update'"),
    ({"update": {**MANIFEST.to_payload(), "version": "latest"}}, "update.version"),
    ({"update": {**MANIFEST.to_payload(), "url": "file:///tmp/x.whl"}}, "update.url"),
    ({"update": {**MANIFEST.to_payload(), "url": "http://127.0.0.1/x.tar.gz"}}, "update.url"),
    ({"update": {**MANIFEST.to_payload(), "sha256": "B" * 64}}, "update.sha256"),
    ({"update": {**MANIFEST.to_payload(), "bytes": 0}}, "update.bytes"),
    ({"update": {**MANIFEST.to_payload(), "extra": 1}}, "unknown field 'update.extra'"),
    ({"type": "ping"}, "only for type 'update'"),
])
def test_bad_update_manifests_are_refused_naming_the_field(change, words):
    obj = update_cmd().to_payload()
    obj.update(change)
    obj = {k: v for k, v in obj.items() if v is not None}
    with pytest.raises(ProtocolError, match=words) as exc:
        decode_command(json.dumps(obj).encode())
    assert exc.value.command_id == "u1"


def test_update_ack_events_decode():
    for event in ("update_installed", "update_failed", "rolled_back"):
        ack = Ack("u1", "ap-1", event, NOW, "0.2.0")
        assert Ack.decode(ack.encode()).event == event
