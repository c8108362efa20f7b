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
    rid = page.split('data-relay="')[1].split('"')[0]
    assert post_from(c, "/relays", f"/relays/{rid}/stop", {}).status_code == 302
    assert c.get("/relays").get_data(as_text=True).count('data-state="running"') == 1
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
