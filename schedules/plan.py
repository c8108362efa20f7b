"""A schedule's playing plan: its recurrence plus how each occurrence is played."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol.messages import PRIORITIES
from schedules.recurrence import Recurrence

REPEAT_COUNT_LIMITS = (1, 10)
"""Inclusive limits for plays per occurrence."""
REPEAT_GAP_LIMITS = (0, 600)
"""Inclusive limits, seconds of silence between repeats."""
VALIDITY_LIMITS = (60, 86_400)
"""Inclusive limits, seconds an occurrence may start late."""
DEFAULT_VALIDITY_S = 900
PRIORITY_NAMES_VI = {"normal": "thông thường", "priority": "ưu tiên", "emergency": "khẩn cấp"}


@dataclass(frozen=True)
class SchedulePlan:
    """Recurrence plus repeats, validity and priority; targets and audio live in the controller."""

    recurrence: Recurrence
    """When it plays."""
    repeat_count: int = 1
    """Plays per occurrence, REPEAT_COUNT_LIMITS."""
    repeat_gap_s: float = 0
    """Seconds between the end of one play and the start of the next."""
    validity_s: int = DEFAULT_VALIDITY_S
    """How late an occurrence may still start; past that it is recorded as missed."""
    priority: str = "normal"
    """One of protocol.messages.PRIORITIES (the ministry's three bulletin levels)."""

    def airtime_s(self, duration_s: float) -> float:
        """Seconds one occurrence occupies the speakers for audio of this duration."""
        return airtime_s(duration_s, self.repeat_count, self.repeat_gap_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "recurrence": self.recurrence.to_dict(),
            "repeat_count": self.repeat_count,
            "repeat_gap_s": self.repeat_gap_s,
            "validity_s": self.validity_s,
            "priority": self.priority,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SchedulePlan:
        """Inverse of to_dict."""
        return cls(
            recurrence=Recurrence.from_dict(data["recurrence"]),
            repeat_count=data.get("repeat_count", 1),
            repeat_gap_s=data.get("repeat_gap_s", 0),
            validity_s=data.get("validity_s", DEFAULT_VALIDITY_S),
            priority=data.get("priority", "normal"),
        )


def airtime_s(duration_s: float, repeat_count: int, repeat_gap_s: float) -> float:
    """repeat_count × duration + (repeat_count − 1) × gap."""
    return repeat_count * duration_s + max(repeat_count - 1, 0) * repeat_gap_s


__all__ = ["PRIORITIES", "SchedulePlan", "airtime_s"]
