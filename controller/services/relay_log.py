"""What happened to a relay: gaps with their reasons, source switches, its end. Append-only."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from controller.relay_models import Relay, RelayEvent
from controller.services import audit

log = logging.getLogger(__name__)


def _session_gap(s: Session, session_id: int | None, started: datetime, ended: datetime,
                 reason: str) -> None:
    """Mirror the gap into the stream session's log, so each speaker's delivery shows it."""
    if session_id is None:
        return
    from controller.services import streams

    streams.record_gap(s, session_id, started, ended, reason)


def gap(s: Session, relay_id: int, session_id: int | None, started: datetime, ended: datetime,
        reason: str) -> None:
    """Record a gap (nothing or silence relayed) from `started` to `ended`, with its reason."""
    s.add(RelayEvent(relay_id=relay_id, event="gap", at=started, ended_at=ended,
                     detail=reason[:500]))
    _session_gap(s, session_id, started, ended, reason[:500])


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
