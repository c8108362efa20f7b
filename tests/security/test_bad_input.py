"""Hostile input that crashed views is a 400 naming the problem: deep JSON and extreme dates."""

from __future__ import annotations

import pytest

from tests.security.test_web_hardening import login

DEEP = "[" * 100_000 + "]" * 100_000  # Python's json raises RecursionError, not ValueError
EXTREME_DATES = ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                 "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]


def _json_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route that may take a JSON body, ids filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule.endswith(".json")):
            continue
        path = rule.rule.replace("<int:", "<").replace("<sha256>", "0" * 64)
        while "<" in path:
            path = path[:path.index("<")] + "1" + path[path.index(">") + 1:]
        out += [(m, path) for m in sorted(rule.methods & {"POST", "PUT", "PATCH"})]
    return out


def test_deeply_nested_json_is_a_400_on_every_json_endpoint(app, controller, token_for):
    app.config.update(TESTING=False)  # a crash answers 500, as in production
    web = login(app, controller, "admin")
    auth = {"Authorization": f"Bearer {token_for('admin', 'api-admin')}"}
    routes = _json_routes(app)
    assert len(routes) >= 10
    for method, path in routes:
        r = web.open(path, method=method, data=DEEP, content_type="application/json", headers=auth)
        if r.status_code == 400 and "nested too deeply" in r.get_data(as_text=True):
            continue
        # Only a route that fails before reading the body (an unknown id) may answer otherwise.
        same = web.open(path, method=method, json={}, headers=auth)
        assert r.status_code < 500 and r.status_code == same.status_code != 400, (
            method, path, r.status_code, r.get_data(as_text=True)[:200])


@pytest.mark.parametrize("when", EXTREME_DATES)
def test_agenda_with_an_extreme_date_is_a_400_naming_the_field(app, token_for, when):
    app.config.update(TESTING=False)
    auth = {"Authorization": f"Bearer {token_for('viewer', 'api-viewer')}"}
    for name in ("from", "to"):
        r = app.test_client().get("/api/v1/agenda", query_string={name: when}, headers=auth)
        assert r.status_code == 400, (name, when, r.get_data(as_text=True)[:300])
        assert r.get_json()["field"] == name and name in r.get_json()["message"]


def test_calendar_page_with_an_extreme_week_shows_this_week(app, controller):
    app.config.update(TESTING=False)
    web = login(app, controller, "viewer")
    for when in ("9999-12-31", "0001-01-01"):
        assert web.get(f"/calendar?start={when}").status_code == 200
