"""Group commands: one signed play command for many speakers, fanned out by the broker.

A broadcast to many speakers is published once per hamlet topic (or once on the commune
topic) instead of once per speaker. Its signed payload names the broadcast (`group`), the
media, the play time and the target set: hamlet ids, or speaker ids. Each agent checks
it is a target, then turns the group command into its own per-speaker command, whose id
is `member_command_id(group, speaker_id)`. The controller gives the delivery that same id,
so acks, dedupe and replay refusal work exactly as for a per-speaker command, and a
per-speaker resend of the same delivery is the same command to the agent.

A speaker learns which hamlet it belongs to from a signed, retained `Membership` on its
own topic (`Topics.membership`), which the controller republishes when the speaker is
moved; the broker's ACL lets it read only that hamlet's and the commune's group topics.

Decoding is as strict as for commands; a group payload has no `id` or `speaker_id` and a
command payload no `group` or `targets`, so a signature made for one never verifies as
the other.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from protocol.codec import SCHEMA_VERSION, Signable, _Reader, format_time, load_json
from protocol.errors import ProtocolError
from protocol.messages import MAX_TEXT, PRIORITIES, Command
from protocol.payloads import Media
from protocol.topics import check_speaker_id

GROUP_ID_RE = re.compile(r"^[0-9a-f]{16}$")
MAX_SPEAKER_TARGETS = 200
"""Speaker ids per group message (63 characters at most each: under 14 KB of targets)."""
MAX_HAMLET_TARGETS = 1000


def new_group_id() -> str:
    """A fresh random group id (64 bits: ids of two broadcasts never meet in one commune)."""
    return secrets.token_hex(8)


def member_command_id(group_id: str, speaker_id: str) -> str:
    """The per-speaker command id of one target of a group (at most 16 + 1 + 63 = 80 chars)."""
    return f"{group_id}.{check_speaker_id(speaker_id)}"


def group_of(command_id: str) -> str | None:
    """The group id a per-speaker command id was derived from, or None for a plain id."""
    head, dot, _ = command_id.partition(".")
    return head if dot and GROUP_ID_RE.match(head) else None


@dataclass(frozen=True)
class Targets:
    """Who a group command is for: every speaker of some hamlets, or a list of speakers."""

    hamlets: tuple[int, ...] = ()
    speakers: tuple[str, ...] = ()

    def includes(self, speaker_id: str, hamlet_id: int | None) -> bool:
        """True if the speaker (currently in `hamlet_id`) is a target."""
        if self.speakers:
            return speaker_id in self.speakers
        return hamlet_id is not None and hamlet_id in self.hamlets

    def to_payload(self) -> dict:
        """Return the JSON-ready dict."""
        return {"speakers": list(self.speakers)} if self.speakers else {"hamlets": list(self.hamlets)}

    @classmethod
    def from_payload(cls, obj: Any, group_id: str | None = None) -> Targets:
        """Validate: exactly one of `hamlets` (ints) or `speakers` (speaker ids), not empty."""
        if not isinstance(obj, dict) or len(obj) != 1 or not set(obj) <= {"hamlets", "speakers"}:
            raise ProtocolError("field 'targets' must be {\"hamlets\": [...]} or "
                                "{\"speakers\": [...]}", group_id)
        (name, values), = obj.items()
        limit = MAX_HAMLET_TARGETS if name == "hamlets" else MAX_SPEAKER_TARGETS
        if not isinstance(values, list) or not 0 < len(values) <= limit:
            raise ProtocolError(f"field 'targets.{name}' must be a list of 1-{limit} items", group_id)
        if name == "hamlets":
            if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in values):
                raise ProtocolError("field 'targets.hamlets' must hold hamlet ids (> 0)", group_id)
            return cls(hamlets=tuple(values))
        try:
            return cls(speakers=tuple(check_speaker_id(v) for v in values))
        except ProtocolError as exc:
            raise ProtocolError(f"field 'targets.speakers': {exc}", group_id) from None


@dataclass(frozen=True)
class GroupCommand(Signable):
    """A signed play command for every target of a broadcast; `sig` covers the other fields."""

    group: str
    targets: Targets
    issued_at: datetime
    expires_at: datetime
    play_at: datetime
    media: Media
    priority: str = "normal"
    label: str | None = None
    kid: str | None = None
    sig: str | None = None
    type: str = "play"
    v: int = field(default=SCHEMA_VERSION)

    @property
    def id(self) -> str:
        """The group id (what signature errors name)."""
        return self.group

    def unsigned_payload(self) -> dict:
        """The payload without its signature: what gets signed."""
        out: dict[str, Any] = {
            "v": self.v, "group": self.group, "type": self.type,
            "targets": self.targets.to_payload(),
            "issued_at": format_time(self.issued_at), "expires_at": format_time(self.expires_at),
            "play_at": format_time(self.play_at), "priority": self.priority,
            "media": self.media.to_payload(),
        }
        if self.label is not None:
            out["label"] = self.label
        if self.kid is not None:
            out["kid"] = self.kid
        return out


    def member(self, speaker_id: str) -> Command:
        """The per-speaker command this group command means for one target (unsigned)."""
        return Command(id=member_command_id(self.group, speaker_id), type="play",
                       speaker_id=speaker_id, issued_at=self.issued_at,
                       expires_at=self.expires_at, priority=self.priority, play_at=self.play_at,
                       media=self.media, label=self.label)

    @classmethod
    def decode(cls, raw: bytes | str) -> GroupCommand:
        """Decode and validate; ProtocolError names the field (and the group when readable)."""
        obj = load_json(raw)
        raw_group = obj.get("group")
        gid = raw_group if isinstance(raw_group, str) and GROUP_ID_RE.match(raw_group) else None
        r = _Reader(obj, gid)
        r.version()
        r.get("group", str)
        if gid is None:
            raise ProtocolError("field 'group' must be 16 lowercase hex digits")
        r.choice("type", ("play",))
        known = {"v", "group", "type", "targets", "issued_at", "expires_at", "play_at",
                 "priority", "media", "label", "kid", "sig"}
        extra = set(obj) - known
        if extra:
            raise ProtocolError(f"unknown field '{sorted(extra)[0]}'", gid)
        if obj.get("targets") is None:
            raise ProtocolError("missing field 'targets'", gid)
        if obj.get("media") is None:
            raise ProtocolError("missing field 'media'", gid)
        label = r.get("label", str, required=False)
        if label is not None and len(label) > MAX_TEXT:
            raise ProtocolError(f"field 'label' is over {MAX_TEXT} characters", gid)
        issued_at, expires_at = r.time("issued_at"), r.time("expires_at")
        if expires_at <= issued_at:
            raise ProtocolError("field 'expires_at' is not after 'issued_at'", gid)
        return cls(group=gid, targets=Targets.from_payload(obj["targets"], gid),
                   issued_at=issued_at, expires_at=expires_at, play_at=r.time("play_at"),
                   media=Media.from_payload(obj["media"], gid),
                   priority=r.choice("priority", PRIORITIES, required=False, default="normal"),
                   label=label, kid=r.get("kid", str, required=False),
                   sig=r.get("sig", str, required=False))


@dataclass(frozen=True)
class Membership(Signable):
    """Signed and retained on a speaker's own topic: the hamlet whose group topics it reads.

    `issued_at` orders memberships: an agent keeps the newest it verified, so an older one
    (a replay, or a stale retained copy) never moves it back.
    """

    speaker_id: str
    hamlet_id: int
    issued_at: datetime
    kid: str | None = None
    sig: str | None = None
    v: int = field(default=SCHEMA_VERSION)

    @property
    def id(self) -> str:
        """What signature errors name."""
        return f"membership of {self.speaker_id}"

    def unsigned_payload(self) -> dict:
        """The payload without its signature: what gets signed."""
        out: dict[str, Any] = {"v": self.v, "membership": self.speaker_id,
                               "hamlet_id": self.hamlet_id,
                               "issued_at": format_time(self.issued_at)}
        if self.kid is not None:
            out["kid"] = self.kid
        return out


    @classmethod
    def decode(cls, raw: bytes | str) -> Membership:
        """Decode and validate a membership."""
        obj = load_json(raw)
        r = _Reader(obj)
        r.version()
        extra = set(obj) - {"v", "membership", "hamlet_id", "issued_at", "kid", "sig"}
        if extra:
            raise ProtocolError(f"unknown field '{sorted(extra)[0]}'")
        hamlet_id = r.get("hamlet_id", int)
        if hamlet_id <= 0:
            raise ProtocolError("field 'hamlet_id' must be > 0")
        return cls(speaker_id=check_speaker_id(r.get("membership", str)), hamlet_id=hamlet_id,
                   issued_at=r.time("issued_at"), kid=r.get("kid", str, required=False),
                   sig=r.get("sig", str, required=False))
