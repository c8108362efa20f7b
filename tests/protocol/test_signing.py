"""Ed25519 command signatures: valid ones verify; anything altered, unsigned or foreign does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import ProtocolError
from protocol.messages import decode_command
from protocol.signing import key_id, load_public_key, public_key_text, sign, verify
from tests.protocol.test_messages import play


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


def keys(*private):
    return {key_id(k.public_key()): k.public_key() for k in private}


def test_signed_command_verifies_after_a_trip_over_the_wire(key):
    cmd = decode_command(sign(play(), key).encode())
    verify(cmd, keys(key))


@pytest.mark.parametrize("change", [
    {"speaker_id": "ap-2"}, {"priority": "normal"}, {"label": "Tin giả"},
    {"play_at": play().play_at + timedelta(seconds=1)},
])
def test_any_change_to_a_signed_field_breaks_the_signature(key, change):
    tampered = replace(sign(play(), key), **change)
    with pytest.raises(ProtocolError, match="bad signature"):
        verify(tampered, keys(key))


def test_unsigned_and_foreign_commands_are_refused(key):
    with pytest.raises(ProtocolError, match="missing signature"):
        verify(play(), keys(key))
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ProtocolError, match="unknown key"):
        verify(sign(play(), other), keys(key))
    # A forger who copies our key id still fails: the signature does not match the key.
    forged = replace(sign(play(), other), kid=key_id(key.public_key()))
    with pytest.raises(ProtocolError, match="bad signature"):
        verify(forged, keys(key))


def test_rotation_agents_holding_both_keys_accept_either(key):
    new = Ed25519PrivateKey.generate()
    trusted = keys(key, new)
    verify(sign(play(), key), trusted)
    verify(sign(play(), new), trusted)
    with pytest.raises(ProtocolError):
        verify(sign(play(), key), keys(new))  # after the old key is retired


def test_public_key_text_round_trips_and_rejects_junk(key):
    text = public_key_text(key.public_key())
    assert key_id(load_public_key(text)) == key_id(key.public_key())
    with pytest.raises(ValueError, match="not a base64 Ed25519 public key"):
        load_public_key("not-a-key")
