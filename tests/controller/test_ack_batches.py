"""Ack batches and heartbeats through the real ingestor: order, dedupe, all-or-nothing, last value wins."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from controller.ingest import Ingestor
from controller.models import AuditEvent, Delivery, Speaker
from protocol.acks import encode_acks
from protocol.messages import Ack, SpeakerState, utc_now
from tests.controller.test_dispatch_ack_race import _broadcast
from tests.support.processes import wait_for


def _commands(ctl) -> dict[str, str]:
    with ctl.db.session() as s:
        return {d.speaker_id: d.command_id for d in s.query(Delivery).all()}


def _log(ctl, command_id):
    with ctl.db.session() as s:
        d = s.query(Delivery).filter_by(command_id=command_id).one()
        return d.state, [(e.event, e.detail) for e in d.events if e.source == "agent"]


def test_a_batch_lands_in_order_once_however_often_it_is_resent(controller):
    _broadcast(controller, ["spk-1", "spk-2"])
    cmds = _commands(controller)
    t0 = utc_now()
    steps = [Ack(cmds["spk-1"], "spk-1", e, t0 + timedelta(milliseconds=i))
             for i, e in enumerate(("received", "downloaded", "playing"))]
    batch = encode_acks(steps)
    late = encode_acks([Ack(cmds["spk-2"], "spk-2", "played", t0),
                        Ack(cmds["spk-2"], "spk-2", "downloaded", t0)])  # out of order
    ing = Ingestor(controller)
    ing.process([("spk-1", "ack", batch), ("spk-2", "ack", late)])
    # After a crash the agent sends the same bytes again, in a later batch or the same one.
    ing.process([("spk-1", "ack", batch), ("spk-1", "ack", steps[0].encode())])
    ing.process([("spk-1", "ack", Ack(cmds["spk-1"], "spk-1", "played", utc_now()).encode())])
    assert _log(controller, cmds["spk-1"]) == ("played", [
        ("received", None), ("downloaded", None), ("playing", None), ("played", None)])
    state, events = _log(controller, cmds["spk-2"])
    assert state == "played"  # a late `downloaded` does not take a delivery back
    assert [e for e, _ in events] == ["played", "downloaded"]


def test_a_forged_or_bad_batch_stores_nothing_and_a_rejection_is_audited_once(controller):
    _broadcast(controller, ["spk-1", "spk-2"])
    cmds = _commands(controller)
    now = utc_now()
    good = Ack(cmds["spk-1"], "spk-1", "received", now)
    broken = encode_acks([good, Ack(cmds["spk-1"], "spk-1", "played", now)]).replace(
        b'"played"', b'"exploded"')
    forged = encode_acks([Ack(cmds["spk-2"], "spk-2", "played", now),
                          Ack(cmds["spk-2"], "spk-2", "stopped", now)])
    rejected = encode_acks([Ack(cmds["spk-2"], "spk-2", "received", now),
                            Ack(cmds["spk-2"], "spk-2", "rejected", now, "chữ ký sai")])
    Ingestor(controller).process([("spk-1", "ack", broken), ("spk-1", "ack", forged),
                                  ("spk-2", "ack", rejected), ("spk-2", "ack", rejected)])
    assert _log(controller, cmds["spk-1"]) == ("queued", [])
    assert _log(controller, cmds["spk-2"]) == (
        "rejected", [("received", None), ("rejected", "chữ ký sai")])
    with controller.db.session() as s:
        audit = s.execute(sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.target)
                          .order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in audit if a[0] in ("ack_forged", "command_rejected")] == [
        ("ack_forged", "spk-1", cmds["spk-2"]), ("ack_forged", "spk-1", cmds["spk-2"]),
        ("command_rejected", "spk-2", cmds["spk-2"])]


def test_heartbeats_keep_the_last_value_and_are_written_by_the_periodic_flush(controller):
    _broadcast(controller, ["spk-1", "spk-2"])
    ing = Ingestor(controller, state_flush_s=0.2)
    for volume in (10, 20, 30):
        ing.on_message("spk-1", "state", SpeakerState("spk-1", True, utc_now(), volume=volume).encode())
    ing.on_message("spk-2", "state", SpeakerState("spk-2", False, utc_now()).encode())
    ing.on_message("spk-9", "state", SpeakerState("spk-9", True, utc_now()).encode())  # unknown
    assert ing.q.empty()  # states never queue ahead of acks
    ing.start()
    try:
        wait_for(lambda: ing.processed >= 3, what="one flush of the three speakers' states")

        with controller.db.session() as s:
            one, two = s.get(Speaker, "spk-1"), s.get(Speaker, "spk-2")
            assert (one.online, one.state["volume"], one.last_seen is not None) == (True, 30, True)
            assert (two.online, two.last_seen, two.state_at is not None) == (False, None, True)
            assert s.get(Speaker, "spk-9") is None
        ing.on_message("spk-1", "state", SpeakerState("spk-1", False, utc_now()).encode())
    finally:
        ing.stop()  # writes what is still pending
    with controller.db.session() as s:
        assert s.get(Speaker, "spk-1").online is False
