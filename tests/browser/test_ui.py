"""The web page in a real Chromium: login, roles, CSRF, compose errors, the full workflow
(draft → approval → played on two agents → viewer sees it and exports the CSV), a double
click, an expired session that keeps the draft."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD, login
from tests.support.processes import wait_for

pytestmark = pytest.mark.browser
TEXT = ("Ủy ban nhân dân xã Mỹ Hòa Hưng thông báo: ngày 02/12/2026, lúc 7h30, tổ chức tiêm vắc xin "
        "cho trẻ em dưới 5 tuổi tại trạm y tế xã.")


def test_login_with_wrong_then_right_password(browser, system):
    ctx = browser.new_context(locale="vi-VN")
    page = ctx.new_page()
    page.goto(system["base"] + "/")
    assert "/login" in page.url
    page.get_by_label("Tên đăng nhập").fill("editor")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.locator("#login-error").inner_text() == "Sai tên đăng nhập hoặc mật khẩu."
    assert page.get_by_label("Tên đăng nhập").input_value() == "editor"
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(system["base"] + "/")
    assert page.get_by_role("link", name="Soạn tin").is_visible()
    ctx.close()


def test_viewer_gets_403_on_editor_pages(as_role, system):
    page = as_role("viewer")
    assert not page.get_by_role("link", name="Soạn tin").count()
    for path in ("/compose", "/users"):
        resp = page.goto(system["base"] + path)
        assert resp.status == 403
        assert "Vai trò của bạn không được phép" in page.content()


def test_post_without_csrf_token_is_rejected(as_role, system):
    page = as_role("editor")
    resp = page.request.post(system["base"] + "/compose",
                             form={"source": "text", "text": "Thông báo", "all_speakers": "1"})
    assert resp.status == 400
    assert "Biểu mẫu đã hết hạn" in resp.text()


def test_compose_form_shows_vietnamese_field_errors_and_keeps_input(as_role, system):
    page = as_role("editor")
    page.goto(system["base"] + "/compose")
    page.evaluate("localStorage.clear()")
    page.get_by_label("Tiêu đề", exact=True).fill("Họp tổ dân phố")
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    assert page.locator("#text-error").inner_text() == "Nội dung bản tin đang trống."
    assert page.locator("#targets-error").inner_text() == "Vui lòng chọn ít nhất một ấp hoặc một loa."
    assert page.get_by_label("Tiêu đề", exact=True).input_value() == "Họp tổ dân phố"
    # A schedule with an impossible time is refused on its own field.
    page.get_by_label("Nội dung bản tin").fill("Họp tổ dân phố tối nay.")
    page.get_by_label("Tất cả các ấp").check()
    page.get_by_label("Theo lịch").check()
    page.get_by_label("Lặp lại").select_option("daily")
    page.get_by_label("Giờ phát trong ngày (ví dụ 06:00, 17:30)").fill("25:00")
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    assert "không phải là giờ hợp lệ" in page.locator("#times-error").inner_text()
    assert page.get_by_label("Nội dung bản tin").input_value() == "Họp tổ dân phố tối nay."


def test_live_preview_shows_the_spoken_text(as_role, system):
    page = as_role("editor")
    page.goto(system["base"] + "/compose")
    page.get_by_label("Nội dung bản tin").fill("UBND xã họp lúc 7h30 ngày 02/12.")
    preview = page.locator("#spoken-preview")
    preview.filter(has_text="ủy ban nhân dân").wait_for()
    assert "bảy giờ ba mươi" in preview.inner_text()


def test_full_workflow_draft_approve_play_log_csv(as_role, system, tmp_path):
    base = system["base"]
    editor = as_role("editor")
    editor.goto(base + "/compose")
    editor.evaluate("localStorage.clear()")
    editor.get_by_label("Tiêu đề", exact=True).fill("Tiêm vắc xin cho trẻ em")
    editor.get_by_label("Nội dung bản tin").fill(TEXT)
    editor.get_by_label("Tất cả các ấp").check()
    editor.get_by_role("button", name="Lưu và gửi duyệt").click()
    editor.wait_for_url(re.compile(r"/announcements/\d+"))
    ann_url = editor.url.split("?")[0]
    assert editor.locator("#ann-status").inner_text() == "Bản nháp"

    approver = as_role("approver")
    approver.goto(base + "/approvals")
    approver.get_by_role("link", name=re.compile("Tiêm vắc xin cho trẻ em")).first.click()
    approver.get_by_role("button", name="Duyệt và phát theo yêu cầu").click()
    approver.wait_for_url(re.compile(r"/broadcasts/\d+"))
    bid = int(approver.url.rsplit("/", 1)[1])

    def both_played():
        approver.reload()
        cells = approver.locator("#matrix td.state").all()
        return len(cells) == 2 and all(c.get_attribute("data-state") == "played" for c in cells)

    wait_for(both_played, timeout=180, interval=2, what="both speakers played")
    editor.goto(ann_url)
    assert editor.locator("#ann-status").inner_text() == "Đã duyệt"
    assert "approver" in editor.locator("#approved-by").inner_text()
    assert list((system["tmp"] / "sink" / "spk-my-an").glob("*.wav"))

    viewer = as_role("viewer")
    viewer.goto(base + f"/log?broadcast_id={bid}")
    rows = viewer.locator("#log tbody tr")
    assert rows.count() == 2
    assert all(s == "Đã phát" for s in viewer.locator("#log td.state").all_inner_texts())
    with viewer.expect_download() as info:
        viewer.get_by_role("link", name="Xuất CSV (Excel)").click()
    path = tmp_path / "log.csv"
    info.value.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Lượt phát số,Tiêu đề,")  # Vietnamese for Excel by default
    assert all(",Đã phát," in line and "Tiêm vắc xin cho trẻ em" in line for line in lines[1:])


def test_double_click_sends_once(as_role, system):
    base = system["base"]
    page = as_role("editor")
    page.goto(base + "/compose")
    page.evaluate("localStorage.clear()")
    title = "Thông báo nhấp đúp"
    page.get_by_label("Tiêu đề", exact=True).fill(title)
    page.get_by_label("Nội dung bản tin").fill("Thông báo về lịch thu gom rác.")
    page.get_by_label("Tất cả các ấp").check()
    page.get_by_role("button", name="Lưu và gửi duyệt").dblclick()
    page.wait_for_url(re.compile(r"/announcements/\d+"))
    page.goto(base + "/approvals")
    assert page.get_by_role("link", name=re.compile(title)).count() == 1


def test_expired_session_keeps_the_draft(as_role, system):
    base = system["base"]
    page = as_role("editor")
    page.goto(base + "/compose")
    page.evaluate("localStorage.clear()")
    page.get_by_label("Tiêu đề", exact=True).fill("Bản nháp dở dang")
    page.get_by_label("Nội dung bản tin").fill("Nội dung đang soạn thì phiên hết hạn.")
    page.context.clear_cookies()  # the session expires while the editor types
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    assert "Biểu mẫu đã hết hạn" in page.content()
    page.get_by_role("link", name="Đăng nhập lại").click()
    assert page.locator("#draft-kept").is_visible()
    login(page, base, "editor")
    page.goto(base + "/compose")
    assert page.get_by_label("Nội dung bản tin").input_value() == "Nội dung đang soạn thì phiên hết hạn."
    assert page.get_by_label("Tiêu đề", exact=True).input_value() == "Bản nháp dở dang"
    assert page.locator("#draft-restored").is_visible()
