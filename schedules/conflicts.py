"""Overlaps between planned broadcasts on the same speakers, reported before a schedule is saved.

A slot occupies its speakers for its airtime: repeat_count × duration + (repeat_count − 1) × gap.
Slots that merely touch (one ends as the next starts) do not overlap. Pairs new/existing and
new/new are reported (a schedule can collide with itself); existing/existing pairs are not, since
the user is not changing them. Two slots with the same key are one occurrence seen twice (the
edited schedule's old version) and are never reported against each other.

Per speaker, slots are swept in start order with a heap of the ones still playing, so the cost
is O(n log n) per speaker plus the number of overlaps, not O(n²).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from schedules.plan import airtime_s


@dataclass(frozen=True)
class Slot:
    """One planned occurrence on a set of speakers."""

    key: str
    """Occurrence identity (e.g. runtime.occurrence_key)."""
    speaker_ids: frozenset[str]
    """Speakers it plays on (targets already expanded from all/hamlets)."""
    start_utc: datetime
    """Aware start instant."""
    duration_s: float
    """Audio duration of one play."""
    repeat_count: int
    """Plays per occurrence."""
    repeat_gap_s: float
    """Silence between plays."""
    priority: str
    """normal, priority or emergency."""
    label: str
    """What the user sees, e.g. the announcement title and local time."""

    @property
    def end_utc(self) -> datetime:
        """Instant the last repeat ends."""
        airtime = airtime_s(self.duration_s, self.repeat_count, self.repeat_gap_s)
        return self.start_utc + timedelta(seconds=airtime)


@dataclass(frozen=True)
class Conflict:
    """Two slots that would play on the same speakers at the same time."""

    new: Slot
    """The slot being created or edited."""
    other: Slot
    """The slot it collides with (existing, or another new one)."""
    speaker_ids: frozenset[str]
    """Speakers both play on."""
    overlap_start_utc: datetime
    """Start of the overlapping window."""
    overlap_end_utc: datetime
    """End of the overlapping window."""

    @property
    def overlap_s(self) -> float:
        """Length of the overlap in seconds."""
        return (self.overlap_end_utc - self.overlap_start_utc).total_seconds()

    def describe_en(self) -> str:
        """One English line for logs and API messages."""
        return (f"'{self.new.label}' overlaps '{self.other.label}' for {self.overlap_s:.0f} s "
                f"on {len(self.speaker_ids)} speaker(s): {', '.join(sorted(self.speaker_ids))}")

    def describe_vi(self) -> str:
        """One Vietnamese line for the UI."""
        return (f"'{self.new.label}' trùng giờ với '{self.other.label}' trong {self.overlap_s:.0f} giây "
                f"trên {len(self.speaker_ids)} loa: {', '.join(sorted(self.speaker_ids))}")


def _overlapping_pairs(slots: list[Slot], is_new: list[bool]) -> dict[tuple[int, int], set[str]]:
    """(i, j) index pairs with i < j that overlap, mapped to the speakers they share."""
    by_speaker: dict[str, list[int]] = defaultdict(list)
    for index, slot in enumerate(slots):
        if slot.end_utc > slot.start_utc:  # zero airtime occupies nothing
            for speaker in slot.speaker_ids:
                by_speaker[speaker].append(index)
    ends = [slot.end_utc for slot in slots]
    pairs: dict[tuple[int, int], set[str]] = defaultdict(set)
    for speaker, indices in by_speaker.items():
        indices.sort(key=lambda i: slots[i].start_utc)
        playing: list[tuple[datetime, int]] = []  # heap of (end, index)
        for index in indices:
            start = slots[index].start_utc
            while playing and playing[0][0] <= start:
                heapq.heappop(playing)
            for _, other in playing:
                if (is_new[index] or is_new[other]) and slots[index].key != slots[other].key:
                    pairs[(min(index, other), max(index, other))].add(speaker)
            heapq.heappush(playing, (ends[index], index))
    return pairs


def find_conflicts(new: list[Slot], existing: list[Slot]) -> list[Conflict]:
    """Overlaps of the new slots with existing ones and with each other, ordered by overlap start."""
    slots = list(new) + list(existing)
    is_new = [True] * len(new) + [False] * len(existing)
    conflicts = []
    for (i, j), speakers in _overlapping_pairs(slots, is_new).items():
        first, second = (slots[i], slots[j]) if is_new[i] else (slots[j], slots[i])
        conflicts.append(Conflict(
            new=first,
            other=second,
            speaker_ids=frozenset(speakers),
            overlap_start_utc=max(first.start_utc, second.start_utc),
            overlap_end_utc=min(first.end_utc, second.end_utc),
        ))
    conflicts.sort(key=lambda c: (c.overlap_start_utc, c.new.key, c.other.key))
    return conflicts


def conflicts_by_speaker(conflicts: list[Conflict]) -> dict[str, list[Conflict]]:
    """The same conflicts grouped per speaker, for a per-speaker view."""
    grouped: dict[str, list[Conflict]] = defaultdict(list)
    for conflict in conflicts:
        for speaker in sorted(conflict.speaker_ids):
            grouped[speaker].append(conflict)
    return dict(grouped)
