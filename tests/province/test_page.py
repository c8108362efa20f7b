"""The Kết nối tỉnh page: queue length, last success and failure, and the alarm on an old queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controller.models import utcnow
from controller.province.client import ProvinceError
from controller.province.models import ProvinceRecord
from controller.services import users
from tests.province.conftest import make_deliveries


@pytest.fixture
def admin(linked):
    from controller.app import create_app

    app = create_app(controller=linked)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    with linked.db.session() as s:
        users.add_user(s, "quan-tri", "admin", "mat-khau-dung-8")
        users.add_user(s, "bien-tap", "editor", "mat-khau-dung-8")
    c = app.test_client()
    assert c.post("/login", data={"username": "quan-tri", "password": "mat-khau-dung-8"}).status_code == 302
    editor = app.test_client()
    editor.post("/login", data={"username": "bien-tap", "password": "mat-khau-dung-8"})
    return c, editor


def test_the_page_shows_the_queue_the_failure_and_the_alarm(linked, province, admin, tmp_path):
    client, editor = admin
    assert editor.get("/province").status_code == 403
    province.mock.faults.down = True
    make_deliveries(linked, 3, tmp_path)
    with linked.db.session() as s:  # one record waiting since two hours ago
        rec = s.query(ProvinceRecord).order_by(ProvinceRecord.id).first()
        rec.created_at = utcnow() - timedelta(hours=2)
    with pytest.raises(ProvinceError):
        linked.province.sender.run_once()
    html = client.get("/province").get_data(as_text=True)
    assert "Kết nối tỉnh" in html and 'id="province-alarm"' in html
    assert "Không gửi được lên tỉnh" in html and "HTTP 500" in html
    assert 'id="province-queue">3' in html
    province.mock.faults.down = False
    linked.province.sender.run_once()
    html = client.get("/province").get_data(as_text=True)
    assert 'id="province-alarm"' not in html and 'id="province-queue">0' in html
    assert "Đang kết nối" in html
