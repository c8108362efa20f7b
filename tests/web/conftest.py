"""Fixtures for the web UI tests: users per role logged in through the real login form."""

from __future__ import annotations

import re

import pytest

PASSWORD = "mat-khau-dai-1"


class FakeBus:
    """Stands in for the MQTT adapter in UI tests: records published commands (no broker)."""

    def __init__(self):
        import threading

        self.connected = threading.Event()
        self.connected.set()
        self.published = []

    def publish_command(self, cmd, expiry_s):
        """Record a command as the real bus would publish it."""
        self.published.append((cmd, expiry_s))
        return len(self.published)


@pytest.fixture
def seeded(controller):
    """Two hamlets with speakers (with coordinates) and one user per role."""
    from controller.services import registry, users

    with controller.db.session() as s:
        for sid, hamlet, lat, lon in (("spk-a", "Ấp Mỹ An", 10.40, 105.42),
                                      ("spk-b", "Ấp Mỹ An", 10.41, 105.43),
                                      ("spk-c", "Ấp Mỹ Phú", 10.38, 105.45)):
            registry.add_speaker(s, sid, hamlet, name=f"Loa {sid[-1].upper()}", latitude=lat, longitude=lon)
        for role in ("admin", "editor", "approver", "viewer"):
            users.add_user(s, role, role, PASSWORD)
    return controller


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def form_token_of(html: str) -> str:
    """The first one-time form token in a rendered page."""
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def login(app, seeded):
    """login(role) -> a test client with a session for that role's user."""

    def make(role: str):
        c = app.test_client()
        page = c.get("/login").get_data(as_text=True)
        r = c.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": csrf_of(page)})
        assert r.status_code == 302, r.get_data(as_text=True)
        return c

    return make


@pytest.fixture
def fake_bus(controller):
    """Attach a recording bus to the controller (volume/stop commands go there)."""
    bus = FakeBus()
    controller.bus = bus
    yield bus
    controller.bus = None
