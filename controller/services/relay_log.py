"""What happened to a relay: gaps with their reasons (on its stream session), source switches, its end."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.relay_models import Relay, RelayEvent
from controller.services import audit
from controller.stream_models import StreamGap

log = logging.getLogger(__name__)


def open_gap(s: Session, session_id: int, started: datetime, reason: str) -> int:
    """Log an outage or silence as it starts (open until close_gap); returns the gap id."""
    from controller.services import streams

    return streams.record_gap(s, session_id, started, None, reason[:500]).id


def close_gap(s: Session, gap_id: int, ended: datetime, note: str | None = None) -> None:
    """Close a gap when audio flows again (or the relay ends); `note` says how it ended."""
    from controller.services import streams

    gap = streams.end_gap(s, gap_id, ended)
    if note:
        gap.reason = f"{gap.reason}; {note}"[:500]


def open_gap_of(s: Session, session_id: int) -> tuple[int, datetime, str] | None:
    """The session's gap still open (a controller killed during an outage): id, start, reason."""
    gap = s.scalar(sa.select(StreamGap).where(StreamGap.session_id == session_id,
                                              StreamGap.ended_at.is_(None))
                   .order_by(StreamGap.id.desc()))
    return (gap.id, gap.started_at, gap.reason) if gap is not None else None


def switched(s: Session, relay_id: int, to_backup: bool, why: str, at: datetime) -> None:
    """Record a switch to the backup source or back to the main one."""
    r = s.get(Relay, relay_id)
    if r is not None:
        r.on_backup = to_backup
    s.add(RelayEvent(relay_id=relay_id, event="backup" if to_backup else "main", at=at,
                     detail=why[:500]))


def fed(s: Session, relay_id: int, at: datetime) -> None:
    """Remember that audio flowed at `at` (a restart logs the gap since the last one)."""
    r = s.get(Relay, relay_id)
    if r is not None:
        r.fed_at = at


def finish(s: Session, r: Relay, state: str, reason: str, at: datetime,
           actor: str | None = None) -> None:
    """Close a relay for good: ended (at its end time), stopped (by a user) or failed."""
    r.state = state
    r.reason = reason[:500]
    r.ended_at = at
    s.add(RelayEvent(relay_id=r.id, event=state, at=at, detail=reason[:500]))
    audit.record(s, f"relay_{state}", actor=actor, target=f"relay:{r.id}", detail=reason)
    log.info("relay %d %s: %s", r.id, state, reason)
