"""Shared fixtures: a real Mosquitto per test that asks for one."""

from __future__ import annotations

import pytest

from tests.support.broker import TestBroker


@pytest.fixture
def broker(tmp_path):
    """A running Mosquitto with generated config, password file and ACL."""
    b = TestBroker(tmp_path / "broker").start()
    yield b
    b.stop()
