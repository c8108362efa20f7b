"""Which hamlet this speaker is in: the controller's signed, retained membership.

The controller publishes each speaker's hamlet as a signed protocol.groups.Membership,
retained on the speaker's own topic, and again when the speaker is moved. The agent
verifies it, keeps the newest in its store (so it knows its group topics at once after
a restart, before the broker says anything) and moves its group subscription. An older
membership than the one kept (a replay, a stale retained copy) is ignored, and so is one
for another speaker or one that does not verify.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from protocol.errors import ProtocolError
from protocol.groups import Membership
from protocol.signing import verify

log = logging.getLogger(__name__)
SETTING = "membership"


class Groups:
    """The verified membership; `on_change(hamlet_id)` runs when the hamlet changes."""

    def __init__(self, speaker_id: str, store, public_keys: dict, health,
                 on_change: Callable[[int], None] = lambda hamlet_id: None):
        self.speaker_id = speaker_id
        self.store = store
        self.public_keys = public_keys
        self.health = health
        self.on_change = on_change
        self.current: Membership | None = None
        raw = store.setting(SETTING)
        if raw:
            try:
                self.current = Membership.decode(raw)  # verified when it was stored
            except ProtocolError:
                log.warning("stored membership unreadable; waiting for the controller's")

    @property
    def hamlet_id(self) -> int | None:
        """The hamlet whose group commands this speaker takes, or None before the first membership."""
        return self.current.hamlet_id if self.current else None

    def handle(self, raw: bytes) -> None:
        """Process a payload from the membership topic (an empty one clears nothing: ignored)."""
        if not raw:
            return
        try:
            m = Membership.decode(raw)
            verify(m, self.public_keys)
            if m.speaker_id != self.speaker_id:
                raise ProtocolError(f"membership is for speaker {m.speaker_id!r}")
        except ProtocolError as exc:
            log.warning("membership refused: %s", exc)
            self.health.error(f"membership refused: {exc}")
            return
        if self.current is not None and m.issued_at < self.current.issued_at:
            log.info("older membership (hamlet %d) ignored", m.hamlet_id)
            return
        before = self.hamlet_id
        self.store.set_setting(SETTING, m.encode().decode("utf-8"))
        self.current = m
        if m.hamlet_id != before:
            log.info("this speaker is in hamlet %d (was %s)", m.hamlet_id, before)
            self.on_change(m.hamlet_id)
