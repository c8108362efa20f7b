"""How a relay is shown: its state, each speaker's delivery (from the stream session), its gaps."""

from __future__ import annotations

from sqlalchemy.orm import Session

from controller.relay_models import Relay
from controller.services import access, registry, streams
from protocol.messages import format_time


def _t(at):
    return format_time(at) if at is not None else None


def summary(r: Relay, shown: set[str] | None = None) -> dict:
    """The list shape of a relay (only the `shown` speakers, when given)."""
    return {"id": r.id, "state": r.state, "source_id": r.source_id, "source": r.source.name,
            "speakers": [x for x in r.speakers if shown is None or x in shown],
            "starts_at": _t(r.starts_at), "until": _t(r.until),
            "ended_at": _t(r.ended_at), "reason": r.reason, "on_backup": r.on_backup,
            "session_id": r.session_id}


def events(r: Relay) -> list[dict]:
    """The relay's own log: started, gaps (with end and reason), source switches, its end."""
    return [{"event": e.event, "at": _t(e.at), "detail": e.detail}
            for e in r.events]


def shown_speakers(s: Session, user) -> set[str] | None:
    """The speaker ids a hamlet-limited user may see; None for the whole commune."""
    if not access.scope_of(user).limited:
        return None
    return {spk.id for spk in registry.list_speakers(s, include_revoked=True, user=user)}


def detail(s: Session, r: Relay, user=None) -> dict:
    """The API shape of one relay: {id, state, deliveries: [{speaker_id, state, aired_s, events}]}.

    Deliveries and gaps come from the stream session, so they match the delivery log; a
    hamlet-limited user gets only his hamlets' speakers.
    """
    shown = shown_speakers(s, user)
    view = streams.session_view(s, r.session_id)
    deliveries = [{"speaker_id": d["speaker_id"], "state": d["state"], "aired_s": d["aired_s"],
                   "events": d["events"]} for d in view["deliveries"]
                  if shown is None or d["speaker_id"] in shown]
    return {**summary(r, shown), "session": view["session_id"], "mount": view["mount"],
            "deliveries": deliveries, "events": events(r), "gaps": view["gaps"]}
