"""A real system for browser tests: `commune-radio serve`, two speaker agents with file sinks,
one user per role, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import pytest

from tests.support.processes import BIN, Api, Proc, cli, free_port, wait_for

CHROMIUM = "/usr/lib/chromium/chromium"  # /usr/bin/chromium is a wrapper script
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--lang=vi-VN"]  # date inputs follow the browser's UI language (dd/mm/yyyy)
PASSWORD = "mat-khau-thu-nghiem"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SPEAKERS = {"spk-my-an": ("Ấp Mỹ An", 10.402, 105.421, "Loa chợ Mỹ An"),
            "spk-my-phu": ("Ấp Mỹ Phú", 10.385, 105.447, "Loa trường Mỹ Phú")}


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    """Data dir with two speakers and four users; a running controller and two agents."""
    from tests.support.controller import fresh_db_url

    tmp = tmp_path_factory.mktemp("browser")
    data = tmp / "data"
    env = {"COMMUNE_RADIO_TTS_ENGINES": "espeak", "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp),
           "COMMUNE_RADIO_BROKER_PORT": str(free_port())}
    for sid, (hamlet, _lat, _lon, _name) in SPEAKERS.items():
        cli(data, "speaker", "add", sid, "--hamlet", hamlet, "--out", str(tmp / f"{sid}.toml"),
            "--player", "file", "--agent-data", str(tmp / "agents" / sid),
            "--sink-dir", str(tmp / "sink" / sid), env=env)
    for role in ("admin", "editor", "approver", "viewer"):
        cli(data, "user", "add", role, "--role", role, "--password", PASSWORD, env=env)
    _place_speakers(env["COMMUNE_RADIO_DATABASE_URL"])
    port = free_port()
    ctl = Proc([str(BIN / "commune-radio"), "serve", "--data", str(data), "--port", str(port)],
               tmp / "logs" / "controller.log", env).start()
    base = f"http://127.0.0.1:{port}"
    wait_for(Api(base).up, what="controller web")
    agents = [Proc([str(BIN / "speaker-agent"), "--config", str(tmp / f"{sid}.toml")],
                   tmp / "logs" / f"{sid}.log").start() for sid in SPEAKERS]
    yield {"base": base, "tmp": tmp, "ctl": ctl}
    for a in agents:
        a.stop()
    ctl.stop()


def _place_speakers(url: str) -> None:
    """Coordinates for the schematic map (the CLI does not take them)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as c:
        for sid, (_h, lat, lon, name) in SPEAKERS.items():
            c.execute(sa.text("UPDATE speakers SET latitude=:a, longitude=:o, name=:n WHERE id=:i"),
                      {"a": lat, "o": lon, "n": name, "i": sid})
    engine.dispose()


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver per session (the sync API allows only one at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's Chromium, headless."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def as_role(browser, system):
    """as_role(role, viewport=DESKTOP) -> a logged-in page in its own browser context."""
    contexts = []

    def make(role: str, viewport: dict = DESKTOP):
        ctx = browser.new_context(viewport=viewport, locale="vi-VN", accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        login(page, system["base"], role)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def login(page, base: str, role: str) -> None:
    """Log in through the form."""
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill(role)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)
