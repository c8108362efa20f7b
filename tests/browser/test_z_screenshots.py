"""Screenshots of each main page, in Vietnamese, at phone and desktop widths.

Named test_z_* so it runs after the workflow tests and the pages have real content; it
also makes its own (a scheduled announcement, a played broadcast, a pending draft).
A test run writes them to test-results/screenshots/ (not tracked), so `make test` leaves
the checkout clean; `make screenshots` points COMMUNE_RADIO_SCREENSHOTS at docs/screenshots/.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, PHONE
from tests.support.processes import wait_for

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / os.environ.get("COMMUNE_RADIO_SCREENSHOTS", "test-results/screenshots")


def compose(page, base, title, text, *, schedule: bool = False):
    page.goto(base + "/compose")
    page.evaluate("localStorage.clear()")
    page.get_by_label("Tiêu đề", exact=True).fill(title)
    page.get_by_label("Nội dung bản tin").fill(text)
    page.get_by_label("Tất cả các ấp").check()
    if schedule:
        fill_schedule(page)
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    page.wait_for_url(re.compile(r"/announcements/\d+"))
    return page.url.split("?")[0]


def fill_schedule(page):
    start = date.today() - timedelta(days=date.today().weekday())  # this Monday
    page.get_by_label("Theo lịch").check()
    page.get_by_label("Mức ưu tiên").select_option("priority")
    page.get_by_label("Lặp lại").select_option("weekly")
    page.get_by_label("Từ ngày").fill(start.strftime("%d/%m/%Y"))  # as the page shows dates
    page.get_by_label("Đến ngày").fill((start + timedelta(days=27)).strftime("%d/%m/%Y"))
    page.get_by_label("Giờ phát trong ngày (ví dụ 06:00, 17:30)").fill("06:00, 17:30")
    for day in ("Thứ Hai", "Thứ Tư", "Thứ Sáu"):
        page.get_by_label(day, exact=True).first.check()


def schedule_relay(page):
    """'VOV1 from 05:30 for 30 minutes every day' (clear of the 06:00 bulletin) on the Tiếp sóng page."""
    form = page.locator("#schedule-relay")
    form.locator("#rs-source").select_option(label="VOV1")
    form.get_by_label("Ấp Mỹ An", exact=True).check()
    form.get_by_label("Từ ngày").fill(date.today().strftime("%d/%m/%Y"))
    form.get_by_label("Giờ phát trong ngày (ví dụ 06:00, 17:30)").fill("05:30")
    page.locator("#schedule-summary").filter(has_text="Hằng ngày lúc 05:30").wait_for()
    form.get_by_role("button", name="Lưu lịch tiếp sóng").click()
    page.locator("#scheduled-relays li[data-relay-schedule]").filter(
        has_text="Tiếp sóng VOV1").wait_for()


@pytest.fixture(scope="module")
def content(browser, system):
    """A scheduled announcement (approved), a played broadcast and a pending draft."""
    base = system["base"]
    ctx = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    editor, approver = ctx.new_page(), browser.new_context(viewport=DESKTOP).new_page()
    from tests.browser.conftest import login

    login(editor, base, "editor")
    login(approver, base, "approver")
    sched = compose(editor, base, "Lịch tiêm chủng định kỳ",
                    "Trạm y tế xã tiêm chủng mở rộng cho trẻ dưới 5 tuổi vào sáng thứ Hai, thứ Tư, thứ Sáu.",
                    schedule=True)
    approver.goto(sched)
    approver.get_by_role("button", name="Duyệt và phát theo yêu cầu").click()
    now = compose(editor, base, "Thông báo họp dân ấp",
                  "UBND xã mời bà con dự họp lúc 19h00 ngày 05/12 tại nhà văn hóa ấp.")
    approver.goto(now)
    approver.get_by_role("button", name="Duyệt và phát theo yêu cầu").click()
    approver.wait_for_url(re.compile(r"/broadcasts/\d+"))
    broadcast_url = approver.url

    def played():
        approver.reload()
        states = [c.get_attribute("data-state") for c in approver.locator("#matrix td.state").all()]
        return states and all(s == "played" for s in states)

    wait_for(played, timeout=180, interval=2, what="broadcast played")
    draft = compose(editor, base, "Cảnh báo triều cường",
                    "Dự báo triều cường cao 1,8 m vào chiều 03/12. Đề nghị bà con gia cố bờ bao.")
    approver.context.close()
    ctx.close()
    return {"broadcast": broadcast_url, "draft": draft}


PAGES = [
    ("login", None, "/login"),
    ("home", "admin", "/"),
    ("compose", "editor", "/compose"),
    ("approvals", "approver", "/approvals"),
    ("announcement", "approver", "{draft}"),
    ("calendar", "viewer", "/calendar"),
    ("sources", "editor", "/sources"),
    ("relays", "approver", "/relays"),
    ("fleet", "admin", "/fleet"),
    ("broadcast", "viewer", "{broadcast}"),
    ("log", "viewer", "/log"),
    ("report", "viewer", "/report"),
    ("users", "admin", "/users"),
    ("audit", "admin", "/audit"),
]


@pytest.mark.parametrize("size_name,viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_screenshots(browser, system, content, size_name, viewport):
    from tests.browser.conftest import login

    OUT.mkdir(parents=True, exist_ok=True)
    base = system["base"]
    pages = {}
    for name, role, path in PAGES:
        if role not in pages:
            ctx = browser.new_context(viewport=viewport, locale="vi-VN", device_scale_factor=1,
                                      is_mobile=size_name == "phone", has_touch=size_name == "phone")
            page = ctx.new_page()
            if role:
                login(page, base, role)
            pages[role] = page
        page = pages[role]
        url = path.format(**content)
        page.goto(url if url.startswith("http") else base + url)
        if name == "compose":
            page.evaluate("localStorage.clear()")
            page.get_by_label("Tiêu đề", exact=True).fill("Thông báo nộp thuế")
            page.get_by_label("Nội dung bản tin").fill(
                "UBND xã thông báo: hạn nộp thuế sử dụng đất phi nông nghiệp là 31/12/2026. "
                "Mức phí 7.500 đồng/m2.")
            page.locator("#spoken-preview").filter(has_text="ủy ban nhân dân").wait_for()
            page.get_by_label("Ấp Mỹ An", exact=True).check()
            fill_schedule(page)
            page.locator("#schedule-summary").filter(has_text="hằng tuần").wait_for()
        if name == "sources" and "data-source=" not in page.content():
            # A station off the air (nothing listens on port 9): saved with "Vẫn lưu".
            page.get_by_label("Tên đài").fill("VOV1")
            page.get_by_label("Địa chỉ luồng (MP3, AAC, Opus hoặc HLS .m3u8)").fill(
                "http://127.0.0.1:9/vov1.mp3")
            page.get_by_label("Vẫn lưu (đài đang tạm ngừng phát)").check()
            page.get_by_role("button", name="Kiểm tra và lưu").click()
            page.wait_for_url(re.compile(r"/sources$"))
        if name == "relays" and "data-relay-schedule=" not in page.content():
            schedule_relay(page)
        page.wait_for_load_state("networkidle")
        assert "lang=\"vi\"" in page.content()
        page.screenshot(path=str(OUT / f"{name}-{size_name}.png"), full_page=True)
    for page in pages.values():
        page.context.close()
