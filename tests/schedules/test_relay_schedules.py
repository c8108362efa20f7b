"""Scheduled relays: "tiếp sóng VOV1 6:00–6:30 hằng ngày" is a schedule whose occurrence opens a relay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from controller.relay_models import Relay, StreamSource
from controller.services import users
from controller.stream_models import StreamSession
from schedules.service import ScheduleRunner
from tests.schedules.conftest import local_day
from tests.schedules.test_service import occurrences


@pytest.fixture
def approver(controller):
    with controller.db.session() as s:
        user, _ = users.add_user(s, "chu-tich", "approver")
        return user


@pytest.fixture
def vov1(controller):
    """A source row (registering one probes it; that is tested in tests/streams)."""
    with controller.db.session() as s:
        src = StreamSource(name="VOV1", url="http://127.0.0.1:9/vov1.mp3")
        s.add(src)
        s.flush()
        return src.id


def relay_daily(source_id, now, **fields):
    return {"relay": {"source_id": source_id, "duration_s": 1800},
            "targets": {"hamlets": ["Ấp Mỹ An"]}, "kind": "daily", "start_date": local_day(now),
            "times": ["06:00"], **fields}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_daily_relay_schedule_is_in_the_calendar_and_conflicts_like_any_schedule(
        client, token_for, fleet, vov1, announcement, clock):
    tok = token_for("approver")
    r = client.post("/api/v1/schedules", json=relay_daily(vov1, clock.now), headers=auth(tok))
    assert r.status_code == 201, r.json
    assert r.json["title"] == "Tiếp sóng VOV1"
    assert r.json["relay"] == {"source_id": vov1, "duration_s": 1800}
    # An announcement at 06:10 on the same hamlet falls inside the 30-minute relay.
    body = {"announcement_id": announcement, "targets": {"speakers": ["spk-2"]}, "kind": "daily",
            "start_date": local_day(clock.now), "times": ["06:10"], "dry_run": True}
    conflicts = client.post("/api/v1/schedules", json=body, headers=auth(tok)).json["conflicts"]
    assert conflicts and conflicts[0]["speakers"] == ["spk-2"]
    assert "Tiếp sóng VOV1" in conflicts[0]["other"]
    day = date.fromisoformat(local_day(clock.now))
    r = client.get(f"/api/v1/agenda?from={day}&to={day + timedelta(days=2)}", headers=auth(tok))
    assert ("Tiếp sóng VOV1", "relay") in {(i["title"], i["kind"]) for i in r.json["occurrences"]}


def test_bad_relay_fields_are_named_and_editors_may_not_schedule_a_relay(client, token_for,
                                                                          fleet, vov1, clock):
    h = auth(token_for("approver"))
    for body, field in [({"relay": {"source_id": 999, "duration_s": 1800}}, "source_id"),
                        ({"relay": {"source_id": vov1, "duration_s": 5}}, "relay"),
                        ({"relay": "VOV1"}, "relay")]:
        r = client.post("/api/v1/schedules", json={**relay_daily(vov1, clock.now), **body},
                        headers=h)
        assert r.status_code in (400, 404) and r.json["field"] == field, body
    r = client.post("/api/v1/schedules", json=relay_daily(vov1, clock.now),
                    headers=auth(token_for("editor")))
    assert r.status_code == 403


def test_an_occurrence_opens_one_relay_for_its_duration_once(controller, fleet, vov1, approver,
                                                             clock, due):
    from schedules import manage

    sid, _ = manage.create(controller, relay_daily(vov1, clock.now), approver, clock.now)
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    first = occurrences(controller, sid)[0]
    clock.now = due - timedelta(seconds=controller.settings.lead_time_s)
    assert runner.fire(first.id).state == "dispatched"
    assert runner.fire(first.id).state == "skipped"  # claimed once, never twice
    with controller.db.session() as s:
        (relay,) = s.scalars(sa.select(Relay)).all()
        assert (relay.starts_at, relay.until) == (due, due + timedelta(minutes=30))
        assert relay.occurrence_key == first.occurrence_key and relay.state == "running"
        assert sorted(relay.speakers) == ["spk-1", "spk-2"]
        session = s.get(StreamSession, relay.session_id)
        assert (session.kind, session.state, session.until) == ("relay", "scheduled", relay.until)
    assert occurrences(controller, sid)[0].state == "dispatched"
