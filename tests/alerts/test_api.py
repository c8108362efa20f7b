"""POST/GET /api/v1/alerts as an authority's system and a log reviewer see them."""

from __future__ import annotations

import sqlalchemy as sa

from controller.alerts.models import AlertRecord
from controller.models import Announcement, Broadcast, utcnow
from tests.alerts import fixtures as fx

CAP = {"Content-Type": "application/cap+xml"}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_an_alert_source_posts_a_flood_warning_and_the_log_shows_it(client, commune, token_for):
    source = token_for("alert-source", "kttv")
    r = client.post("/api/v1/alerts", data=fx.flood(utcnow()), headers={**auth(source), **CAP})
    assert r.status_code == 201, r.get_json()
    posted = r.get_json()
    assert posted["action"] == "emergency" and posted["source"] == "api:kttv"
    assert len(posted["broadcast_ids"]) == 1
    viewer = token_for("viewer")
    listed = client.get("/api/v1/alerts", headers=auth(viewer)).get_json()["alerts"]
    assert [a["id"] for a in listed] == [posted["id"]]
    one = client.get(f"/api/v1/alerts/{posted['id']}", headers=auth(viewer)).get_json()
    assert {h["name"] for h in one["matched_hamlets"]} == {"Ấp Mỹ An", "Ấp Mỹ Hòa"}
    assert client.get("/api/v1/alerts/999999", headers=auth(viewer)).status_code == 404


def test_the_alert_source_role_can_do_nothing_else(client, commune, token_for):
    source = token_for("alert-source", "kttv")
    assert client.get("/api/v1/alerts", headers=auth(source)).status_code == 403
    assert client.get("/api/v1/broadcasts", headers=auth(source)).status_code == 403
    r = client.post("/api/v1/broadcasts", json={"text": "x", "targets": {"all": True}},
                    headers=auth(source))
    assert r.status_code == 403
    viewer = token_for("viewer")
    assert client.post("/api/v1/alerts", data=fx.flood(utcnow()),
                       headers={**auth(viewer), **CAP}).status_code == 403


def test_bad_bodies_are_refused_and_logged_and_nothing_airs(client, controller, commune, token_for):
    source = token_for("alert-source", "kttv")
    r = client.post("/api/v1/alerts", data=b"<alert><oops", headers={**auth(source), **CAP})
    assert r.status_code == 422 and "malformed" in r.get_json()["reason"]
    big = b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>"
    r = client.post("/api/v1/alerts", data=big, headers={**auth(source), **CAP})
    assert r.status_code == 413 and "limit" in r.get_json()["message"]
    with controller.db.session() as s:
        actions = list(s.scalars(sa.select(AlertRecord.action).order_by(AlertRecord.id)))
        assert actions == ["refused", "refused"]
        assert s.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0
