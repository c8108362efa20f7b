"""The 'Cảnh báo' page as a clerk sees it: the log in Vietnamese, the policy, hamlet areas."""

from __future__ import annotations

import json
from datetime import timedelta

from controller.alerts import intake
from controller.models import utcnow
from tests.alerts import fixtures as fx
from tests.web.conftest import csrf_of


def test_the_log_policy_and_links_are_shown_in_vietnamese(controller, login):
    now = utcnow()
    english = fx.alert(identifier="AG-EN-1", sent=now, infos=fx.info(
        language="en-US", headline="Flash flood warning", description="River rising fast.",
        expires=now + timedelta(hours=2), areas=fx.geocode_area("An Giang", fx.PROVINCE_CODE)))
    rid = intake.receive(controller, english, source="feed:kttv", now=now)
    intake.receive(controller, b"<html><body>Bao tri</body></html>", source="feed:kttv", now=now)
    viewer = login("viewer")
    page = viewer.get("/alerts").get_data(as_text=True)
    assert "Cảnh báo đã nhận" in page and "Cảnh báo nào tự động phát" in page
    assert "Flash flood warning" in page and "Bản nháp chờ duyệt" in page
    assert "Từ chối" in page and "Không phải cảnh báo CAP." in page and "not a CAP" in page
    assert "Không có nội dung tiếng Việt: bản nháp chờ người dịch" in page
    # The default table: Extreme/Severe × Immediate air at once, the rest waits for an approver.
    assert page.count("Đã phát ngay (khẩn cấp)") == 2
    one = viewer.get(f"/alerts/{rid}").get_data(as_text=True)
    assert "feed:kttv" in one and "Mức nghiêm trọng" in one


def test_an_admin_saves_a_hamlet_polygon_and_a_crossing_one_is_refused(controller, login):
    admin = login("admin")
    page = admin.get("/alerts").get_data(as_text=True)
    token = csrf_of(page)
    bowtie = {"type": "Polygon", "coordinates": [[[105.40, 10.40], [105.42, 10.42], [105.42, 10.40],
                                                  [105.40, 10.42], [105.40, 10.40]]]}
    r = admin.post("/alerts/hamlets/1", data={"csrf_token": token, "polygon": json.dumps(bowtie),
                                              "geocodes": "89"}, follow_redirects=True)
    assert "Chưa lưu được vùng" in r.get_data(as_text=True)
    box = {"type": "Polygon", "coordinates": [[[105.40, 10.40], [105.42, 10.40], [105.42, 10.42],
                                               [105.40, 10.42], [105.40, 10.40]]]}
    r = admin.post("/alerts/hamlets/1", data={"csrf_token": token, "polygon": json.dumps(box),
                                              "geocodes": "89, 886"}, follow_redirects=True)
    assert "Đã lưu vùng của ấp." in r.get_data(as_text=True)
    assert 'value="89, 886"' in r.get_data(as_text=True)
    viewer = login("viewer")
    own = csrf_of(viewer.get("/alerts").get_data(as_text=True))
    assert viewer.post("/alerts/hamlets/1", data={"csrf_token": own, "geocodes": "1"}).status_code == 403


def test_a_broadcast_made_for_a_warning_links_back_to_it(controller, login):
    now = utcnow()
    doc = fx.alert(identifier="AG-LU-9", sent=now, infos=fx.info(
        expires=now + timedelta(hours=1), areas=fx.geocode_area("Toàn tỉnh", fx.PROVINCE_CODE)))
    rid = intake.receive(controller, doc, source="api:kttv", now=now)
    viewer = login("viewer")
    one = viewer.get(f"/alerts/{rid}").get_data(as_text=True)
    bid = int(one.split('href="/broadcasts/')[1].split('"')[0])
    page = viewer.get(f"/broadcasts/{bid}").get_data(as_text=True)
    assert f'href="/alerts/{rid}"' in page and f"Cảnh báo #{rid}" in page
    calendar = viewer.get("/calendar")
    assert calendar.status_code == 200
    assert "Cứ 30 phút một lần" in calendar.get_data(as_text=True)
