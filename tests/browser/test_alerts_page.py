"""The 'Cảnh báo' page in a real Chromium, with warnings posted by an alert source; screenshots.

Nothing here airs (a storm warning becomes a draft by the default policy, the rest is a test,
an English-only warning and a refused document), so the other browser tests' broadcasts
are not disturbed.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from controller.models import utcnow
from tests.alerts import fixtures as fx
from tests.browser.conftest import DESKTOP, PHONE
from tests.support.processes import cli

pytestmark = pytest.mark.browser
# Like test_z_screenshots: test-results/ during a test run (the checkout stays clean);
# `make screenshots` points COMMUNE_RADIO_SCREENSHOTS at docs/screenshots.
OUT = Path(__file__).resolve().parents[2] / os.environ.get("COMMUNE_RADIO_SCREENSHOTS",
                                                           "test-results/screenshots")
MY_AN = "10.39,105.41 10.39,105.43 10.41,105.43 10.41,105.41 10.39,105.41"  # around Loa chợ Mỹ An


def post(base: str, token: str, doc: bytes) -> int:
    req = urllib.request.Request(base + "/api/v1/alerts", data=doc, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/cap+xml"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:  # noqa: S310 - loopback
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module")
def warnings(system):
    """Four warnings of different fates, posted by the authority's account."""
    from tests.support.controller import PG_ENV

    tmp = system["tmp"]
    # The system's database, as its fixture chose it (fresh_db_url again would empty it).
    env = {"COMMUNE_RADIO_DATABASE_URL": os.environ.get(PG_ENV) or f"sqlite:///{tmp / 'controller.db'}"}
    cli(tmp / "data", "user", "add", "kttv-an-giang", "--role", "alert-source", env=env)
    token = cli(tmp / "data", "user", "token", "kttv-an-giang", env=env).strip().splitlines()[-1]
    now = utcnow()
    area = f"<area><areaDesc>Ấp Mỹ An, ven sông Hậu</areaDesc><polygon>{MY_AN}</polygon></area>"
    storm = fx.alert(identifier="AG-BAO-2026-09", sent=now, infos=fx.info(
        event="Bão", headline="Tin bão khẩn cấp cơn bão số 9", urgency="Expected",
        description="Bão số 9 đang hướng vào các tỉnh Nam Bộ.", instruction="Chằng chống nhà cửa.",
        expires=now + timedelta(hours=12), areas=area))
    drill = fx.flood(now, identifier="AG-TEST-01").replace(b"<status>Actual", b"<status>Test")
    english = fx.alert(identifier="AG-EN-03", sent=now, infos=fx.info(
        language="en-US", headline="Flash flood warning", description="River rising fast.",
        instruction="Move to higher ground.", expires=now + timedelta(hours=2), areas=area))
    statuses = [post(system["base"], token, d) for d in (storm, drill, english, b"<html></html>")]
    assert statuses == [201, 201, 201, 422]


@pytest.mark.parametrize("size_name,viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_the_warnings_page_shows_each_fate_in_vietnamese(as_role, warnings, size_name, viewport):
    page = as_role("viewer", viewport)
    page.get_by_role("link", name="Cảnh báo", exact=True).first.click()
    page.get_by_role("heading", name="Cảnh báo đã nhận").wait_for()
    table = page.locator("#alerts")
    assert "Tin bão khẩn cấp cơn bão số 9" in table.inner_text()
    assert table.locator("tr[data-action='draft']").count() == 2
    assert table.locator("tr[data-action='test']").count() == 1
    assert table.locator("tr[data-action='refused']").count() == 1
    assert "Ấp Mỹ An" in table.locator("tr[data-identifier='AG-BAO-2026-09']").inner_text()
    assert page.locator("#policy td.alert-emergency").count() == 2
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"alerts-{size_name}.png"), full_page=True)
