"""Field-level errors in Vietnamese that keep what was typed; CSRF; roles; session timeout."""

from __future__ import annotations

import re
import time

import pytest

from tests.web.conftest import PASSWORD, csrf_of, form_token_of


def compose_page(client):
    page = client.get("/compose").get_data(as_text=True)
    return {"csrf_token": csrf_of(page), "form_token": form_token_of(page)}


def field_error(html: str, name: str) -> str | None:
    m = re.search(rf'id="{name}-error"[^>]*>([^<]+)<', html)
    return m.group(1) if m else None


def test_empty_text_and_no_target_are_field_errors_keeping_the_title(login):
    c = login("editor")
    r = c.post("/compose", data={**compose_page(c), "source": "text", "title": "Họp tổ <b>ấp</b>",
                                 "text": "   ", "priority": "normal", "when": "now"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert field_error(html, "text") == "Nội dung bản tin đang trống."
    assert field_error(html, "targets") == "Vui lòng chọn ít nhất một ấp hoặc một loa."
    assert 'value="Họp tổ &lt;b&gt;ấp&lt;/b&gt;"' in html  # kept, and escaped
    assert 'aria-invalid="true" aria-describedby="text-error"' in html


def test_schedule_errors_name_the_field_in_vietnamese_and_keep_input(login):
    c = login("editor")
    r = c.post("/compose", data={**compose_page(c), "source": "text", "text": "Họp dân",
                                 "hamlets": "Ấp Mỹ An",
                                 "when": "schedule", "kind": "daily", "start_date": "2030-12-10",
                                 "end_date": "2030-12-01", "times": "25:00", "priority": "normal"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "không phải là giờ hợp lệ" in field_error(html, "times")
    assert 'value="25:00"' in html and 'value="2030-12-10"' in html
    assert "Họp dân</textarea>" in html


def test_upload_that_is_not_audio_is_refused_with_a_clear_message(login, seeded):
    import io

    c = login("editor")
    r = c.post("/compose", data={**compose_page(c), "source": "upload", "hamlets": "Ấp Mỹ An",
                                 "when": "now", "priority": "normal",
                                 "audio_file": (io.BytesIO(b"just text, not audio\n" * 50), "tin.mp3")},
               content_type="multipart/form-data")
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), "audio_file") == "Tệp này không phải âm thanh phát được."


def test_post_without_csrf_token_is_rejected(login, seeded):
    c = login("editor")
    r = c.post("/compose", data={"source": "text", "text": "x", "hamlets": "Ấp Mỹ An"})
    assert r.status_code == 400
    assert "Biểu mẫu đã hết hạn" in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/compose", "/users"])
def test_viewer_gets_403_on_editor_and_admin_pages(login, path):
    r = login("viewer").get(path)
    assert r.status_code == 403
    assert "Vai trò của bạn không được phép" in r.get_data(as_text=True)


def test_editor_cannot_manage_users_or_act_on_speakers(login):
    c = login("viewer")
    page = c.get("/fleet").get_data(as_text=True)
    assert "Đặt âm lượng" not in page
    assert c.post("/fleet/spk-a/stop", data={"csrf_token": csrf_of(page)}).status_code == 403


def test_anonymous_is_sent_to_login(client, seeded):
    r = client.get("/compose")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_wrong_password_message_keeps_username(client, seeded):
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"username": "editor", "password": "sai", "csrf_token": csrf_of(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in html and 'value="editor"' in html


def test_idle_session_asks_to_log_in_again_then_returns(app, login):
    c = login("editor")
    app.config["SESSION_IDLE_MINUTES"] = 1
    with c.session_transaction() as sess:
        sess["seen"] = time.time() - 120
    r = c.get("/compose")
    assert r.status_code == 302 and "/login?next=/compose" in r.headers["Location"]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Phiên làm việc đã hết hạn" in page
    r = c.post(r.headers["Location"],
               data={"username": "editor", "password": PASSWORD, "csrf_token": csrf_of(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/compose")


def test_open_redirect_after_login_is_refused(client, seeded):
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login?next=//evil.example/", data={"username": "editor", "password": PASSWORD,
                                                          "csrf_token": csrf_of(page)})
    assert r.headers["Location"] == "/"


def test_english_is_available(login):
    c = login("viewer")
    page = c.get("/").get_data(as_text=True)
    c.post("/lang", data={"lang": "en", "next": "/log", "csrf_token": csrf_of(page)})
    html = c.get("/log").get_data(as_text=True)
    assert 'lang="en"' in html and "Delivery log" in html and "Nhật ký phát" not in html
