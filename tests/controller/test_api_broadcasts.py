"""The /api/v1 broadcast endpoints: what an API client sees, including every kind of bad input."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from controller.models import Announcement, Broadcast, Delivery, DeliveryEvent
from controller.services import registry

TEXT = "UBND xã thông báo: họp dân tại nhà văn hóa ấp lúc 7h30 ngày 02/12."


@pytest.fixture
def fleet(controller):
    """Three speakers in two hamlets."""
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp Mỹ An")
        registry.add_speaker(s, "spk-2", "Ấp Mỹ An")
        registry.add_speaker(s, "spk-3", "Ấp Mỹ Hòa")


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def counts(controller):
    with controller.db.session() as s:
        return tuple(s.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (Announcement, Broadcast, Delivery, DeliveryEvent))


def test_send_to_a_hamlet_writes_one_queued_delivery_per_speaker(client, controller, fleet,
                                                                  token_for):
    tok = token_for("admin")
    r = client.post("/api/v1/broadcasts", json={"text": TEXT, "targets": {"hamlets": ["Ấp Mỹ An"]}},
                    headers=auth(tok))
    assert r.status_code == 201, r.json
    detail = client.get(f"/api/v1/broadcasts/{r.json['id']}", headers=auth(tok)).json
    assert [d["speaker_id"] for d in detail["deliveries"]] == ["spk-1", "spk-2"]
    assert all(d["state"] == "queued" for d in detail["deliveries"])
    assert detail["deliveries"][0]["events"][0]["event"] == "queued"
    assert detail["engine"] == "espeak"
    assert detail["duration_ms"] > 1000
    # The normalizer ran before the engine: no raw digits or abbreviations are spoken.
    assert "UBND" not in detail["spoken_text"] and "7h30" not in detail["spoken_text"]


def test_speakers_list_shows_hamlet_and_presence(client, fleet, token_for):
    r = client.get("/api/v1/speakers", headers=auth(token_for("viewer")))
    assert r.status_code == 200
    assert {(x["id"], x["hamlet"], x["online"]) for x in r.json["speakers"]} == {
        ("spk-1", "Ấp Mỹ An", False), ("spk-2", "Ấp Mỹ An", False), ("spk-3", "Ấp Mỹ Hòa", False)}


@pytest.mark.parametrize("body,status,words", [
    ({"text": "   ", "targets": {"all": True}}, 400, "empty"),
    ({"text": "", "targets": {"all": True}}, 400, "empty"),
    ({"text": "x" * 5001, "targets": {"all": True}}, 400, "maximum is 5000"),
    ({"text": TEXT, "targets": {"hamlets": ["Ấp Không Có"]}}, 404, "unknown hamlet"),
    ({"text": TEXT, "targets": {"speakers": ["spk-9"]}}, 404, "unknown speaker"),
    ({"text": TEXT, "targets": {"speakers": []}}, 400, "no speaker"),
    ({"text": TEXT, "targets": {}}, 400, "targets"),
    ({"targets": {"all": True}}, 400, "missing field 'text'"),
    ({"text": TEXT}, 400, "missing field 'targets'"),
    ({"text": 42, "targets": {"all": True}}, 400, "must be a string"),
    ({"text": TEXT, "targets": {"all": True}, "priority": "urgent"}, 400, "priority"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(client, controller, fleet,
                                                                   token_for, body, status, words):
    tok = token_for("admin")
    before = counts(controller)
    r = client.post("/api/v1/broadcasts", json=body, headers=auth(tok))
    assert r.status_code == status
    assert words in r.json["message"]
    assert counts(controller) == before


def test_malformed_json_is_refused(client, controller, fleet, token_for):
    before = counts(controller)
    r = client.post("/api/v1/broadcasts", data=b'{"text": "a", "targets":',
                    headers={**auth(token_for("admin")), "Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json["message"]
    assert counts(controller) == before


def test_empty_fleet_resolves_to_no_speaker(client, controller, token_for):
    r = client.post("/api/v1/broadcasts", json={"text": TEXT, "targets": {"all": True}},
                    headers=auth(token_for("admin")))
    assert r.status_code == 400 and "no speaker" in r.json["message"]


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer ", "Basic abc", None])
def test_wrong_token_is_refused(client, fleet, header):
    headers = {"Authorization": header} if header else {}
    r = client.post("/api/v1/broadcasts", json={"text": TEXT, "targets": {"all": True}},
                    headers=headers)
    assert r.status_code == 401 and "token" in r.json["message"]
    assert client.get("/api/v1/speakers", headers=headers).status_code == 401


def test_a_viewer_cannot_send(client, fleet, token_for):
    r = client.post("/api/v1/broadcasts", json={"text": TEXT, "targets": {"all": True}},
                    headers=auth(token_for("viewer")))
    assert r.status_code == 403


def test_unknown_broadcast_is_404(client, token_for):
    r = client.get("/api/v1/broadcasts/999", headers=auth(token_for("viewer")))
    assert r.status_code == 404 and "unknown broadcast" in r.json["message"]


def test_openapi_document_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule), m.lower())
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
              and not r.rule.endswith("openapi.json")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented


@pytest.mark.parametrize("bid", ["2147483648", "9223372036854775808", "99999999999999999999999"])
def test_ids_beyond_the_integer_column_are_404_not_a_crash(client, token_for, bid):
    # PostgreSQL's INTEGER overflows past 2**31-1; found by schemathesis in the PostgreSQL run.
    r = client.get(f"/api/v1/broadcasts/{bid}", headers=auth(token_for("viewer")))
    assert r.status_code == 404
