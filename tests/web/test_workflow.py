"""Draft → approve → broadcast, editing returns to draft, emergency override, double submits."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from controller.models import Announcement, AuditEvent, Broadcast, Schedule
from controller.web_models import BroadcastRequest
from tests.web.conftest import csrf_of, form_token_of

TEXT = "UBND xã thông báo: ngày 02/12 lúc 7h30 tiêm vắc xin tại trạm y tế."


def compose(client, **fields):
    """POST the compose form as the page would (tokens taken from the page)."""
    page = client.get("/compose").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "form_token": form_token_of(page), "source": "text",
            "title": "Tiêm chủng", "text": TEXT, "hamlets": ["Ấp Mỹ An"], "priority": "normal",
            "when": "now", **fields}
    return client.post("/compose", data=data)


def post_page_form(client, page_url: str, action: str, **fields):
    """POST a form found on a page, with that page's tokens."""
    page = client.get(page_url).get_data(as_text=True)
    tokens = {"csrf_token": csrf_of(page), "form_token": form_token_of(page)}
    return client.post(action, data={**tokens, **fields})


def rows(controller, model):
    from sqlalchemy.orm import selectinload

    q = sa.select(model)
    if model is Broadcast:
        q = q.options(selectinload(Broadcast.deliveries))
    with controller.db.session() as s:
        return list(s.scalars(q))


def test_editor_draft_needs_approval_then_airs(login, seeded):
    editor, approver = login("editor"), login("approver")
    r = compose(editor)
    assert r.status_code == 302
    ann = rows(seeded, Announcement)[0]
    assert ann.status == "draft" and ann.spoken_text and "ủy ban nhân dân" in ann.spoken_text.lower()
    assert rows(seeded, Broadcast) == []  # nothing airs before approval
    page = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert "Bản nháp" in page and "Duyệt và phát theo yêu cầu" not in page
    # An editor cannot approve.
    page = f"/announcements/{ann.id}"
    assert post_page_form(editor, page, f"{page}/approve").status_code == 403
    r = post_page_form(approver, f"/announcements/{ann.id}", f"/announcements/{ann.id}/approve")
    assert r.status_code == 302 and "/broadcasts/" in r.headers["Location"]
    (b,) = rows(seeded, Broadcast)
    assert sorted(d.speaker_id for d in b.deliveries) == ["spk-a", "spk-b"]
    ann = rows(seeded, Announcement)[0]
    assert ann.status == "approved" and ann.approved_at is not None
    with seeded.db.session() as s:
        approver_id = s.scalar(sa.text("select id from users where username='approver'"))
    assert ann.approved_by == approver_id
    shown = approver.get(f"/announcements/{ann.id}").get_data(as_text=True)
    assert "approver" in shown and "Đã duyệt" in shown
    assert any(e.action == "announcement_approved" and e.actor == "approver"
               for e in rows(seeded, AuditEvent))


def test_editing_approved_content_returns_it_to_draft(login, seeded):
    editor, approver = login("editor"), login("approver")
    compose(editor)
    ann = rows(seeded, Announcement)[0]
    post_page_form(approver, f"/announcements/{ann.id}", f"/announcements/{ann.id}/approve")
    r = post_page_form(editor, f"/announcements/{ann.id}", f"/announcements/{ann.id}/edit",
                       title="Tiêm chủng (sửa)", text=TEXT + " Mang theo sổ tiêm.")
    assert r.status_code == 302
    ann = rows(seeded, Announcement)[0]
    assert (ann.status, ann.approved_by, ann.approved_at) == ("draft", None, None)
    assert "sổ tiêm" in ann.spoken_text
    # A draft is not broadcast again: an editor's send waits for approval as a request.
    r = post_page_form(editor, f"/announcements/{ann.id}", f"/announcements/{ann.id}/send",
                       hamlets=["Ấp Mỹ An"], priority="normal")
    assert r.status_code == 302 and len(rows(seeded, Broadcast)) == 1
    assert [q.status for q in rows(seeded, BroadcastRequest)][-1] == "pending"


def test_approver_emergency_airs_without_approval_and_is_audited(login, seeded):
    r = compose(login("approver"), emergency="1", all_speakers="1", title="Lũ khẩn cấp")
    assert r.status_code == 302
    (b,) = rows(seeded, Broadcast)
    assert b.emergency_override and b.priority == "emergency" and len(b.deliveries) == 3
    assert rows(seeded, Announcement)[0].status == "draft"  # marked as not approved
    assert any(e.action == "broadcast_emergency" and e.actor == "approver" for e in rows(seeded, AuditEvent))
    assert "Khẩn cấp không qua duyệt" in login("viewer").get(f"/broadcasts/{b.id}").get_data(as_text=True)


def test_emergency_page_shows_the_speech_being_made_then_it_is_queued(login, seeded, pooled, held):
    from tests.support.processes import wait_for

    r = compose(login("approver"), emergency="1", all_speakers="1", title="Lũ khẩn cấp")
    assert r.status_code == 302  # answered before the speech exists
    (b,) = rows(seeded, Broadcast)
    assert {d.state for d in b.deliveries} == {"rendering"}
    page = login("viewer").get(f"/broadcasts/{b.id}").get_data(as_text=True)
    assert page.count("Đang tạo giọng đọc") >= 3  # one per speaker
    held()
    wait_for(lambda: {d.state for d in rows(seeded, Broadcast)[0].deliveries} == {"queued"},
             what="emergency queued once spoken")
    assert rows(seeded, Announcement)[0].engine == "espeak"


def test_editor_cannot_send_an_emergency(login, seeded):
    r = compose(login("editor"), emergency="1")
    assert r.status_code == 422
    assert rows(seeded, Broadcast) == [] and rows(seeded, Announcement) == []


def test_double_submit_creates_one_draft(login, seeded):
    editor = login("editor")
    page = editor.get("/compose").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "form_token": form_token_of(page), "source": "text", "title": "Họp",
            "text": TEXT, "hamlets": ["Ấp Mỹ An"], "priority": "normal", "when": "now"}
    first = editor.post("/compose", data=data)
    second = editor.post("/compose", data=data)
    assert len(rows(seeded, Announcement)) == 1
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]


def test_scheduled_request_becomes_a_schedule_on_approval(login, seeded):
    editor, approver = login("editor"), login("approver")
    start = date.today() + timedelta(days=7)
    r = compose(editor, when="schedule", kind="weekly", start_date=start.isoformat(),
                end_date=(start + timedelta(days=30)).isoformat(),
                times="06:00", weekdays=["0"], priority="priority")
    assert r.status_code == 302, r.get_data(as_text=True)
    ann = rows(seeded, Announcement)[0]
    post_page_form(approver, f"/announcements/{ann.id}", f"/announcements/{ann.id}/approve")
    (sch,) = rows(seeded, Schedule)
    assert sch.announcement_id == ann.id and sch.plan["priority"] == "priority"
    assert sch.plan["recurrence"]["kind"] == "weekly"
    (req,) = rows(seeded, BroadcastRequest)
    assert (req.status, req.result) == ("done", f"schedule:{sch.id}")
    assert rows(seeded, Broadcast) == []  # nothing airs now; the schedule does it
