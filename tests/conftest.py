"""Shared fixtures: a real Mosquitto per test that asks for one, one Icecast per session."""

from __future__ import annotations

import os

import pytest

from tests.support.broker import TestBroker

pytest_plugins = ["tests.support.db_free"]
# Each controller a test starts (in process or `commune-radio serve`) would warm an emergency
# speech worker: ~3 s per test, minutes over the suite. The render-pool tests start their own.
os.environ.setdefault("COMMUNE_RADIO_RENDER_WARM_UP", "false")


@pytest.fixture
def broker(tmp_path):
    """A running Mosquitto with generated config, password file and ACL."""
    b = TestBroker(tmp_path / "broker").start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def icecast(tmp_path_factory):
    """One real Icecast per test session from the generated config; mounts open to listeners."""
    from tests.support.icecast import TestIcecast

    ice = TestIcecast(tmp_path_factory.mktemp("icecast")).start()
    yield ice
    ice.stop()


@pytest.fixture
def settings(tmp_path):
    """Controller settings in a fresh data directory (offline speech: espeak-ng)."""
    from controller.config import load
    from tests.support.controller import fresh_db_url

    return load(tmp_path / "data", database_url=fresh_db_url(tmp_path), tts_engines="espeak",
                run_scheduler=False, relay_loopback_only=True)


@pytest.fixture
def controller(settings):
    """A Controller with database, keys and store, but no broker or threads."""
    from controller.runtime import Controller

    ctl = Controller(settings)
    yield ctl
    ctl.stop()


@pytest.fixture
def app(controller):
    """The Flask app around the controller."""
    from controller.app import create_app

    app = create_app(controller=controller)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def token_for(controller):
    """Make a user with a role and return a bearer token for it."""
    from controller.services import users

    def make(role: str, name: str | None = None) -> str:
        with controller.db.session() as s:
            users.add_user(s, name or f"{role}-user", role)
            return users.new_token(s, name or f"{role}-user")

    return make


@pytest.fixture(scope="session")
def render_pool():
    """One speech render pool (worker processes) shared by the tests that need one."""
    from controller.render_pool import RenderPool

    pool = RenderPool(workers=1, urgent_workers=1)
    pool.start()
    yield pool
    pool.stop()


@pytest.fixture
def pooled(controller, render_pool):
    """The controller as it runs in `serve`: send-now is stored `rendering`, spoken on the pool."""
    controller.renders = render_pool
    yield controller
    controller.renders = None  # the pool outlives this controller (ctl.stop() would stop it)


@pytest.fixture
def held(render_pool):
    """Hold back what happens after a render (queueing or failing) until `release()`."""
    import threading

    gate = threading.Event()
    render_pool._after.submit(gate.wait, 60)  # the one result thread waits behind this
    yield gate.set
    gate.set()
