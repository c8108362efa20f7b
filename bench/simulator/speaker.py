"""One simulated speaker: verify a command like the real agent, then acknowledge each step.

The steps mirror speaker_agent: decode (protocol.decode_command), check the Ed25519
signature against the controller's public keys (protocol.signing.verify), ack
`received`, fetch the audio (once per process per SHA-256, over HTTP from the
controller, hash checked), ack `downloaded`, ack `playing` at play_at, ack `played`
after a short simulated airtime. Like the agent, steps reached together leave in one
message (an ack batch, protocol/acks.py): with the audio cached and play_at due,
`received`, `downloaded` and `playing` are one publish. No audio is decoded: this is
a load generator.

Like the agent, each simulated speaker reads its signed, retained membership, subscribes
to its hamlet's and the commune's group topics, takes a group command only if it is a
target (signature checked per speaker) and runs it as its own per-speaker command.
"""

from __future__ import annotations

import hashlib
import time
import urllib.request
from dataclasses import dataclass, field

from protocol import signing
from protocol.acks import encode_acks
from protocol.errors import ProtocolError
from protocol.groups import GroupCommand, Membership
from protocol.messages import Ack, Command, decode_command, peek_command_id, utc_now
from protocol.topics import Topics

FLOOR_MARK = b"F"  # payloads starting with this are bare floor probes: `F<key>|<padding>`


class MediaCache:
    """Audio bytes by SHA-256, shared by every speaker of one process (fetched once)."""

    def __init__(self):
        self.by_sha: dict[str, int] = {}
        self.fetches = 0

    def ensure(self, url: str, sha256: str, timeout: float = 30.0) -> None:
        """Fetch and hash-check the audio unless this process already has it."""
        if sha256 in self.by_sha:
            return
        if not url.startswith("http://127.0.0.1"):
            raise ProtocolError(f"media URL is not on loopback: {url[:60]}")
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
            data = r.read()
        got = hashlib.sha256(data).hexdigest()
        if got != sha256:
            raise ProtocolError(f"media hash mismatch: got {got[:12]}")
        self.by_sha[sha256] = len(data)
        self.fetches += 1


@dataclass
class SimSpeaker:
    """Protocol logic of one speaker; `send(topic, payload)` and `later(t, fn)` come from the loop."""

    speaker_id: str
    ack_topic: str
    public_keys: dict
    media: MediaCache
    send: object
    later: object
    play_s: float = 0.2
    topics: Topics = field(default_factory=Topics)
    subscribe: object = None
    """subscribe(topics, hamlet_id): join a hamlet's group topics (from the loop)."""
    hamlet_id: int | None = None
    membership_at: object = None
    seen: set = field(default_factory=set)
    events: dict = field(default_factory=dict)
    """command id -> {event: unix time} for what this speaker acknowledged."""

    def _ack(self, command_id: str, event: str, detail: str | None = None,
             batch: list | None = None) -> None:
        """Ack one step now, or add it to `batch` (sent by _send) when given."""
        ack = Ack(command_id, self.speaker_id, event, utc_now(), detail)
        self.events.setdefault(command_id, {})[event] = time.time()
        if batch is None:
            self.send(self.ack_topic, ack.encode())
        else:
            batch.append(ack)

    def _send(self, batch: list) -> None:
        if batch:
            self.send(self.ack_topic, encode_acks(batch))

    def on_message(self, topic: str, payload: bytes) -> None:
        """Route one message: membership, group command or own command topic."""
        if topic == self.topics.membership(self.speaker_id):
            self._membership(payload)
        elif self.topics.is_group_topic(topic):
            self._group(payload)
        else:
            self.on_payload(payload)

    def _membership(self, payload: bytes) -> None:
        if not payload:
            return
        try:
            m = Membership.decode(payload)
            signing.verify(m, self.public_keys)
        except ProtocolError:
            return
        if m.speaker_id != self.speaker_id or (
                self.membership_at is not None and m.issued_at < self.membership_at):
            return
        self.membership_at = m.issued_at
        if m.hamlet_id != self.hamlet_id:
            self.hamlet_id = m.hamlet_id
            self.subscribe(self.topics.group_topics(m.hamlet_id), m.hamlet_id)

    def _group(self, payload: bytes) -> None:
        try:
            group = GroupCommand.decode(payload)
        except ProtocolError:
            return
        if not group.targets.includes(self.speaker_id, self.hamlet_id):
            return
        cmd = group.member(self.speaker_id)
        try:
            signing.verify(group, self.public_keys)
        except ProtocolError as exc:
            self._ack(cmd.id, "rejected", str(exc))
            return
        self._run(cmd)

    def on_payload(self, payload: bytes) -> None:
        """Handle one message from the command topic."""
        if payload.startswith(FLOOR_MARK):
            self.send(self.ack_topic, payload.split(b"|", 1)[0])  # reply with the key only
            return
        try:
            cmd = decode_command(payload)
            signing.verify(cmd, self.public_keys)
            if cmd.speaker_id != self.speaker_id:
                raise ProtocolError("command is for another speaker", cmd.id)
        except ProtocolError as exc:
            cid = exc.command_id or peek_command_id(payload)
            if cid:
                self._ack(cid, "rejected", str(exc))
            return
        self._run(cmd)

    def _run(self, cmd: Command) -> None:
        if cmd.id in self.seen:  # at-least-once on the wire, once on the air
            return
        self.seen.add(cmd.id)
        steps: list = []
        self._ack(cmd.id, "received", batch=steps)
        if cmd.type != "play":
            self._send(steps)
            return
        try:
            self.media.ensure(cmd.media.url, cmd.media.sha256)
        except (OSError, ProtocolError) as exc:
            self._ack(cmd.id, "failed", f"download: {exc}"[:200], batch=steps)
            self._send(steps)
            return
        self._ack(cmd.id, "downloaded", batch=steps)
        start = max(time.time(), cmd.play_at.timestamp())
        airtime = min(self.play_s, cmd.media.duration_ms / 1000)
        if start <= time.time():
            self._ack(cmd.id, "playing", batch=steps)
        else:
            self.later(start, lambda: self._ack(cmd.id, "playing"))
        self._send(steps)
        self.later(start + airtime, lambda: self._ack(cmd.id, "played"))
