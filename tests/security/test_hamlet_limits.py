"""Users limited to hamlets: every route in app.url_map, tried with another hamlet's ids by a
limited user of each role, answers 403 or 404, or shows nothing of that hamlet; and the same
users work normally in their own hamlet. New routes are walked automatically.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import url_for
from werkzeug.routing import IntegerConverter

from controller.models import AuditEvent, Broadcast, Schedule, User
from controller.relay_models import StreamSource
from controller.services import approvals, broadcasts, registry, relays, users
from controller.services.errors import ServiceError
from controller.web_models import BroadcastRequest
from schedules import manage
from tests.schedules.conftest import make_announcement

PASSWORD = "mat-khau-dung-8"
ROLES = ("editor", "approver", "viewer")
PUBLIC = {"ui.login", "ui.logout", "ui.set_language", "ui.static", "ui.favicon", "api.openapi"}
# Machine endpoints, not for people: /metrics answers only its token or loopback (the proxy
# refuses it from outside), /healthz says up or not; Icecast's callback checks tokens.
MACHINE = {"ops.metrics", "ops.healthz", "icecast_auth.listener"}
# What must never show to a user limited to Ấp 3 (JSON escapes non-ASCII, so both forms).
OTHER = ("spk-1", "Tin ấp một", "Ấp 1")


def _tomorrow(controller) -> str:
    tz = ZoneInfo(controller.settings.timezone)
    return (datetime.now(tz) + timedelta(days=1)).date().isoformat()


@pytest.fixture
def world(app, controller):
    """Ấp 1 (spk-1) with an announcement, broadcast, schedule and pending request; Ấp 3
    (spk-3) with its own; and per role a user limited to Ấp 3, logged in, with a token."""
    app.config.update(WTF_CSRF_ENABLED=False)
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp 1")
        registry.add_speaker(s, "spk-3", "Ấp 3")
        admin, _ = users.add_user(s, "quan-tri", "admin", PASSWORD)
        ap3 = registry.list_hamlets(s)[1].id
    ids = {}
    for place, hamlet, title in (("other", "Ấp 1", "Tin ấp một"), ("own", "Ấp 3", "Tin ấp ba")):
        ann = make_announcement(controller, title=title)
        with controller.db.session() as s:
            from controller.models import Announcement

            b = broadcasts.create(s, announcement=s.get(Announcement, ann), priority="normal",
                                  speakers=registry.resolve_targets(s, {"hamlets": [hamlet]}),
                                  user=s.merge(admin))
            approvals.add_request(s, s.get(Announcement, ann), s.merge(admin),
                                  targets={"hamlets": [hamlet]}, priority="normal", when="now")
            sha = s.get(Announcement, ann).audio_sha256
            bid = b.id
        body = {"announcement_id": ann, "targets": {"hamlets": [hamlet]}, "kind": "daily",
                "start_date": _tomorrow(controller), "times": ["06:00"]}
        sid, _ = manage.create(controller, body, admin, datetime.now(ZoneInfo("UTC")))
        ids[place] = {"announcement_id": ann, "broadcast_id": bid, "schedule_id": sid, "sha256": sha}
        # A relay on air and a daily relay there too (the Tiếp sóng page lists both).
        with controller.db.session() as s:
            src = StreamSource(name=f"VOV {place}", url="http://127.0.0.1:9/vov.mp3")  # commune-wide
            s.add(src)
            s.flush()
            now = datetime.now(ZoneInfo("UTC"))
            ids[place]["relay_id"] = relays.create(
                s, source_id=src.id, targets={"hamlets": [hamlet]}, starts_at=now,
                until=now + timedelta(minutes=30), user=s.merge(admin)).id
        relay = {**body, "relay": {"source_id": src.id, "duration_s": 1800}}
        del relay["announcement_id"]
        ids[place]["relay_schedule_id"], _ = manage.create(controller, relay, admin,
                                                           datetime.now(ZoneInfo("UTC")))
    out = {"ids": ids, "ap3": ap3, "clients": {}}
    for role in ROLES:
        with controller.db.session() as s:
            users.add_user(s, f"{role}-3", role, PASSWORD, actor="quan-tri", areas=[ap3])
            token = users.new_token(s, f"{role}-3")
        c = app.test_client()
        assert c.post("/login", data={"username": f"{role}-3", "password": PASSWORD}).status_code == 302
        out["clients"][role] = (c, {"Authorization": f"Bearer {token}"})
    return out


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC | MACHINE:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(app, rule, ids) -> str:
    values = {}
    for arg in rule.arguments:
        if arg in ids:
            values[arg] = ids[arg]
        elif isinstance(rule._converters[arg], IntegerConverter):
            values[arg] = 1  # user ids and the like: admin-only routes
        else:
            values[arg] = {"speaker_id": "spk-1", "action": "stop"}.get(arg, "x")
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _leaks(r) -> list[str]:
    text = r.get_data(as_text=True)
    if r.is_json:
        text += json.dumps(r.get_json(silent=True), ensure_ascii=False)
    return [m for m in OTHER if m in text]


def _touches_other(controller) -> int:
    """Rows created during the walk that reach Ấp 1 (a broadcast to spk-1, a request/schedule)."""
    from controller.models import Delivery

    with controller.db.session() as s:
        n = s.scalar(sa.select(sa.func.count()).select_from(Delivery)
                     .where(Delivery.speaker_id == "spk-1"))
        n += sum(1 for r in s.scalars(sa.select(BroadcastRequest)) if "Ấp 1" in json.dumps(
            r.targets, ensure_ascii=False))
        n += sum(1 for x in s.scalars(sa.select(Schedule)) if "Ấp 1" in json.dumps(
            x.targets, ensure_ascii=False))
        return n


def test_limited_users_get_403_or_404_or_nothing_of_other_hamlets(app, controller, world):
    app.config.update(TESTING=False)  # a crash answers 500 and is listed, not raised
    other = world["ids"]["other"]
    before = _touches_other(controller)
    form = {"hamlets": ["Ấp 1"], "speakers": ["spk-1"], "text": "Họp dân", "priority": "normal",
            "when": "now", "title": "x", "volume": "50"}
    body = {"announcement_id": other["announcement_id"], "targets": {"hamlets": ["Ấp 1"]},
            "text": "Họp dân", "kind": "daily", "start_date": _tomorrow(controller),
            "times": ["07:00"], "due_at": "2000-01-01T00:00:00Z"}
    problems = []
    for rule, method in _routes(app):
        api = rule.rule.startswith("/api/")
        for role, (client, bearer) in world["clients"].items():
            url = _url(app, rule, other)
            kw = {"json": body, "headers": bearer} if api else {"data": form}
            r = client.open(url, method=method, **(kw if method != "GET" else
                                                   {"headers": bearer} if api else {}))
            where = f"{role} {method} {url} -> {r.status_code}"
            if r.status_code >= 500:
                problems.append(where)
            elif r.status_code not in (403, 404) and _leaks(r):
                problems.append(f"{where} shows {_leaks(r)}")
    assert not problems, "\n".join(problems)
    assert _touches_other(controller) == before, "something was sent or planned for Ấp 1"


def test_a_target_outside_is_403_naming_the_hamlet(app, controller, world):
    client, bearer = world["clients"]["approver"]
    r = client.post("/api/v1/broadcasts", json={"text": "Họp dân", "targets": {"all": True}},
                    headers=bearer)
    assert r.status_code == 403 and "Ấp 1" in r.json["message"], r.json
    r = client.post("/compose", data={"text": "Họp dân", "hamlets": ["Ấp 1"], "when": "now",
                                      "priority": "normal"})
    assert r.status_code == 403
    assert "Ấp 1 không thuộc ấp của bạn" in r.get_data(as_text=True)


def test_limited_users_work_in_their_own_hamlet(app, controller, world):
    own = world["ids"]["own"]
    for role, (client, bearer) in world["clients"].items():
        speakers = client.get("/api/v1/speakers", headers=bearer).json["speakers"]
        assert [x["id"] for x in speakers] == ["spk-3"], role
        assert client.get(f"/api/v1/broadcasts/{own['broadcast_id']}", headers=bearer).status_code == 200
        assert client.get(f"/api/v1/schedules/{own['schedule_id']}", headers=bearer).status_code == 200
        for page in ("/", "/fleet", "/log", "/report", f"/broadcasts/{own['broadcast_id']}",
                     f"/announcements/{own['announcement_id']}", "/approvals"):
            r = client.get(page)
            assert r.status_code == 200 and not _leaks(r), (role, page)
        csv = client.get("/log.csv").get_data(as_text=True)
        assert "spk-3" in csv and "spk-1" not in csv
        relays_page = client.get("/relays").get_data(as_text=True)  # his relay and relay schedule
        assert relays_page.count('data-relay="') == relays_page.count("data-relay-schedule=") == 1
        assert "Tiếp sóng VOV own" in relays_page and 'data-speaker="spk-3"' in relays_page, role
    editor, bearer = world["clients"]["editor"]
    body = {"announcement_id": own["announcement_id"], "targets": {"hamlets": ["Ấp 3"]},
            "kind": "daily", "start_date": _tomorrow(controller), "times": ["19:00"]}
    r = editor.post("/api/v1/schedules", json=body, headers=bearer)
    assert r.status_code == 202, r.json
    approver, bearer = world["clients"]["approver"]
    r = approver.post(f"/announcements/{own['announcement_id']}/approve", data={})
    assert r.status_code == 302
    with controller.db.session() as s:
        reqs = list(s.scalars(sa.select(BroadcastRequest)
                              .where(BroadcastRequest.announcement_id == own["announcement_id"])))
        assert {q.status for q in reqs} == {"done"}
        assert s.scalar(sa.select(sa.func.count()).select_from(Broadcast)
                        .where(Broadcast.created_by.is_not(None))) >= 3


def test_the_restriction_is_set_by_cli_and_users_page_and_audited(app, controller, world, tmp_path):
    from click.testing import CliRunner

    from controller.cli import main

    env = {"COMMUNE_RADIO_DATABASE_URL": controller.settings.database_url,
           "COMMUNE_RADIO_TTS_ENGINES": "espeak"}
    data = str(controller.settings.data_dir)
    run = CliRunner().invoke(main, ["user", "add", "truong-ap", "--role", "editor", "--hamlet", "Ấp 3",
                                    "--data", data], env=env)
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(main, ["user", "add", "sai", "--role", "editor", "--hamlet", "Ấp 9",
                                    "--data", data], env=env)
    assert run.exit_code != 0 and "Ấp 9" in run.output
    with controller.db.session() as s:
        assert users.get_user(s, "truong-ap").areas == [world["ap3"]]
    run = CliRunner().invoke(main, ["user", "hamlets", "truong-ap", "--data", data], env=env)
    assert run.exit_code == 0, run.output
    # On the users page an admin limits the viewer to Ấp 1 instead: his session ends.
    admin = app.test_client()
    assert admin.post("/login", data={"username": "quan-tri", "password": PASSWORD}).status_code == 302
    with controller.db.session() as s:
        viewer = s.scalar(sa.select(User).where(User.username == "viewer-3"))
        ap1 = registry.list_hamlets(s)[0].id
    page = admin.get("/users").get_data(as_text=True)
    assert "Chỉ các ấp này" in page
    r = admin.post(f"/users/{viewer.id}", data={"role": "viewer", "active": "1", "areas_shown": "1",
                                               "areas": [str(ap1)]})
    assert r.status_code == 302
    client, _ = world["clients"]["viewer"]
    assert client.get("/").status_code == 302
    with controller.db.session() as s:
        assert s.get(User, viewer.id).areas == [ap1]
        changes = [(e.actor, e.target, e.detail) for e in s.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "areas_changed").order_by(AuditEvent.id))]
    assert ("cli", "truong-ap", "whole commune -> Ấp 3") in changes
    assert ("cli", "truong-ap", "Ấp 3 -> whole commune") in changes
    assert ("quan-tri", "viewer-3", "Ấp 3 -> Ấp 1") in changes
    # An admin is for the whole commune.
    with controller.db.session() as s, pytest.raises(ServiceError, match="admin"):
        users.add_user(s, "qt-2", "admin", PASSWORD, areas=[ap1])
