"""Putting the browser's numbered chunks back in order.

MediaRecorder produces one WebM stream cut into pieces; each POST carries the piece's
sequence number. HTTP requests from one page can overtake each other (several in flight on a
slow 4G link) and a retried POST can arrive twice, so the receiver keeps the next expected
number, ignores anything already written, and holds early pieces until the gap fills.
A gap that never fills (a POST lost for good) must not freeze the air: once `max_ahead`
pieces wait behind it, the missing piece is given up and the stream goes on. The WebM
demuxer resynchronises on the next cluster, so the listener hears a short skip, not silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChunkSequencer:
    """Turns (sequence number, bytes) in any order into bytes in order, each piece once."""

    max_ahead: int = 8
    """How many later pieces may wait for a missing one before it is skipped (8 × 250 ms = 2 s)."""
    next_seq: int = 0
    held: dict[int, bytes] = field(default_factory=dict)
    duplicates: int = 0
    skipped: int = 0

    def add(self, seq: int, data: bytes) -> list[bytes]:
        """Accept one piece; return the pieces now ready to write, in order."""
        if seq < self.next_seq or seq in self.held:
            self.duplicates += 1
            return []
        self.held[seq] = data
        ready = self._drain()
        if len(self.held) > self.max_ahead:
            # give up on the hole: jump to the oldest held piece
            self.skipped += min(self.held) - self.next_seq
            self.next_seq = min(self.held)
            ready += self._drain()
        return ready

    def _drain(self) -> list[bytes]:
        out = []
        while self.next_seq in self.held:
            out.append(self.held.pop(self.next_seq))
            self.next_seq += 1
        return out
