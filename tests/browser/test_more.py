"""More of the page in Chromium: recording with MediaRecorder, fleet polling, print layout,
labels on every field, keyboard use."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mic_browser(playwright):
    """Chromium with a fake microphone (a beep) that needs no permission prompt."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    yield b
    b.close()


def test_recording_in_the_browser_becomes_a_draft(mic_browser, system):
    base = system["base"]
    ctx = mic_browser.new_context(viewport=DESKTOP, locale="vi-VN", permissions=["microphone"])
    page = ctx.new_page()
    login(page, base, "editor")
    page.goto(base + "/compose")
    page.evaluate("localStorage.clear()")
    page.get_by_label("Tiêu đề", exact=True).fill("Bản thu âm thử")
    page.get_by_label("Thu âm bằng micro").check()
    page.get_by_role("button", name="Thu âm").click()
    page.wait_for_timeout(2500)  # record a couple of seconds of the fake microphone
    page.get_by_role("button", name="Dừng").click()
    page.locator("#rec-audio").wait_for(state="visible")
    assert page.evaluate("document.getElementById('audio_file').files.length") == 1
    page.get_by_label("Tất cả các ấp").check()
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    page.wait_for_url(re.compile(r"/announcements/\d+"))
    assert page.locator("#ann-status").inner_text() == "Bản nháp"
    assert page.locator("audio[src*='/media/']").count() == 1
    ctx.close()


def test_fleet_page_polls_without_reload(as_role, system):
    page = as_role("viewer")
    page.goto(system["base"] + "/fleet")
    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    page.locator("#fleet-updated").filter(has_text=re.compile(r"\d\d:\d\d:\d\d")).wait_for(timeout=30_000)
    assert page.evaluate("window.__marker") == 1
    assert page.locator("tr[data-speaker] td.presence").first.inner_text() in ("Trực tuyến", "Mất kết nối")


def test_report_prints_without_navigation(as_role, system, tmp_path):
    page = as_role("viewer")
    page.goto(system["base"] + "/report")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.get_by_role("button", name="In hoặc lưu PDF").is_visible()
    title = "Báo cáo kết quả phát thanh của hệ thống truyền thanh xã"
    assert page.get_by_role("heading", name=title).is_visible()
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("path", ["/compose", "/log", "/users", "/fleet", "/report", "/log/streams"])
def test_every_field_has_a_label(as_role, system, path):
    page = as_role("admin")
    page.goto(system["base"] + path)
    unlabeled = page.evaluate("""() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')).filter(el =>
        !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name || el.id)""")
    assert unlabeled == []


def test_keyboard_reaches_the_form_and_sends_it(as_role, system):
    page = as_role("editor")
    page.goto(system["base"] + "/compose")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.get_by_label("Tiêu đề", exact=True).focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "source"
