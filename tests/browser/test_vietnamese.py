"""A clerk's Vietnamese on every page, in a Chromium whose own language is English: dates typed
and shown as dd/mm/yyyy, what an approver approves (hamlets, priority, times), the schedule
approval message, the calendar's hamlets and its "add" button, the audit trail as sentences,
voice names in the log filter, and the report's decimal comma."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def english_browser(playwright):
    """Chromium with an English UI language (its native date picker would show mm/dd/yyyy)."""
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--lang=")] + ["--lang=en-US"]
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield b
    b.close()


def page_for(browser, base, role):
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = ctx.new_page()
    login(page, base, role)
    return page


def test_pages_speak_vietnamese_in_an_english_browser(english_browser, system):
    base = system["base"]
    editor, approver = page_for(english_browser, base, "editor"), page_for(english_browser, base, "approver")
    assert editor.evaluate("navigator.language") == "en-US"

    # the calendar offers to add a schedule; it opens the compose page with the schedule shown
    editor.goto(base + "/calendar")
    editor.get_by_role("link", name="Thêm lịch phát").click()
    editor.wait_for_url(re.compile(r"/compose\?when=schedule"))
    assert editor.get_by_label("Theo lịch").is_checked()
    editor.evaluate("localStorage.clear()")
    editor.get_by_label("Tiêu đề", exact=True).fill("Họp dân định kỳ")
    editor.get_by_label("Nội dung bản tin").fill("Mời bà con dự họp dân định kỳ tại nhà văn hóa ấp.")
    editor.get_by_label("Ấp Mỹ Phú", exact=True).check()
    editor.get_by_label("Mức ưu tiên").select_option("priority")
    editor.get_by_label("Lặp lại").select_option("daily")
    start = date.today() + timedelta(days=1)
    typed = start.strftime("%d/%m/%Y")
    editor.get_by_label("Từ ngày").fill(typed)
    editor.get_by_label("Đến ngày").fill((start + timedelta(days=6)).strftime("%d/%m/%Y"))
    assert editor.get_by_label("Từ ngày").input_value() == typed  # shown as typed: dd/mm/yyyy
    assert editor.get_by_label("Từ ngày").get_attribute("placeholder") == "dd/mm/yyyy"
    editor.get_by_label("Giờ phát trong ngày (ví dụ 06:00, 17:30)").fill("06:15")
    editor.get_by_role("button", name="Lưu và gửi duyệt").click()
    editor.wait_for_url(re.compile(r"/announcements/\d+"))
    url = editor.url.split("?")[0]

    # before approving, the approver sees where, how urgent and when
    approver.goto(url)
    request = approver.locator("#requests li").first
    assert "Cho Ấp Mỹ Phú" in request.inner_text()
    assert "Ưu tiên" in request.inner_text()
    assert "06:15" in request.inner_text() and start.strftime("%d/%m") in request.inner_text()
    approver.get_by_role("button", name="Duyệt và phát theo yêu cầu").click()
    approver.locator(".flash.ok").filter(has_text="Đã duyệt lịch phát.").wait_for()
    assert "Đã duyệt lịch phát" in approver.locator("#requests li").first.inner_text()
    assert "Đã thực hiện" not in approver.locator("#requests").inner_text()

    # the calendar entry says which hamlets it reaches
    approver.goto(base + f"/calendar?start={start.isoformat()}")
    entry = approver.locator("li.occ").filter(has_text="Họp dân định kỳ").first
    assert "Ấp Mỹ Phú" in entry.inner_text()

    # the audit trail reads as sentences
    approver.goto(base + "/audit")
    sentences = approver.locator("#audit td.sentence").all_inner_texts()
    assert "approver đã duyệt bản tin 'Họp dân định kỳ' cho Ấp Mỹ Phú." in sentences
    assert "editor đã gửi duyệt bản tin 'Họp dân định kỳ' cho Ấp Mỹ Phú." in sentences
    assert "Duyệt bản tin" in approver.locator("#action").inner_text()
    assert not any(re.search(r"\w+_\w+|=", s) for s in sentences), sentences

    # voice names in the log filter; dates in the report's filter and its decimal comma
    approver.goto(base + "/log")
    voices = approver.locator("#engine option").all_inner_texts()
    assert {"Giọng Google (trực tuyến)", "Giọng máy (ngoại tuyến)", "Tệp tải lên"} <= set(voices)
    approver.goto(base + "/report")
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", approver.get_by_label("Từ ngày").input_value())
    assert re.search(r"\d+,\d %", approver.locator("#rep-played").inner_text())
    first_of_month = date.today().replace(day=1).strftime("%d/%m/%Y")
    approver.get_by_label("Từ ngày").fill(first_of_month)
    approver.get_by_role("button", name="Xem").click()
    assert approver.get_by_label("Từ ngày").input_value() == first_of_month
    editor.context.close()
    approver.context.close()
