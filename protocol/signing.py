"""Ed25519 signatures over the canonical command payload.

Canonical form: the payload without `sig`, as JSON with sorted keys, no spaces and
UTF-8 text. Both ends compute it from the decoded `Command`, so field order or
whitespace on the wire cannot change what is verified.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from protocol.errors import ProtocolError
from protocol.messages import Command

# A Command, a protocol.groups.GroupCommand or a Membership: each has id, kid, sig,
# unsigned_payload() and with_sig(), and is signed and verified the same way.
Signed = TypeVar("Signed")


def canonical_bytes(cmd) -> bytes:
    """The exact bytes that are signed and verified for a command."""
    return json.dumps(
        cmd.unsigned_payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short stable id for a public key, so agents can hold several during rotation."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The base64 text form used in agent config files."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public_key(text: str) -> Ed25519PublicKey:
    """Parse a base64 raw Ed25519 public key; ValueError on anything else."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except Exception as exc:  # binascii.Error or ValueError, both mean "not a key"
        raise ValueError(f"not a base64 Ed25519 public key: {exc}") from None


def sign(cmd: Signed, private_key: Ed25519PrivateKey) -> Signed:
    """Return the command (or group command, or membership) signed with the given key."""
    public = private_key.public_key()
    unsigned = cmd.with_sig(sig=None, kid=key_id(public))  # the kid is signed too
    sig = private_key.sign(canonical_bytes(unsigned))
    return unsigned.with_sig(base64.b64encode(sig).decode("ascii"), unsigned.kid)


def verify(cmd: Command | Signed, public_keys: dict[str, Ed25519PublicKey]) -> None:
    """Raise ProtocolError unless the command carries a valid signature by one of the keys."""
    if not cmd.sig:
        raise ProtocolError("missing signature", cmd.id)
    candidates = [public_keys[cmd.kid]] if cmd.kid in public_keys else []
    if not candidates:
        raise ProtocolError(f"signed by unknown key {cmd.kid!r}", cmd.id)
    try:
        sig = base64.b64decode(cmd.sig, validate=True)
    except Exception:
        raise ProtocolError("signature is not base64", cmd.id) from None
    message = canonical_bytes(cmd.with_sig(sig=None, kid=cmd.kid))
    for key in candidates:
        try:
            key.verify(sig, message)
            return
        except InvalidSignature:
            continue
    raise ProtocolError("bad signature", cmd.id)
