"""The controller behind Caddy with its internal CA (`tls internal`), as deploy/Caddyfile runs
it: staff log in over HTTPS in Chromium, and a speaker agent that trusts only that CA plays a
broadcast whose audio it fetched over HTTPS with certificate verification on."""

from __future__ import annotations

import json
import shutil
import ssl
import urllib.request

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support.caddy import TestCaddy
from tests.support.processes import BIN, Proc, cli, free_port, wait_for

pytestmark = [pytest.mark.process, pytest.mark.browser,
              pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")]
PASSWORD = "mat-khau-https-1"


def _api(ctx, base, token, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=60) as r:  # noqa: S310 - loopback
        return r.status, json.loads(r.read())


def test_login_and_a_broadcast_over_https_with_verification(tmp_path, playwright):
    from tests.support.controller import fresh_db_url

    web_port = free_port()
    caddy = TestCaddy(tmp_path / "caddy", web_port)
    env = {"COMMUNE_RADIO_TTS_ENGINES": "espeak", "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp_path),
           "COMMUNE_RADIO_BROKER_PORT": str(free_port()), "COMMUNE_RADIO_PUBLIC_URL": caddy.base,
           "COMMUNE_RADIO_COOKIE_SECURE": "true", "COMMUNE_RADIO_TRUSTED_PROXIES": "1"}
    data = tmp_path / "data"
    agent_cfg = tmp_path / "agent.toml"
    cli(data, "speaker", "add", "ap-1", "--hamlet", "Ấp 1", "--out", str(agent_cfg), "--player", "file",
        "--agent-data", str(tmp_path / "agent"), "--sink-dir", str(tmp_path / "sink"), env=env)
    cli(data, "user", "add", "chu-tich", "--role", "admin", "--password", PASSWORD, env=env)
    token = cli(data, "user", "token", "chu-tich", env=env).strip().splitlines()[-1]
    ctl = Proc([str(BIN / "commune-radio"), "serve", "--data", str(data), "--port", str(web_port)],
               tmp_path / "controller.log", env).start()
    agent = Proc([str(BIN / "speaker-agent"), "--config", str(agent_cfg)], tmp_path / "agent.log")
    try:
        caddy.start()
        agent_cfg.write_text(agent_cfg.read_text() + f'\n[http]\nca_file = "{caddy.root_ca}"\n')
        tls = ssl.create_default_context(cafile=str(caddy.root_ca))

        def up():
            try:
                return _api(tls, caddy.base, token, "GET", "/api/v1/speakers")[0] == 200
            except OSError:
                return False

        wait_for(up, timeout=90, what="the controller through Caddy")
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(caddy.base + "/healthz", timeout=10)  # noqa: S310 - no trust, no entry

        agent.start()
        wait_for(lambda: _api(tls, caddy.base, token, "GET", "/api/v1/speakers")[1]["speakers"][0]["online"],
                 what="the agent online")
        status, body = _api(tls, caddy.base, token, "POST", "/api/v1/broadcasts",
                            {"text": "Thông báo qua HTTPS.", "targets": {"all": True}})
        assert status == 201, body

        def played():
            b = _api(tls, caddy.base, token, "GET", f"/api/v1/broadcasts/{body['id']}")[1]
            return b if b["deliveries"][0]["state"] == "played" else None

        b = wait_for(played, timeout=120, what="played through HTTPS")
        assert (tmp_path / "sink" / f"{b['deliveries'][0]['command_id']}.wav").exists()

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # The browser does not know Caddy's private CA; the agent above verified it.
            page = browser.new_context(ignore_https_errors=True, locale="vi-VN").new_page()
            page.goto(caddy.base + "/login")
            page.get_by_label("Tên đăng nhập").fill("chu-tich")
            page.get_by_label("Mật khẩu").fill(PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url(lambda url: "/login" not in url)
            assert page.url.startswith(caddy.base)
            cookies = page.context.cookies()
            assert cookies and all(c["secure"] for c in cookies), cookies
        finally:
            browser.close()
    finally:
        agent.stop()
        ctl.stop()
        caddy.stop()
