"""Payload shapes: frozen dataclasses with strict `from_payload` and `to_payload`.

Every payload is a JSON object carrying the schema version `v`. Decoding is strict:
an unknown type, a missing field or a field of the wrong type raises ProtocolError,
with the command id attached when it could be read, so the agent can acknowledge
`rejected` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from protocol.codec import (  # noqa: F401 - re-exported: part of this module's API
    MAX_PAYLOAD_BYTES,
    SCHEMA_VERSION,
    Signable,
    _Reader,
    dump_json,
    format_time,
    load_json,
    parse_time,
    utc_now,
)
from protocol.errors import ProtocolError
from protocol.payloads import (  # noqa: F401 - re-exported: part of this module's API
    ID_RE,
    MAX_UPDATE_BYTES,
    SESSION_ID_RE,
    SHA256_RE,
    STREAM_KINDS,
    VERSION_RE,
    Media,
    Stream,
    Update,
)
from protocol.topics import check_speaker_id

COMMAND_TYPES = ("play", "play_stream", "stop", "volume", "ping", "update")
PRIORITIES = ("normal", "priority", "emergency")
PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}
# Who may interrupt whom on one horn: emergency > live > priority announcement > relay >
# normal announcement. Streams are ranked by kind, not by the three bulletin levels alone,
# so a relay sits between a normal and a priority announcement, and live above priority.
AIRTIME_RANK = {("file", "normal"): 0, ("relay", "normal"): 1, ("relay", "priority"): 1,
                ("file", "priority"): 2, ("live", "normal"): 3, ("live", "priority"): 3}
EMERGENCY_RANK = 4
STREAM_STOP_REASONS = ("ended", "stopped", "preempted", "revoked", "failed")
"""Why a stream session stopped on a speaker (the detail of `stream_stopped`)."""
ACK_EVENTS = (
    "received",
    "downloaded",
    "playing",
    "played",
    "failed",
    "expired",
    "preempted",
    "rejected",
    "stopped",
    "volume_set",
    "pong",
    "stream_playing",
    "stream_stalled",
    "stream_stopped",
    "update_installed",
    "update_failed",
    "rolled_back",
)
"""update_installed: the new version runs and reached the broker (sent by the new version);
update_failed: download, hash or install failed (the old version keeps running);
rolled_back: the new version did not come up healthy in time and the previous one is back.
A refused update (unsigned, bad signature, downgrade, no room) is `rejected` with the reason."""
# Events after which a delivery will not change by itself.
FINAL_EVENTS = ("played", "failed", "expired", "rejected", "stopped", "stream_stopped",
                "update_installed", "update_failed", "rolled_back")
COMMAND_ID_RE = ID_RE
MAX_TEXT = 500


def airtime_rank(priority: str, kind: str = "file") -> int:
    """Rank on the air of a file announcement or a stream; higher interrupts lower."""
    if priority == "emergency":
        return EMERGENCY_RANK
    return AIRTIME_RANK[(kind, priority)]


@dataclass(frozen=True)
class Command(Signable):
    """A controller → speaker command. `sig` is an Ed25519 signature over the other fields."""

    id: str
    type: str
    speaker_id: str
    issued_at: datetime
    expires_at: datetime
    priority: str = "normal"
    play_at: datetime | None = None
    media: Media | None = None
    stream: Stream | None = None
    session_id: str | None = None
    """With `stop`: stop only this stream session (and nothing else that is playing)."""
    volume: int | None = None
    label: str | None = None
    update: Update | None = None
    """With `update`: the agent version to install."""
    kid: str | None = None
    sig: str | None = None
    v: int = field(default=SCHEMA_VERSION)

    def unsigned_payload(self) -> dict:
        """The payload without its signature: what gets signed."""
        out: dict[str, Any] = {
            "v": self.v,
            "id": self.id,
            "type": self.type,
            "speaker_id": self.speaker_id,
            "issued_at": format_time(self.issued_at),
            "expires_at": format_time(self.expires_at),
            "priority": self.priority,
        }
        if self.play_at is not None:
            out["play_at"] = format_time(self.play_at)
        if self.media is not None:
            out["media"] = self.media.to_payload()
        if self.stream is not None:
            out["stream"] = self.stream.to_payload()
        if self.session_id is not None:
            out["session_id"] = self.session_id
        if self.volume is not None:
            out["volume"] = self.volume
        if self.label is not None:
            out["label"] = self.label
        if self.update is not None:
            out["update"] = self.update.to_payload()
        if self.kid is not None:
            out["kid"] = self.kid
        return out


    @classmethod
    def from_payload(cls, obj: dict) -> Command:
        """Validate and build a command from a decoded dict."""
        raw_id = obj.get("id")
        cid = raw_id if isinstance(raw_id, str) and COMMAND_ID_RE.match(raw_id) else None
        r = _Reader(obj, cid)
        r.version()
        cmd_id = r.get("id", str)
        if cid is None:
            raise ProtocolError("field 'id' must be 1-80 characters of A-Z a-z 0-9 _ . : -")
        ctype = r.choice("type", COMMAND_TYPES)
        speaker_id = r.get("speaker_id", str)
        try:
            check_speaker_id(speaker_id)
        except ProtocolError as exc:
            raise ProtocolError(str(exc), cid) from None
        priority = r.choice("priority", PRIORITIES, required=False, default="normal")
        play_at = r.time("play_at", required=ctype in ("play", "play_stream"))
        if ctype == "play" and obj.get("media") is None:
            raise ProtocolError("missing field 'media'", cid)
        media = Media.from_payload(obj["media"], cid) if obj.get("media") is not None else None
        if ctype == "play_stream" and obj.get("stream") is None:
            raise ProtocolError("missing field 'stream'", cid)
        stream = Stream.from_payload(obj["stream"], cid) if obj.get("stream") is not None else None
        if stream is not None and play_at is not None and stream.until <= play_at:
            raise ProtocolError("field 'stream.until' is not after 'play_at'", cid)
        session_id = r.get("session_id", str, required=False)
        if session_id is not None and not SESSION_ID_RE.match(session_id):
            raise ProtocolError("field 'session_id' is not a valid session id", cid)
        volume = r.get("volume", int, required=ctype == "volume")
        if volume is not None and not 0 <= volume <= 100:
            raise ProtocolError("field 'volume' must be between 0 and 100", cid)
        label = r.get("label", str, required=False)
        if label is not None and len(label) > MAX_TEXT:
            raise ProtocolError(f"field 'label' is over {MAX_TEXT} characters", cid)
        if ctype == "update" and obj.get("update") is None:
            raise ProtocolError("missing field 'update'", cid)
        if ctype != "update" and obj.get("update") is not None:
            raise ProtocolError("field 'update' is only for type 'update'", cid)
        update = Update.from_payload(obj["update"], cid) if obj.get("update") is not None else None
        issued_at = r.time("issued_at")
        expires_at = r.time("expires_at")
        if expires_at <= issued_at:
            raise ProtocolError("field 'expires_at' is not after 'issued_at'", cid)
        known = {
            "v", "id", "type", "speaker_id", "issued_at", "expires_at", "priority",
            "play_at", "media", "stream", "session_id", "volume", "label", "update", "kid", "sig",
        }
        extra = set(obj) - known
        if extra:
            raise ProtocolError(f"unknown field '{sorted(extra)[0]}'", cid)
        return cls(
            id=cmd_id,
            type=ctype,
            speaker_id=speaker_id,
            issued_at=issued_at,
            expires_at=expires_at,
            priority=priority,
            play_at=play_at,
            media=media,
            stream=stream,
            session_id=session_id,
            volume=volume,
            label=label,
            update=update,
            kid=r.get("kid", str, required=False),
            sig=r.get("sig", str, required=False),
        )


def decode_command(raw: bytes | str) -> Command:
    """Decode raw bytes into a Command, raising ProtocolError with the id when readable."""
    obj = load_json(raw)
    return Command.from_payload(obj)


def peek_command_id(raw: bytes | str) -> str | None:
    """Best effort: the command id of a payload too broken to decode, so it can be rejected."""
    try:
        obj = load_json(raw)
    except ProtocolError:
        return None
    cid = obj.get("id")
    return cid if isinstance(cid, str) and COMMAND_ID_RE.match(cid) else None


@dataclass(frozen=True)
class Ack:
    """A speaker → controller acknowledgement of one step of one command."""

    command_id: str
    speaker_id: str
    event: str
    at: datetime
    detail: str | None = None
    v: int = field(default=SCHEMA_VERSION)

    def to_payload(self) -> dict:
        """Return the JSON-ready dict."""
        out = {
            "v": self.v,
            "command_id": self.command_id,
            "speaker_id": self.speaker_id,
            "event": self.event,
            "at": format_time(self.at),
        }
        if self.detail is not None:
            out["detail"] = self.detail
        return out

    def encode(self) -> bytes:
        """Serialize for publishing."""
        return dump_json(self.to_payload())

    @classmethod
    def decode(cls, raw: bytes | str) -> Ack:
        """Decode and validate an ack."""
        r = _Reader(load_json(raw))
        r.version()
        command_id = r.get("command_id", str)
        if not COMMAND_ID_RE.match(command_id):
            raise ProtocolError("field 'command_id' is not a valid command id")
        detail = r.get("detail", str, required=False)
        return cls(
            command_id=command_id,
            speaker_id=check_speaker_id(r.get("speaker_id", str)),
            event=r.choice("event", ACK_EVENTS),
            at=r.time("at"),
            detail=None if detail is None else detail[:MAX_TEXT],
        )


@dataclass(frozen=True)
class SpeakerState:
    """Retained health and presence of one speaker."""

    speaker_id: str
    online: bool
    at: datetime
    version: str | None = None
    uptime_s: float | None = None
    queue_len: int | None = None
    playing: str | None = None
    volume: int | None = None
    disk_free_bytes: int | None = None
    cpu_temp_c: float | None = None
    clock_offset_ms: float | None = None
    relay_on: bool | None = None
    last_error: str | None = None
    hamlet_id: int | None = None
    """The hamlet whose group topics the agent has subscribed to (protocol.groups.Membership)."""
    v: int = field(default=SCHEMA_VERSION)

    _OPTIONAL = {
        "version": str,
        "uptime_s": (int, float),
        "queue_len": int,
        "playing": str,
        "volume": int,
        "disk_free_bytes": int,
        "cpu_temp_c": (int, float),
        "clock_offset_ms": (int, float),
        "relay_on": bool,
        "last_error": str,
        "hamlet_id": int,
    }

    def to_payload(self) -> dict:
        """Return the JSON-ready dict, leaving out unknown values."""
        out = {"v": self.v, "speaker_id": self.speaker_id, "online": self.online,
               "at": format_time(self.at)}
        for name in self._OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def encode(self) -> bytes:
        """Serialize for publishing."""
        return dump_json(self.to_payload())

    @classmethod
    def decode(cls, raw: bytes | str) -> SpeakerState:
        """Decode and validate a state message."""
        r = _Reader(load_json(raw))
        r.version()
        values = {name: r.get(name, kind, required=False) for name, kind in cls._OPTIONAL.items()}
        for name in ("last_error", "playing", "version"):
            if values[name] is not None:
                values[name] = values[name][:MAX_TEXT]
        return cls(
            speaker_id=check_speaker_id(r.get("speaker_id", str)),
            online=r.get("online", bool),
            at=r.time("at"),
            **values,
        )


@dataclass(frozen=True)
class ControllerState:
    """Retained presence of the controller."""

    online: bool
    at: datetime
    v: int = field(default=SCHEMA_VERSION)

    def encode(self) -> bytes:
        """Serialize for publishing."""
        return dump_json({"v": self.v, "online": self.online, "at": format_time(self.at)})

    @classmethod
    def decode(cls, raw: bytes | str) -> ControllerState:
        """Decode and validate."""
        r = _Reader(load_json(raw))
        r.version()
        return cls(online=r.get("online", bool), at=r.time("at"))

