"""Fixtures for security tests: a running Controller (managed Mosquitto) in a fresh data dir."""

from __future__ import annotations

import pytest

from tests.support.processes import free_port


@pytest.fixture
def env(tmp_path):
    """Environment for `commune-radio` subprocesses sharing the test's database and ports."""
    from tests.support.controller import fresh_db_url

    return {"COMMUNE_RADIO_TTS_ENGINES": "espeak", "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp_path),
            "COMMUNE_RADIO_BROKER_PORT": str(free_port()), "COMMUNE_RADIO_RUN_SCHEDULER": "false"}


@pytest.fixture
def running(tmp_path, env):
    """Factory: a started Controller (managed broker, bus, dispatcher) on the test's data dir."""
    from controller.config import load
    from controller.runtime import Controller

    started = []

    def start(**overrides):
        settings = load(tmp_path / "data", database_url=env["COMMUNE_RADIO_DATABASE_URL"],
                        broker_port=int(env["COMMUNE_RADIO_BROKER_PORT"]), tts_engines="espeak",
                        run_scheduler=False, **overrides)
        ctl = Controller(settings)
        started.append(ctl)
        return ctl

    yield start
    for ctl in started:
        ctl.stop()
