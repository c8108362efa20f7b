"""Topic grammar: `{prefix}/speakers/{speaker_id}/{cmd|ack|state|groups}`, the group command
topics `{prefix}/groups/commune/cmd` and `{prefix}/groups/hamlet-{hamlet_id}/cmd`, and
`{prefix}/controller/state`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol.errors import ProtocolError

DEFAULT_PREFIX = "commune-radio"
# Speaker ids become topic levels, file names and MQTT usernames: keep them boring.
SPEAKER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_speaker_id(speaker_id: str) -> str:
    """Return the id if it is a valid speaker id, else raise ProtocolError naming the rule."""
    if not isinstance(speaker_id, str) or not SPEAKER_ID_RE.match(speaker_id):
        raise ProtocolError(
            f"invalid speaker id {speaker_id!r}: use 1-63 lowercase letters, digits, '-' or '_'"
        )
    return speaker_id


@dataclass(frozen=True)
class Topics:
    """Builds and parses every topic string used by the system."""

    prefix: str = DEFAULT_PREFIX

    def cmd(self, speaker_id: str) -> str:
        """Topic a speaker receives its commands on."""
        return f"{self.prefix}/speakers/{check_speaker_id(speaker_id)}/cmd"

    def ack(self, speaker_id: str) -> str:
        """Topic a speaker publishes acknowledgements on."""
        return f"{self.prefix}/speakers/{check_speaker_id(speaker_id)}/ack"

    def state(self, speaker_id: str) -> str:
        """Retained topic holding a speaker's health and presence."""
        return f"{self.prefix}/speakers/{check_speaker_id(speaker_id)}/state"

    def membership(self, speaker_id: str) -> str:
        """Retained topic telling a speaker its hamlet (a signed protocol.groups.Membership)."""
        return f"{self.prefix}/speakers/{check_speaker_id(speaker_id)}/groups"

    def commune_cmd(self) -> str:
        """Group commands for speakers of several hamlets (every speaker reads it)."""
        return f"{self.prefix}/groups/commune/cmd"

    def hamlet_cmd(self, hamlet_id: int) -> str:
        """Group commands for speakers of one hamlet (only that hamlet's speakers read it)."""
        if not isinstance(hamlet_id, int) or isinstance(hamlet_id, bool) or hamlet_id <= 0:
            raise ProtocolError(f"invalid hamlet id {hamlet_id!r}")
        return f"{self.prefix}/groups/hamlet-{hamlet_id}/cmd"

    def group_topics(self, hamlet_id: int) -> list[str]:
        """Every group command topic a speaker of this hamlet reads."""
        return [self.commune_cmd(), self.hamlet_cmd(hamlet_id)]

    def is_group_topic(self, topic: str) -> bool:
        """True for a group command topic under this prefix."""
        return topic.startswith(f"{self.prefix}/groups/") and topic.endswith("/cmd")

    def controller_state(self) -> str:
        """Retained topic holding the controller's presence (its last will)."""
        return f"{self.prefix}/controller/state"

    def all_acks(self) -> str:
        """Wildcard subscription for every speaker's acks."""
        return f"{self.prefix}/speakers/+/ack"

    def all_states(self) -> str:
        """Wildcard subscription for every speaker's state."""
        return f"{self.prefix}/speakers/+/state"

    def parse(self, topic: str) -> tuple[str, str]:
        """Split a speaker topic into (speaker_id, kind); raise ProtocolError if it is not one."""
        parts = topic.split("/")
        head = self.prefix.split("/")
        n = len(head)
        if (
            len(parts) != n + 3
            or parts[:n] != head
            or parts[n] != "speakers"
            or parts[n + 2] not in ("cmd", "ack", "state")
        ):
            raise ProtocolError(f"not a speaker topic: {topic!r}")
        return check_speaker_id(parts[n + 1]), parts[n + 2]
