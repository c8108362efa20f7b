"""Pages that follow what happens: the delivery matrix updates itself until every delivery has
ended, then stops asking; every page has a tab icon (no 404 in the log)."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_z_screenshots import compose

pytestmark = pytest.mark.browser


def test_delivery_matrix_updates_until_every_delivery_ended(as_role, system):
    base = system["base"]
    editor, approver = as_role("editor"), as_role("approver")
    missing = []
    approver.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    url = compose(editor, base, "Thông báo thử trang trực tiếp", "Loa ấp thử phát một thông báo ngắn.")
    approver.goto(url)
    approver.get_by_role("button", name="Duyệt và phát theo yêu cầu").click()
    approver.wait_for_url(re.compile(r"/broadcasts/\d+"))
    first = [c.get_attribute("data-state") for c in approver.locator("#matrix td.state").all()]
    assert first and not all(s == "played" for s in first), "the page opened after the speakers played"
    approver.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    polls = []
    approver.on("request", lambda r: polls.append(r.url) if r.url.endswith(".json") else None)

    approver.locator("#matrix-status").filter(has_text="Mọi lượt phát đã kết thúc.").wait_for(timeout=180_000)
    assert approver.evaluate("window.__marker") == 1
    states = [c.get_attribute("data-state") for c in approver.locator("#matrix td.state").all()]
    assert states == ["played"] * len(first)
    assert approver.locator("#matrix td.state").first.inner_text() == "Đã phát"
    assert approver.locator("#matrix thead").inner_text().count("Đã phát") == 1  # the column
    # a played cell shows its time
    assert re.search(r"\d\d:\d\d:\d\d", approver.locator("#matrix tbody tr").first.inner_text())
    assert polls, "the page asked for the matrix while the speakers were working"
    seen = len(polls)
    approver.wait_for_timeout(7_000)  # more than two polling intervals
    assert len(polls) == seen, "the page kept polling after every delivery ended"

    approver.reload()  # an ended broadcast does not poll at all
    assert approver.locator("#matrix").get_attribute("data-ended") == "true"
    assert approver.locator("#matrix-status").inner_text().startswith("Mọi lượt phát đã kết thúc.")
    assert approver.locator("link[rel=icon]").count() == 1
    assert approver.request.get(base + "/favicon.ico").status == 200
    assert not missing, f"404 while using the pages: {missing}"
