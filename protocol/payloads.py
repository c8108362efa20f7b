"""The objects a command carries: the audio file (Media), the stream (Stream), the update (Update).

Split from protocol.messages, which re-exports them; the same strict decoding rules apply:
an unknown field or a bad value raises ProtocolError naming the field and the command id.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from protocol.codec import _Reader, format_time
from protocol.errors import ProtocolError

STREAM_KINDS = ("relay", "live")
"""A relay (tiếp sóng) of an upstream station, or live speech from the commune."""
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
"""Command and session ids: they become file names and MQTT payload keys."""
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SESSION_ID_RE = ID_RE
# A PEP 440 public version in its plain form (1.2.3, 1.3.0rc1, 2.0.post1): checked here
# with a regex so the protocol needs no `packaging`; the agent compares with packaging.
VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+){0,3}((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$")
MAX_UPDATE_BYTES = 500_000_000


@dataclass(frozen=True)
class Media:
    """The audio a play command refers to, pinned by its SHA-256."""

    url: str
    sha256: str
    bytes: int
    duration_ms: int

    def to_payload(self) -> dict:
        """Return the JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_payload(cls, obj: Any, command_id: str | None = None) -> Media:
        """Validate and build from a decoded dict."""
        if not isinstance(obj, dict):
            raise ProtocolError("field 'media' must be an object", command_id)
        r = _Reader(obj, command_id)
        url = r.get("url", str)
        if not url.startswith(("http://", "https://")):
            raise ProtocolError("field 'media.url' must be an http(s) URL", command_id)
        sha = r.get("sha256", str)
        if not SHA256_RE.match(sha):
            raise ProtocolError("field 'media.sha256' must be 64 lowercase hex digits", command_id)
        size = r.get("bytes", int)
        duration = r.get("duration_ms", int)
        if size <= 0 or duration <= 0:
            raise ProtocolError("fields 'media.bytes' and 'media.duration_ms' must be > 0", command_id)
        return cls(url=url, sha256=sha, bytes=size, duration_ms=duration)


@dataclass(frozen=True)
class Stream:
    """The stream a play_stream command refers to: an Icecast mount, its session and token.

    The agent pulls `url` with `token` (Icecast asks the controller whether that token is
    valid for that speaker and session) from the command's `play_at` until `until`, and stops
    on its own at `until` even if the controller is gone.
    """

    session_id: str
    url: str
    token: str
    kind: str
    until: datetime

    def to_payload(self) -> dict:
        """Return the JSON-ready dict."""
        return {"session_id": self.session_id, "url": self.url, "token": self.token,
                "kind": self.kind, "until": format_time(self.until)}

    @classmethod
    def from_payload(cls, obj: Any, command_id: str | None = None) -> Stream:
        """Validate and build from a decoded dict."""
        if not isinstance(obj, dict):
            raise ProtocolError("field 'stream' must be an object", command_id)
        r = _Reader(obj, command_id)
        session_id = r.get("session_id", str)
        if not SESSION_ID_RE.match(session_id):
            raise ProtocolError("field 'stream.session_id' is not a valid session id", command_id)
        url = r.get("url", str)
        if not url.startswith(("http://", "https://")):
            raise ProtocolError("field 'stream.url' must be an http(s) URL", command_id)
        token = r.get("token", str)
        if not 16 <= len(token) <= 200:
            raise ProtocolError("field 'stream.token' must be 16-200 characters", command_id)
        kind = r.choice("kind", STREAM_KINDS)
        extra = set(obj) - {"session_id", "url", "token", "kind", "until"}
        if extra:
            raise ProtocolError(f"unknown field 'stream.{sorted(extra)[0]}'", command_id)
        return cls(session_id=session_id, url=url, token=token, kind=kind,
                   until=r.time("until"))


@dataclass(frozen=True)
class Update:
    """The signed manifest of an agent update: a commune-radio wheel pinned by its SHA-256."""

    version: str
    url: str
    sha256: str
    bytes: int

    def to_payload(self) -> dict:
        """Return the JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_payload(cls, obj: Any, command_id: str | None = None) -> Update:
        """Validate and build from a decoded dict."""
        if not isinstance(obj, dict):
            raise ProtocolError("field 'update' must be an object", command_id)
        r = _Reader(obj, command_id)
        version = r.get("version", str)
        if not VERSION_RE.match(version):
            raise ProtocolError("field 'update.version' is not a version like 1.2.3", command_id)
        url = r.get("url", str)
        if not url.startswith(("http://", "https://")) or not url.endswith(".whl"):
            raise ProtocolError("field 'update.url' must be an http(s) URL of a .whl file", command_id)
        sha = r.get("sha256", str)
        if not SHA256_RE.match(sha):
            raise ProtocolError("field 'update.sha256' must be 64 lowercase hex digits", command_id)
        size = r.get("bytes", int)
        if not 0 < size <= MAX_UPDATE_BYTES:
            raise ProtocolError(f"field 'update.bytes' must be between 1 and {MAX_UPDATE_BYTES}",
                                command_id)
        extra = set(obj) - {"version", "url", "sha256", "bytes"}
        if extra:
            raise ProtocolError(f"unknown field 'update.{sorted(extra)[0]}'", command_id)
        return cls(version=version, url=url, sha256=sha, bytes=size)
