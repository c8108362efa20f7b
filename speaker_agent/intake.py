"""Every incoming command: decode, verify, check, store durably, then acknowledge.

Order matters:
- The signature is checked before anything is remembered, so an attacker with a
  leaked speaker password cannot "burn" command ids the controller will use.
- A command is stored (with its `received` ack, in one transaction) before the
  MQTT PUBACK goes out, so a crash right after never loses it.
- An id already stored is never played again. While the item is still queued
  its current step is acknowledged again (a controller resend learns where it
  is); after it finished, the copy is refused as a replay.
- A group command (protocol.groups) is ignored unless this speaker is a target; a
  target turns it into its own per-speaker command (the id the controller gave its
  delivery), which then follows exactly the same rules, so a group command and a
  per-speaker resend of it play once, and a replayed group command is refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from protocol.errors import ProtocolError
from protocol.groups import GroupCommand
from protocol.messages import Ack, Command, decode_command, format_time, peek_command_id
from protocol.signing import verify
from speaker_agent.store import DONE_STATES, Store

log = logging.getLogger(__name__)


class Intake:
    """Turns raw MQTT payloads into stored commands and acks."""

    def __init__(self, speaker_id: str, store: Store, public_keys: dict, max_skew_s: float,
                 max_horizon_s: float, health, on_stored: Callable[[Command], str | None],
                 on_ack: Callable[[], None], hamlet_id: Callable[[], int | None] = lambda: None):
        self.speaker_id = speaker_id
        self.store = store
        self.public_keys = public_keys
        self.max_skew_s = max_skew_s
        self.max_horizon_s = max_horizon_s
        self.health = health
        self.on_stored = on_stored  # runs the command; returns the detail of its final ack
        self.on_ack = on_ack  # pushes the outbox to the broker
        self.hamlet_id = hamlet_id  # the hamlet this speaker believes it is in (its membership)

    def ack(self, command_id: str, event: str, detail: str | None = None) -> bytes:
        """An encoded ack from this speaker."""
        return Ack(command_id, self.speaker_id, event, datetime.now(UTC), detail).encode()

    def reject(self, command_id: str | None, reason: str) -> None:
        """Log and report a refused command; ack `rejected` when its id is readable."""
        log.warning("rejected command %s: %s", command_id or "(no readable id)", reason)
        self.health.error(f"rejected {command_id or 'a command'}: {reason}")
        if command_id:
            self.store.outbox_add(self.ack(command_id, "rejected", reason))
            self.on_ack()

    def check(self, cmd: Command, now: float) -> str | None:
        """The reason to refuse a signed, well-formed command, or None."""
        if cmd.speaker_id != self.speaker_id:
            return f"command is for speaker {cmd.speaker_id!r}, this is {self.speaker_id!r}"
        ahead = cmd.issued_at.timestamp() - now
        if ahead > self.max_skew_s:
            return (f"issued_at {format_time(cmd.issued_at)} is {ahead:.0f} s in the future "
                    f"(allowed clock skew {self.max_skew_s:.0f} s)")
        if cmd.expires_at.timestamp() <= now:
            return f"expired at {format_time(cmd.expires_at)}"
        if cmd.stream is not None and cmd.stream.until.timestamp() <= now:
            return f"session {cmd.stream.session_id} already ended at {format_time(cmd.stream.until)}"
        if cmd.play_at is not None and cmd.play_at.timestamp() - now > self.max_horizon_s:
            return (f"play_at {format_time(cmd.play_at)} is more than "
                    f"{self.max_horizon_s / 86400:.0f} days ahead")
        return None

    def handle(self, raw: bytes) -> None:
        """Process one payload from the command topic."""
        now = time.time()
        try:
            cmd = decode_command(raw)
        except ProtocolError as exc:
            self.reject(exc.command_id or peek_command_id(raw), f"malformed command: {exc}")
            return
        try:
            verify(cmd, self.public_keys)
        except ProtocolError as exc:
            self.reject(cmd.id, f"signature refused: {exc}")
            return
        self._accept(cmd, bytes(raw), now)

    def handle_group(self, raw: bytes) -> None:
        """Process one payload from a group topic: a target runs its own command, others ignore it."""
        now = time.time()
        try:
            group = GroupCommand.decode(raw)
        except ProtocolError as exc:
            # Nobody to answer: the command id is per speaker, and we cannot tell if it was ours.
            log.warning("malformed group command %s ignored: %s", exc.command_id or "", exc)
            self.health.error(f"malformed group command: {exc}")
            return
        if not group.targets.includes(self.speaker_id, self.hamlet_id()):
            log.debug("group command %s is not for this speaker; ignored", group.group)
            return
        cmd = group.member(self.speaker_id)
        try:
            verify(group, self.public_keys)
        except ProtocolError as exc:
            self.reject(cmd.id, f"signature refused: {exc}")
            return
        # Stored as the per-speaker command it means (unsigned: it was verified just now).
        self._accept(cmd, cmd.encode(), now)

    def _accept(self, cmd: Command, raw: bytes, now: float) -> None:
        """A verified command: refuse it with a reason, or store it and run it."""
        reason = self.check(cmd, now)
        if reason:
            self.reject(cmd.id, reason)
            return
        existing = self.store.add(cmd, raw, now, self.ack(cmd.id, "received"))
        if existing is not None:
            self._duplicate(existing)
            return
        log.info("received %s %s (priority %s, play_at %s%s)", cmd.type, cmd.id, cmd.priority,
                 format_time(cmd.play_at) if cmd.play_at else "-",
                 f", session {cmd.stream.session_id} until {format_time(cmd.stream.until)}"
                 if cmd.stream else "")
        self.health.note_offset(cmd.issued_at, now)
        self.on_ack()
        if cmd.type not in ("play", "play_stream", "update"):
            self._run_now(cmd)
        else:
            self.on_stored(cmd)

    def _duplicate(self, item) -> None:
        if item.state in DONE_STATES:
            self.reject(item.id, f"replay: command id already seen (it is {item.state}); not played again")
            return
        log.info("duplicate delivery of %s (still %s); acknowledging again", item.id, item.state)
        event = "stream_playing" if item.command.type == "play_stream" and item.state == "playing" \
            else item.state
        self.store.outbox_add(self.ack(item.id, event, "duplicate delivery; already queued"))
        self.on_ack()

    def _run_now(self, cmd: Command) -> None:
        """stop / volume / ping: act at once and acknowledge the outcome."""
        event = {"stop": "stopped", "volume": "volume_set", "ping": "pong"}[cmd.type]
        detail = self.on_stored(cmd)
        self.store.set_state(cmd.id, "done", time.time(), detail, self.ack(cmd.id, event, detail))
        self.on_ack()
