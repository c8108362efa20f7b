"""Delivery events: append-only facts; the current state is derived from them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from controller.models import Broadcast, Delivery, DeliveryEvent, utcnow
from controller.province import outbox as province_outbox
from protocol.messages import FINAL_EVENTS

# Controller-side events, besides the agents' ack events.
CONTROLLER_EVENTS = ("rendering", "queued", "sent", "unconfirmed", "missed", "cancelled")
# A delivery that reached one of these will not change by itself.
TERMINAL = set(FINAL_EVENTS) | {"missed", "cancelled"}


def append(s: Session, delivery: Delivery, event: str, source: str,
           at: datetime | None = None, detail: str | None = None) -> DeliveryEvent:
    """Record one event and move the cached state forward (never backward from a final state)."""
    at = at or utcnow()
    detail = detail[:500] if detail else None
    if delivery.id is not None and "events" not in delivery.__dict__:
        # By id, not through the relationship: assigning `delivery=` appends to the
        # delivery's `events` collection, which lazy-loads every earlier event first —
        # one SELECT per ack, the ingestor's main cost in the fan-out profile.
        ev = DeliveryEvent(delivery_id=delivery.id, event=event, source=source, at=at,
                           detail=detail)
    else:  # not flushed yet (no earlier events), or events already loaded: keep them in step
        ev = DeliveryEvent(delivery=delivery, event=event, source=source, at=at, detail=detail)
    s.add(ev)
    if source == "agent":
        delivery.agent_seen = True
    if advances(delivery.state, event):
        ended = event in TERMINAL and delivery.state not in TERMINAL
        delivery.state = event
        delivery.state_at = at
        if ended:  # the province's aired-bulletin log, in this same transaction (off: no-op)
            province_outbox.delivery_ended(s, delivery, event, at)
    return ev


def advances(current: str, new: str) -> bool:
    """Whether `new` should become the current state (also the bulk ack path's rule).

    A late, out-of-order ack (say `downloaded` arriving after `played` from an
    agent's offline outbox) is recorded but does not regress the state; and a
    controller `unconfirmed` never hides what an agent said afterwards.
    """
    if current in TERMINAL or current == "unconfirmed":
        # Only an agent's final word may replace a final/unconfirmed state.
        return current == "unconfirmed" and new not in ("sent", "queued", "unconfirmed")
    return True


def broadcast_with_deliveries(s: Session, broadcast_id: int) -> Broadcast | None:
    """A broadcast with its deliveries and their events loaded."""
    return s.scalar(
        sa.select(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .options(selectinload(Broadcast.deliveries).selectinload(Delivery.events))
    )


def delivery_by_command(s: Session, command_id: str) -> Delivery | None:
    """The delivery a command id belongs to."""
    return s.scalar(sa.select(Delivery).where(Delivery.command_id == command_id))


def summary(broadcast: Broadcast) -> dict[str, int]:
    """Counts of deliveries per current state."""
    counts: dict[str, int] = {}
    for d in broadcast.deliveries:
        counts[d.state] = counts.get(d.state, 0) + 1
    return counts
