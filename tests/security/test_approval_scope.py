"""What is approved is the whole request: announcement, targets, priority and times.

The attack from the demo: an editor took an announcement approved for Ấp 1/2 at normal
priority and scheduled it onto Ấp 6 at emergency priority (Ấp 6 played it at volume 100).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from controller.models import Broadcast, Schedule
from controller.services import approvals, registry, users
from controller.services.errors import Forbidden
from controller.web_models import BroadcastRequest
from schedules import manage
from tests.schedules.conftest import make_announcement


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def approved(controller):
    """Speakers in Ấp 1, 2 and 6; an announcement approved for Ấp 1/2 at normal priority."""
    with controller.db.session() as s:
        for sid, hamlet in (("ap1", "Ấp 1"), ("ap2", "Ấp 2"), ("ap6", "Ấp 6")):
            registry.add_speaker(s, sid, hamlet)
        users.add_user(s, "lanh-dao", "approver")
    ann = make_announcement(controller, status="draft")
    with controller.db.session() as s:
        s.add(BroadcastRequest(announcement_id=ann, targets={"hamlets": ["Ấp 1", "Ấp 2"]},
                               priority="normal", when="now"))
    with controller.db.session() as s:
        approver = users.get_user(s, "lanh-dao")
    approvals.approve(controller, ann, approver)
    return ann


def _tomorrow_at(controller, hhmm: str) -> str:
    tz = ZoneInfo(controller.settings.timezone)
    day = (datetime.now(tz) + timedelta(days=1)).date()
    return f"{day.isoformat()} {hhmm}:00"


def _aired_on(controller, speaker_id: str) -> int:
    from controller.models import Delivery

    with controller.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(Delivery)
                        .where(Delivery.speaker_id == speaker_id))


def test_an_editor_cannot_put_an_approved_announcement_on_another_hamlet_at_emergency(
        client, controller, approved, token_for):
    editor = auth(token_for("editor"))
    attack = {"announcement_id": approved, "targets": {"hamlets": ["Ấp 6"]},
              "priority": "emergency", "kind": "once", "at": _tomorrow_at(controller, "06:00")}
    r = client.post("/api/v1/schedules", json=attack, headers=editor)
    assert r.status_code == 403 and r.json["error"] == "emergency_forbidden"
    assert "emergency" in r.json["message"]

    # At normal priority it is a request that waits for an approver, not a schedule.
    r = client.post("/api/v1/schedules", json={**attack, "priority": "normal"}, headers=editor)
    assert r.status_code == 202, r.json
    assert r.json["status"] == "pending_approval" and r.json["request_id"]
    with controller.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Schedule)) == 0
        req = s.get(BroadcastRequest, r.json["request_id"])
        assert (req.status, req.targets, req.when) == ("pending", {"hamlets": ["Ấp 6"]}, "schedule")
    assert _aired_on(controller, "ap6") == 0
    # The announcement shows up for approval again.
    with controller.db.session() as s:
        assert [a.id for a in approvals.pending(s)] == [approved]


def test_an_editor_cannot_change_an_approved_schedule_without_approval(client, controller, approved,
                                                                        token_for):
    lead = auth(token_for("approver", "lead"))
    body = {"announcement_id": approved, "targets": {"hamlets": ["Ấp 1", "Ấp 2"]},
            "kind": "once", "at": _tomorrow_at(controller, "06:00")}
    r = client.post("/api/v1/schedules", json=body, headers=lead)
    assert r.status_code == 201, r.json
    sid = r.json["id"]
    editor = auth(token_for("editor"))
    moved = {**body, "targets": {"hamlets": ["Ấp 6"]}, "at": _tomorrow_at(controller, "22:30")}
    assert client.put(f"/api/v1/schedules/{sid}", json={**moved, "priority": "emergency"},
                      headers=editor).status_code == 403
    r = client.put(f"/api/v1/schedules/{sid}", json=moved, headers=editor)
    assert r.status_code == 202 and r.json["schedule_id"] == sid
    got = client.get(f"/api/v1/schedules/{sid}", headers=editor).json
    assert got["targets"] == {"hamlets": ["Ấp 1", "Ấp 2"]}  # unchanged until approved
    assert "06:00" in got["plan"]["recurrence"]["at"]
    # The editor cannot save it directly through the service either.
    with controller.db.session() as s:
        ed = users.get_user(s, "editor-user")
    with pytest.raises(Forbidden, match="approval"):
        manage.update(controller, sid, moved, ed, datetime.now(UTC))
    # Once an approver approves the change, it is carried out.
    with controller.db.session() as s:
        approver = users.get_user(s, "lanh-dao")
    assert approvals.approve(controller, approved, approver) == [f"schedule:{sid}"]
    got = client.get(f"/api/v1/schedules/{sid}", headers=editor).json
    assert got["targets"] == {"hamlets": ["Ấp 6"]}


def test_an_editor_sending_again_asks_for_approval_and_never_emergency(app, controller, approved):

    with controller.db.session() as s:
        editor, _ = users.add_user(s, "bien-tap", "editor")
        with pytest.raises(Forbidden, match="emergency"):
            approvals.send_now(s, controller, approved, targets={"hamlets": ["Ấp 6"]},
                               priority="emergency", user=editor)
    with controller.db.session() as s:
        editor = users.get_user(s, "bien-tap")
        kind, _ = approvals.send_now(s, controller, approved, targets={"hamlets": ["Ấp 6"]},
                                     priority="normal", user=editor)
    assert kind == "request" and _aired_on(controller, "ap6") == 0
    # The last guard: no broadcast at emergency priority is written for an editor at all.
    with controller.db.session() as s:
        from controller.models import Announcement
        from controller.services import broadcasts

        with pytest.raises(Forbidden):
            broadcasts.create(s, announcement=s.get(Announcement, approved),
                              speakers=registry.resolve_targets(s, {"hamlets": ["Ấp 6"]}),
                              priority="emergency", user=users.get_user(s, "bien-tap"))
    with controller.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Broadcast)
                        .where(Broadcast.priority == "emergency")) == 0
