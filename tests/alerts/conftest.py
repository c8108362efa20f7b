"""A small commune for alert tests: three hamlets, one speaker each, two with polygons."""

from __future__ import annotations

import pytest

from tests.alerts import fixtures as fx
from tests.web.conftest import login, seeded  # noqa: F401 - the UI tests' logged-in clients

ALERTS_CONF = {"commune_geocodes": [fx.PROVINCE_CODE], "repeat_minutes": 30}


@pytest.fixture
def settings(tmp_path):
    """Controller settings with an [alerts] table (offline speech: espeak-ng)."""
    from controller.config import load
    from tests.support.controller import fresh_db_url

    return load(tmp_path / "data", database_url=fresh_db_url(tmp_path), tts_engines="espeak",
                run_scheduler=False, alerts=ALERTS_CONF)


def box_geojson(lat1, lon1, lat2, lon2) -> dict:
    """A GeoJSON polygon (lon, lat) around a box."""
    ring = [[lon1, lat1], [lon2, lat1], [lon2, lat2], [lon1, lat2], [lon1, lat1]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def commune(controller):
    """Hamlet name -> id; Mỹ An and Mỹ Hòa have polygons, Mỹ Thới only a placed speaker."""
    from controller.alerts import hamlet_areas
    from controller.services import registry

    ids = {}
    with controller.db.session() as s:
        for i, (name, (a, b, c, d)) in enumerate(fx.HAMLET_BOXES.items(), start=1):
            spk, _ = registry.add_speaker(s, f"spk-{i}", name, latitude=(a + c) / 2,
                                          longitude=(b + d) / 2)
            ids[name] = spk.hamlet_id
        for name in ("Ấp Mỹ An", "Ấp Mỹ Hòa"):
            hamlet_areas.set_area(s, ids[name], polygon=box_geojson(*fx.HAMLET_BOXES[name]),
                                  geocodes=[], actor="test")
    return ids


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory):
    """One speech cache for the session: the same alert text is synthesized once."""
    return tmp_path_factory.mktemp("tts-cache")


@pytest.fixture
def controller(settings, speech_cache):
    """A Controller without messaging, sharing the session's speech cache."""
    from controller.runtime import Controller

    ctl = Controller(settings)
    ctl.cache_dir = speech_cache
    yield ctl
    ctl.stop()
