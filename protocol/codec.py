"""Low-level codec: wire times, JSON in and out, and a typed field reader that names bad fields."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from protocol.errors import ProtocolError

SCHEMA_VERSION = 1
MAX_PAYLOAD_BYTES = 64 * 1024

def format_time(at: datetime) -> str:
    """RFC 3339 UTC with milliseconds and a trailing Z, the only time format on the wire."""
    if at.tzinfo is None:
        raise ValueError("naive datetime on the wire")
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any, name: str = "time", command_id: str | None = None) -> datetime:
    """Parse a wire timestamp into an aware UTC datetime; ProtocolError names the field."""
    if not isinstance(value, str) or not value.endswith("Z"):
        raise ProtocolError(f"field '{name}' must be an RFC 3339 UTC time ending in Z", command_id)
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise ProtocolError(f"field '{name}' is not a valid time: {value[:40]!r}", command_id) from None


def load_json(raw: bytes | str) -> dict:
    """Decode a payload into a JSON object, raising ProtocolError on anything else."""
    if isinstance(raw, bytes | bytearray):
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise ProtocolError(f"payload of {len(raw)} bytes is over {MAX_PAYLOAD_BYTES}")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("payload is not UTF-8") from None
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError("payload is not JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError("payload is not a JSON object")
    return obj


def dump_json(obj: dict) -> bytes:
    """Encode a payload as compact UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Reader:
    """Reads typed fields from a decoded object, naming the field in every error."""

    def __init__(self, obj: dict, command_id: str | None = None):
        self.obj = obj
        self.command_id = command_id

    def get(self, name: str, kind: type | tuple, required: bool = True, default: Any = None):
        """Return field `name` checked against `kind`; missing optional fields give `default`."""
        if name not in self.obj or self.obj[name] is None:
            if required:
                raise ProtocolError(f"missing field '{name}'", self.command_id)
            return default
        value = self.obj[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; the wire does not agree.
        if isinstance(value, bool) and bool not in kinds:
            raise ProtocolError(f"field '{name}' has the wrong type", self.command_id)
        if not isinstance(value, kinds):
            names = "/".join(k.__name__ for k in kinds)
            raise ProtocolError(f"field '{name}' must be {names}", self.command_id)
        return value

    def choice(self, name: str, options: tuple[str, ...], required: bool = True, default=None):
        """Return a string field that must be one of `options`."""
        value = self.get(name, str, required, default)
        if value is not None and value not in options:
            raise ProtocolError(
                f"field '{name}' is {value[:40]!r}, expected one of {', '.join(options)}",
                self.command_id,
            )
        return value

    def time(self, name: str, required: bool = True) -> datetime | None:
        """Return a timestamp field as an aware datetime."""
        value = self.get(name, str, required)
        return None if value is None else parse_time(value, name, self.command_id)

    def version(self) -> int:
        """Check the schema version."""
        v = self.get("v", int)
        if v != SCHEMA_VERSION:
            raise ProtocolError(f"unsupported schema version {v}", self.command_id)
        return v


def utc_now() -> datetime:
    """The current instant in UTC (one place, so tests can see what 'now' means on the wire)."""
    return datetime.now(UTC)


class Signable:
    """Mixin for a signed message dataclass: it has unsigned_payload(), `sig` and `kid`."""

    def to_payload(self) -> dict:
        """Return the JSON-ready dict, signature included when present."""
        out = self.unsigned_payload()
        if self.sig is not None:
            out["sig"] = self.sig
        return out

    def encode(self) -> bytes:
        """Serialize for publishing."""
        return dump_json(self.to_payload())

    def with_sig(self, sig: str | None, kid: str | None):
        """Return a copy carrying a signature (and the id of the key that made it)."""
        return replace(self, sig=sig, kid=kid)
