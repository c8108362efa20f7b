"""Ack messages on a speaker's ack topic: one event (the original shape) or several in order.

An agent that reaches several steps within a short window (with the audio cached,
`received`, `downloaded` and `playing` come milliseconds apart) sends them in one
message, an ack batch:

    {"v": 1, "speaker_id": "...", "acks": [{"command_id", "event", "at", "detail"?}, ...]}

Each entry is one step with its own agent time `at`, in the order the agent reached
them; the controller applies them in that order. A single step is still sent as the
original one-event ack (protocol.messages.Ack), which is what agents not yet updated
send, so the controller reads both shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.codec import SCHEMA_VERSION, _Reader, dump_json, format_time, load_json
from protocol.errors import ProtocolError
from protocol.messages import ACK_EVENTS, COMMAND_ID_RE, MAX_TEXT, Ack
from protocol.topics import check_speaker_id

MAX_ACKS_PER_MESSAGE = 20
"""Entries per batch: 20 of the longest (a 500-character detail) stay well under 64 KB."""
_ENTRY_FIELDS = {"command_id", "event", "at", "detail"}


@dataclass(frozen=True)
class AckBatch:
    """Several acks of one speaker, in the order it reached them."""

    speaker_id: str
    acks: tuple[Ack, ...]
    v: int = field(default=SCHEMA_VERSION)

    def to_payload(self) -> dict:
        """Return the JSON-ready dict."""
        entries = []
        for a in self.acks:
            if a.speaker_id != self.speaker_id:
                raise ValueError(f"ack of {a.speaker_id} in a batch of {self.speaker_id}")
            entry = {"command_id": a.command_id, "event": a.event, "at": format_time(a.at)}
            if a.detail is not None:
                entry["detail"] = a.detail
            entries.append(entry)
        return {"v": self.v, "speaker_id": self.speaker_id, "acks": entries}

    def encode(self) -> bytes:
        """Serialize for publishing."""
        return dump_json(self.to_payload())


def encode_acks(acks: list[Ack]) -> bytes:
    """One ack in the original shape, several as a batch (all of one speaker, at most the max)."""
    if not acks or len(acks) > MAX_ACKS_PER_MESSAGE:
        raise ValueError(f"an ack message carries 1 to {MAX_ACKS_PER_MESSAGE} acks")
    if len(acks) == 1:
        return acks[0].encode()
    return AckBatch(acks[0].speaker_id, tuple(acks)).encode()


def decode_acks(raw: bytes | str) -> list[Ack]:
    """Decode either shape into its acks, in order; ProtocolError names the bad field.

    A batch is all or nothing: one bad entry refuses the message, so nothing is half-stored.
    """
    obj = load_json(raw)
    if "acks" not in obj:
        return [_single(obj)]
    r = _Reader(obj)
    r.version()
    speaker_id = check_speaker_id(r.get("speaker_id", str))
    entries = r.get("acks", list)
    if not 1 <= len(entries) <= MAX_ACKS_PER_MESSAGE:
        raise ProtocolError(f"field 'acks' must hold 1 to {MAX_ACKS_PER_MESSAGE} acks")
    extra = set(obj) - {"v", "speaker_id", "acks"}
    if extra:
        raise ProtocolError(f"unknown field '{sorted(extra)[0]}'")
    return [_entry(e, i, speaker_id) for i, e in enumerate(entries)]


def _single(obj: dict) -> Ack:
    """The one-event shape, read from the already parsed object (same rules as Ack.decode)."""
    r = _Reader(obj)
    r.version()
    command_id = r.get("command_id", str)
    if not COMMAND_ID_RE.match(command_id):
        raise ProtocolError("field 'command_id' is not a valid command id")
    detail = r.get("detail", str, required=False)
    return Ack(command_id=command_id, speaker_id=check_speaker_id(r.get("speaker_id", str)),
               event=r.choice("event", ACK_EVENTS), at=r.time("at"),
               detail=None if detail is None else detail[:MAX_TEXT])


def _entry(obj, i: int, speaker_id: str) -> Ack:
    if not isinstance(obj, dict):
        raise ProtocolError(f"field 'acks[{i}]' must be an object")
    extra = set(obj) - _ENTRY_FIELDS
    if extra:
        raise ProtocolError(f"unknown field 'acks[{i}].{sorted(extra)[0]}'")
    r = _Reader({f"acks[{i}].{k}": v for k, v in obj.items()})
    command_id = r.get(f"acks[{i}].command_id", str)
    if not COMMAND_ID_RE.match(command_id):
        raise ProtocolError(f"field 'acks[{i}].command_id' is not a valid command id")
    detail = r.get(f"acks[{i}].detail", str, required=False)
    return Ack(command_id=command_id, speaker_id=speaker_id,
               event=r.choice(f"acks[{i}].event", ACK_EVENTS), at=r.time(f"acks[{i}].at"),
               detail=None if detail is None else detail[:MAX_TEXT])
