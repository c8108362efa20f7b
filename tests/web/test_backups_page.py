"""The backup page: admins only, the alarm when there is no recent backup, "back up now"."""

from __future__ import annotations

from tests.web.conftest import csrf_of, form_token_of


def test_only_admins_see_the_backup_page(login):
    for role in ("editor", "approver", "viewer"):
        assert login(role).get("/backups").status_code == 403


def test_back_up_now_clears_the_alarm_and_shows_the_file(login, controller):
    admin = login("admin")
    page = admin.get("/backups").get_data(as_text=True)
    assert 'id="backup-alarm"' in page and "Chưa có bản sao lưu thành công nào." in page
    r = admin.post("/backups", data={"csrf_token": csrf_of(page), "form_token": form_token_of(page)},
                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Đã sao lưu: commune-radio-" in html
    assert 'id="backup-alarm"' not in html
    (archive,) = controller.backups.archives()
    assert archive.name in html and archive.stat().st_size > 0
