"""Screenshots of the Kết nối tỉnh page (docs/screenshots/province-*.png), phone and desktop.

Developer tool: `.venv/bin/python tools/province_screenshots.py`. Everything on loopback: a
mock province that is down, a controller with the link on and records waiting past the alarm.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from controller.app import create_app  # noqa: E402
from controller.config import load  # noqa: E402
from controller.models import utcnow  # noqa: E402
from controller.province.client import ProvinceError  # noqa: E402
from controller.province.models import ProvinceRecord  # noqa: E402
from controller.runtime import Controller  # noqa: E402
from controller.server import WebServer, free_web_port  # noqa: E402
from controller.services import registry, users  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: E402
from tests.province.conftest import MAPPING, TOKEN, make_deliveries  # noqa: E402
from tests.support.mock_province import PASSWORD, USERNAME, MockProvinceServer  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    """Set the scene and take the two pictures."""
    province = MockProvinceServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "province.toml").write_text(MAPPING, encoding="utf-8")
        ctl = Controller(load(data, run_scheduler=False, province={
            "enabled": True, "base_url": province.url, "username": USERNAME, "password": PASSWORD,
            "inbound_token": TOKEN, "alarm_after_s": 3600}))
        with ctl.db.session() as s:
            for sid, hamlet in (("spk-a", "Ấp Mỹ An"), ("spk-b", "Ấp Mỹ Hòa")):
                registry.add_speaker(s, sid, hamlet)
            users.add_user(s, "quan-tri", "admin", "mat-khau-dung-8")
        make_deliveries(ctl, 40, Path(tmp))
        ctl.province.sender.run_once()
        province.mock.faults.down = True
        make_deliveries(ctl, 12, Path(tmp))
        with ctl.db.session() as s:
            for rec in s.query(ProvinceRecord).filter(ProvinceRecord.sent_at.is_(None)):
                rec.created_at = utcnow() - timedelta(hours=3)
        with contextlib.suppress(ProvinceError):  # the province is down: the page shows it
            ctl.province.sender.run_once()
        port = free_web_port("127.0.0.1", 8790)
        web = WebServer(create_app(controller=ctl), "127.0.0.1", port)
        web.start()
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page = browser.new_context(viewport=viewport, locale="vi-VN").new_page()
                page.goto(base + "/login")
                page.get_by_label("Tên đăng nhập").fill("quan-tri")
                page.get_by_label("Mật khẩu").fill("mat-khau-dung-8")
                page.get_by_role("button", name="Đăng nhập").click()
                page.wait_for_url(lambda url: "/login" not in url)
                page.goto(base + "/province")
                page.screenshot(path=str(OUT / f"province-{name}.png"), full_page=True)
            browser.close()
        web.stop()
        ctl.stop()
    province.stop()
    print("wrote", OUT / "province-desktop.png", OUT / "province-phone.png")


if __name__ == "__main__":
    main()
