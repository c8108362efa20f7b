"""The tiếp sóng pages in Vietnamese: adding a station (refused, then saved anyway) and relays."""

from __future__ import annotations

from datetime import timedelta

from controller.models import User, utcnow
from controller.relay_models import StreamSource
from controller.services import relays
from tests.support.processes import free_port
from tests.web.conftest import csrf_of, form_token_of


def post_from(client, page_url: str, action: str, data):
    page = client.get(page_url).get_data(as_text=True)
    tokens = {"csrf_token": csrf_of(page), "form_token": form_token_of(page)}
    return client.post(action, data={**tokens, **data})


def test_a_station_that_does_not_answer_is_saved_only_when_the_clerk_insists(login, seeded):
    c = login("editor")
    station = {"name": "VOV1", "url": f"http://127.0.0.1:{free_port()}/vov1.mp3"}
    r = post_from(c, "/sources", "/sources", station)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Đài không trả lời ở địa chỉ này." in html and "Vẫn lưu" in html
    assert 'value="VOV1"' in html  # what was typed is kept
    r = post_from(c, "/sources", "/sources", {**station, "force": "1"})
    assert r.status_code == 302
    page = c.get("/sources").get_data(as_text=True)
    assert "Nguồn tiếp sóng" in page and "VOV1" in page and "chưa kiểm tra được" in page
    assert "Nghe thử" in page
    assert "Thêm đài" not in login("viewer").get("/sources").get_data(as_text=True)


def test_relay_page_starts_refuses_a_clash_and_stops(login, seeded, controller):
    with controller.db.session() as s:
        s.add(StreamSource(name="Đài tỉnh", url="http://127.0.0.1:9/tinh.mp3"))
        s.flush()
        src = s.query(StreamSource).one().id
        boss = s.query(User).filter_by(username="approver").one()
        now = utcnow()
        relays.create(s, source_id=src, targets={"speakers": ["spk-b"]}, starts_at=now,
                      until=now + timedelta(minutes=30), user=boss)
    c = login("approver")
    page = c.get("/relays").get_data(as_text=True)
    assert "Tiếp sóng ngay" in page and "Đang phát" in page and "Ấp Mỹ Phú" in page
    form = {"source_id": str(src), "hamlets": ["Ấp Mỹ An"], "minutes": "30"}
    r = post_from(c, "/relays", "/relays", form)
    assert r.status_code == 422
    assert "Loa spk-b đang tiếp sóng Đài tỉnh" in r.get_data(as_text=True)
    r = post_from(c, "/relays", "/relays", {**form, "hamlets": ["Ấp Mỹ Phú"]})
    assert r.status_code == 302
    page = c.get("/relays").get_data(as_text=True)
    assert page.count('data-state="running"') == 2
    assert 'data-running="true"' in page  # static/relays.js polls while something runs
    rid = page.split('data-relay="')[1].split('"')[0]
    polled = c.get("/relays.json").get_json()  # what static/relays.js polls
    assert polled["running"] is True
    assert {d["speaker_id"] for r in polled["relays"] for d in r["deliveries"]} == {"spk-b", "spk-c"}
    assert {r["state_name"] for r in polled["relays"]} == {"Đang phát"}
    assert post_from(c, "/relays", f"/relays/{rid}/stop", {}).status_code == 302
    polled = c.get("/relays.json").get_json()
    assert {r["id"]: r["state_name"] for r in polled["relays"]}[int(rid)] == "Đã dừng"
    assert polled["running"] is True  # the other relay is still on air
    assert c.get("/relays").get_data(as_text=True).count('data-state="running"') == 1
    other = next(r["id"] for r in polled["relays"] if r["state"] == "running")
    assert post_from(c, "/relays", f"/relays/{other}/stop", {}).status_code == 302
    assert c.get("/relays.json").get_json()["running"] is False  # the page stops polling
    assert 'data-running="false"' in c.get("/relays").get_data(as_text=True)
    assert "Bắt đầu tiếp sóng" not in login("editor").get("/relays").get_data(as_text=True)


def test_report_counts_relay_minutes_per_hamlet_from_what_speakers_played(login, seeded,
                                                                         controller):
    from controller.services import streams
    from controller.stream_models import StreamDelivery

    now = utcnow()
    with controller.db.session() as s:
        s.add(StreamSource(name="VOV1", url="http://127.0.0.1:9/vov1.mp3"))
        s.flush()
        r = relays.create(s, source_id=s.query(StreamSource).one().id,
                          targets={"hamlets": ["Ấp Mỹ An"]}, starts_at=now,
                          until=now + timedelta(minutes=30), user=None)
        for d in s.query(StreamDelivery).filter_by(session_id=r.session_id):
            if d.speaker_id == "spk-a":  # spk-b never played: its hamlet gets spk-a's minutes only
                streams.append(s, d, "stream_playing", "agent", now - timedelta(minutes=1))
                streams.append(s, d, "stream_stalled", "agent", now - timedelta(seconds=30))
    page = login("viewer").get("/report").get_data(as_text=True)
    assert "Số phút tiếp sóng và phát trực tiếp theo ấp" in page
    row = page.split('id="rep-stream-hamlets"')[1].split("</table>")[0]
    assert "<td>Ấp Mỹ An</td><td>0.5</td><td>0.0</td>" in row


def test_compose_schedule_preview_warns_of_a_daily_relay_at_that_hour(login, seeded, controller):
    from schedules import manage

    with controller.db.session() as s:
        s.add(StreamSource(name="VOV1", url="http://127.0.0.1:9/vov1.mp3"))
        s.flush()
        src = s.query(StreamSource).one().id
        boss = s.query(User).filter_by(username="approver").one()
    day = (utcnow() + timedelta(days=2)).date().isoformat()
    manage.create(controller, {"relay": {"source_id": src, "duration_s": 1800},
                               "targets": {"hamlets": ["Ấp Mỹ An"]}, "kind": "daily",
                               "start_date": day, "times": ["06:00"]}, boss, utcnow())
    c = login("editor")
    page = c.get("/compose").get_data(as_text=True)
    r = c.post("/compose/schedule.json", data={
        "csrf_token": csrf_of(page), "title": "Họp dân", "text": "Mời bà con dự họp.",
        "hamlets": ["Ấp Mỹ An"], "when": "schedule", "kind": "daily", "start_date": day,
        "times": "06:10"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert any("Tiếp sóng VOV1" in c for c in r.get_json()["conflicts"])


def _vov1(controller) -> int:
    with controller.db.session() as s:
        s.add(StreamSource(name="VOV1", url="http://127.0.0.1:9/vov1.mp3"))
        s.flush()
        return s.query(StreamSource).one().id


def _schedules(controller) -> int:
    from controller.models import Schedule

    with controller.db.session() as s:
        return s.query(Schedule).count()


def _tomorrow(controller):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(controller.settings.timezone)).date() + timedelta(days=1)


def _relay_form(src, day, **fields):
    return {"source_id": str(src), "hamlets": ["Ấp Mỹ An"], "minutes": "30", "kind": "daily",
            "start_date": day.strftime("%d/%m/%Y"), "times": "06:00", "validity_s": "900", **fields}


def test_a_daily_relay_scheduled_on_the_page_is_in_the_calendar_and_can_be_paused_and_cancelled(
        login, seeded, controller):
    src, day = _vov1(controller), _tomorrow(controller)
    c = login("approver")
    page = c.get("/relays").get_data(as_text=True)
    assert "Đặt lịch tiếp sóng" in page and "Chưa có lịch tiếp sóng nào." in page
    assert 'id="repeat_count"' not in page  # a relay airs once per occurrence
    r = post_from(c, "/relays", "/relays/schedules", _relay_form(src, day))
    assert r.status_code == 302, r.get_data(as_text=True)
    page = c.get("/relays").get_data(as_text=True)
    assert "Đã lưu lịch tiếp sóng" in page
    item = page.split("data-relay-schedule=")[1].split("</li>")[0]
    assert "Tiếp sóng VOV1" in item and "Hằng ngày lúc 06:00" in item
    assert "30 phút" in item and "Ấp Mỹ An" in item
    week = c.get(f"/calendar?start={day.isoformat()}").get_data(as_text=True)
    today = week.split(f'id="day-{day.isoformat()}"')[1].split("</section>")[0]
    assert "06:00</strong> Tiếp sóng VOV1" in today and "Ấp Mỹ An" in today
    sid = item.split('"')[1]
    audit = login("admin").get("/audit")  # the audit trail names the relay schedule
    assert audit.status_code == 200 and "Tiếp sóng VOV1" in audit.get_data(as_text=True)
    assert post_from(c, "/relays", f"/relays/schedules/{sid}/pause", {}).status_code == 302
    page = c.get("/relays").get_data(as_text=True)
    assert "Đã tạm dừng lịch tiếp sóng" in page and 'data-status="paused"' in page
    assert post_from(c, "/relays", f"/relays/schedules/{sid}/cancel", {}).status_code == 302
    page = c.get("/relays").get_data(as_text=True)
    assert "Đã hủy lịch tiếp sóng" in page and "data-relay-schedule=" not in page
    week = c.get(f"/calendar?start={day.isoformat()}").get_data(as_text=True)
    assert "Tiếp sóng VOV1" not in week.split('class="card schedules"')[1]  # no longer active


def test_an_editor_may_not_schedule_a_relay_and_bad_fields_are_named(login, seeded, controller):
    src, day = _vov1(controller), _tomorrow(controller)
    editor = login("editor")
    assert "Đặt lịch tiếp sóng" not in editor.get("/relays").get_data(as_text=True)
    r = post_from(editor, "/compose", "/relays/schedules", _relay_form(src, day))
    assert r.status_code == 403
    assert ("Chỉ lãnh đạo (người duyệt) hoặc quản trị viên mới được đặt lịch tiếp sóng."
            in r.get_data(as_text=True))
    c = login("approver")
    bad = _relay_form(src, day, source_id="", hamlets=[], times="25:00",
                      start_date="31/02/2026", minutes="0")
    r = post_from(c, "/relays", "/relays/schedules", bad)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for msg in ("Hãy chọn đài.", "Hãy chọn thời lượng.", "Vui lòng chọn ít nhất một ấp hoặc một loa.",
                "&#39;25:00&#39; không phải là giờ hợp lệ",
                "&#39;31/02/2026&#39; không phải là ngày có thật"):
        assert msg in html, msg
    assert 'value="25:00"' in html  # what was typed is kept
    r = post_from(c, "/relays", "/relays/schedules", _relay_form(999, day))
    assert r.status_code == 404 and "Đài đã chọn không còn nữa." in r.get_data(as_text=True)
    assert _schedules(controller) == 0


def test_a_relay_schedule_clashing_with_another_relay_is_shown_and_saved_only_on_insisting(
        login, seeded, controller):
    src, day = _vov1(controller), _tomorrow(controller)
    c = login("approver")
    assert post_from(c, "/relays", "/relays/schedules", _relay_form(src, day)).status_code == 302
    clash = _relay_form(src, day, hamlets=[], speakers=["spk-a"], times="06:15")
    r = post_from(c, "/relays", "/relays/schedules", clash)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "trùng giờ với chương trình khác trên cùng loa" in html
    conflicts = html.split('id="schedule-conflicts"')[1].split("</ul>")[0]
    assert "Tiếp sóng VOV1" in conflicts and "spk-a" in conflicts
    assert _schedules(controller) == 1
    r = post_from(c, "/relays", "/relays/schedules", {**clash, "confirm": "1"})
    assert r.status_code == 302
    assert "Đã lưu dù trùng giờ" in c.get("/relays").get_data(as_text=True)
    assert _schedules(controller) == 2
    json_preview = post_from(c, "/relays", "/relays/schedules/preview.json", clash).get_json()
    assert "Hằng ngày lúc 06:15" in json_preview["summary"]
    assert any("Tiếp sóng VOV1" in x for x in json_preview["conflicts"])
