"""/api/v1/schedules and /api/v1/agenda as an API client sees them, bad input included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from controller.models import Delivery
from controller.services import deliveries
from schedules.service import ScheduleRunner
from tests.schedules.conftest import make_announcement

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = (datetime.now(TZ) + timedelta(days=3)).date()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tok(token_for):
    return token_for("approver")  # an editor's schedule waits for approval


def daily(announcement, **fields):
    return {"announcement_id": announcement, "targets": {"hamlets": ["Ấp Mỹ An"]}, "kind": "daily",
            "start_date": DAY.isoformat(), "times": ["06:00"], **fields}


def test_create_get_list_a_daily_schedule(client, fleet, announcement, tok):
    r = client.post("/api/v1/schedules", json=daily(announcement), headers=auth(tok))
    assert r.status_code == 201, r.json
    assert r.json["status"] == "active" and r.json["conflicts"] == []
    assert "06:00" in r.json["summary_vi"] and r.json["plan"]["recurrence"]["timezone"] == str(TZ)
    got = client.get(f"/api/v1/schedules/{r.json['id']}", headers=auth(tok)).json
    assert got["targets"] == {"hamlets": ["Ấp Mỹ An"]}
    listed = client.get("/api/v1/schedules", headers=auth(tok)).json["schedules"]
    assert [x["id"] for x in listed] == [r.json["id"]]


def test_overlaps_are_reported_per_speaker_and_dry_run_saves_nothing(client, controller, fleet,
                                                                     announcement, tok):
    client.post("/api/v1/schedules", json=daily(announcement), headers=auth(tok))
    other = make_announcement(controller, title="Tiêm chủng", duration_ms=60_000)
    body = daily(other, times=["06:00:20"], targets={"speakers": ["spk-2", "spk-3"]},
                 end_date=(DAY + timedelta(days=1)).isoformat(), dry_run=True)
    r = client.post("/api/v1/schedules", json=body, headers=auth(tok))
    assert r.status_code == 200, r.json
    conflicts = r.json["conflicts"]
    assert len(conflicts) == 2  # two days, only spk-2 is shared
    assert all(c["speakers"] == ["spk-2"] and c["overlap_s"] == 10 for c in conflicts)
    assert "trùng giờ" in conflicts[0]["message_vi"]
    assert len(client.get("/api/v1/schedules", headers=auth(tok)).json["schedules"]) == 1
    body.pop("dry_run")
    r = client.post("/api/v1/schedules", json=body, headers=auth(tok))
    assert r.status_code == 201 and len(r.json["conflicts"]) == 2


@pytest.mark.parametrize("change,field,code", [
    ({"end_date": "2020-01-01"}, "end_date", "end_before_start"),
    ({"start_date": "31/02/2027"}, "start_date", "bad_date"),
    ({"kind": "cron", "cron": "0 0 30 2 *"}, "cron", "cron_never_fires"),
    ({"kind": "cron", "cron": "* * * * * *"}, "cron", "cron_fields"),
    ({"kind": "weekly", "weekdays": []}, "weekdays", "weekdays_empty"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown_timezone"),
    ({"repeat_count": 11}, "repeat_count", "out_of_range"),
    ({"repeat_gap_s": 601}, "repeat_gap_s", "out_of_range"),
])
def test_bad_schedules_get_400_with_field_errors_in_both_languages(client, fleet, announcement, tok,
                                                                   change, field, code):
    r = client.post("/api/v1/schedules", json=daily(announcement, **change), headers=auth(tok))
    assert r.status_code == 400, r.json
    assert r.json["error"] == "invalid_schedule"
    errs = {(e["field"], e["code"]) for e in r.json["errors"]}
    assert (field, code) in errs, r.json["errors"]
    assert all(e["message_vi"] for e in r.json["errors"])


def test_unapproved_announcement_and_unknown_targets_are_refused(client, controller, fleet, tok):
    draft = make_announcement(controller, title="Nháp", status="draft")
    r = client.post("/api/v1/schedules", json=daily(draft), headers=auth(tok))
    assert (r.status_code, r.json["error"]) == (400, "not_approved")
    ok = make_announcement(controller)
    r = client.post("/api/v1/schedules", json=daily(ok, targets={"hamlets": ["Ấp Không Có"]}),
                    headers=auth(tok))
    assert (r.status_code, r.json["error"]) == (404, "unknown_hamlet")
    r = client.post("/api/v1/schedules", json=daily(999), headers=auth(tok))
    assert r.status_code == 404


def test_viewers_read_but_do_not_schedule(client, fleet, announcement, token_for):
    viewer = token_for("viewer")
    assert client.post("/api/v1/schedules", json=daily(announcement),
                       headers=auth(viewer)).status_code == 403
    assert client.get("/api/v1/agenda", headers=auth(viewer)).status_code == 200


def test_pause_resume_cancel_and_edit(client, fleet, announcement, tok):
    sid = client.post("/api/v1/schedules", json=daily(announcement), headers=auth(tok)).json["id"]
    assert client.post(f"/api/v1/schedules/{sid}/pause", headers=auth(tok)).json["status"] == "paused"
    assert client.post(f"/api/v1/schedules/{sid}/resume", headers=auth(tok)).json["status"] == "active"
    r = client.put(f"/api/v1/schedules/{sid}", json=daily(announcement, times=["07:00"]),
                   headers=auth(tok))
    assert r.status_code == 200 and r.json["plan"]["recurrence"]["times"] == ["07:00"]
    assert client.delete(f"/api/v1/schedules/{sid}", headers=auth(tok)).json["status"] == "cancelled"
    r = client.post(f"/api/v1/schedules/{sid}/resume", headers=auth(tok))
    assert r.status_code == 409
    assert client.put(f"/api/v1/schedules/{sid}", json=daily(announcement),
                      headers=auth(tok)).status_code == 409


def _agenda(client, tok, start: date, days: int = 3):
    r = client.get(f"/api/v1/agenda?from={start.isoformat()}&to={(start + timedelta(days=days))}",
                   headers=auth(tok))
    assert r.status_code == 200, r.json
    return r.json["occurrences"]


def test_agenda_lists_planned_and_cancelled_occurrences(client, fleet, announcement, tok):
    sid = client.post("/api/v1/schedules", json=daily(announcement), headers=auth(tok)).json["id"]
    items = _agenda(client, tok, DAY)
    assert [(i["due_local"], i["state"]) for i in items] == [
        (f"{DAY + timedelta(days=n)} 06:00:00", "planned") for n in range(3)]
    r = client.post(f"/api/v1/schedules/{sid}/occurrences/cancel",
                    json={"due_at": items[1]["due_at"]}, headers=auth(tok))
    assert r.status_code == 200, r.json
    states = [(i["state"], i["reason_vi"]) for i in _agenda(client, tok, DAY)]
    assert states[1][0] == "cancelled" and states[1][1]
    assert [s for s, _ in states] == ["planned", "cancelled", "planned"]
    r = client.post(f"/api/v1/schedules/{sid}/occurrences/cancel",
                    json={"due_at": "2031-01-01T00:00:00Z"}, headers=auth(tok))
    assert r.status_code == 404


def test_agenda_shows_played_on_n_of_m_and_missed_with_reason(client, controller, fleet,
                                                              announcement, tok):
    body = daily(announcement, kind="once", at=f"{DAY} 06:00")
    client.post("/api/v1/schedules", json=body, headers=auth(tok))
    body = daily(announcement, kind="once", at=f"{DAY} 09:00")
    client.post("/api/v1/schedules", json=body, headers=auth(tok))
    due = datetime(DAY.year, DAY.month, DAY.day, 6, tzinfo=TZ).astimezone(UTC)
    runner = ScheduleRunner(controller, clock=lambda: due)
    runner.reconcile()
    with controller.db.session() as s:  # the two speakers of Ấp Mỹ An answer: one played
        ds = s.query(Delivery).order_by(Delivery.speaker_id).all()
        deliveries.append(s, ds[0], "played", "agent")
        deliveries.append(s, ds[1], "failed", "agent", detail="amplifier fault")
    ScheduleRunner(controller, clock=lambda: due + timedelta(hours=4)).reconcile()
    first, second = _agenda(client, tok, DAY, days=1)
    assert (first["state"], first["played_on"], first["speakers"]) == ("played", 1, 2)
    assert first["status"] == "played on 1 of 2 speakers"
    assert (second["state"], second["reason_code"]) == ("missed", "expired")
    assert "validity" in second["reason"] and second["reason_vi"]


def test_agenda_range_is_checked(client, tok):
    assert client.get("/api/v1/agenda?from=2026-13-01", headers=auth(tok)).status_code == 400
    assert client.get("/api/v1/agenda?from=2026-12-01&to=2026-11-01",
                      headers=auth(tok)).status_code == 400
    assert client.get("/api/v1/agenda?from=2026-01-01&to=2026-12-01",
                      headers=auth(tok)).status_code == 400
