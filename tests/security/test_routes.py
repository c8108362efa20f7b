"""Every route in app.url_map: anonymous users are sent to log in (UI) or get 401 (API), users
with the wrong role get 403, and users with an allowed role get past the role check.

The table below is the access policy, written down. A new route without an entry makes
`test_every_route_has_a_policy` fail: decide who may use it, then add it here.
"""

from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from controller.services import users

ALL = {"admin", "editor", "approver", "viewer"}
EDITORS = {"admin", "editor", "approver"}
APPROVERS = {"admin", "approver"}
ADMIN = {"admin"}

PUBLIC = {"ui.login", "ui.logout", "ui.set_language", "ui.static", "ui.favicon", "api.openapi"}
# Icecast's listener_add hook: no login (Icecast calls it), it only ever answers "admit" for a
# valid per-speaker session token (tests/streams/test_listener_auth.py).
MACHINE = {"icecast_auth.listener"}
# Bulletins from the province: its bearer token ([province] inbound_token), answered in its
# envelope; refused when the link is off or the token is wrong (tests/province/test_bulletins.py).
MACHINE |= {"province_api.receive_bulletin", "province_api.cancel_bulletin",
            "province_api.reschedule_bulletin"}
# Machine endpoints with their own guard: /healthz says only up or not; /metrics needs the
# metrics token, or loopback when none is set (tests/controller/test_metrics.py).
OPS = {"ops.healthz", "ops.metrics"}
# Published agent wheels: open source, no secret; speakers trust one only through the signed
# `update` command that pins its SHA-256 (tests/web/test_agent_updates.py).
OPS |= {"updates.wheel"}
SIGNED_LINK = {"media.audio",  # speakers with a signed URL, or any logged-in user
               "api_live.post_chunk"}  # the live session's chunk key
POLICY = {
    # web UI (session login)
    "ui.index": ALL, "ui.approvals_list": ALL, "ui.announcement": ALL, "ui.calendar": ALL,
    "ui.fleet": ALL, "ui.fleet_json": ALL, "ui.broadcast": ALL, "ui.log": ALL, "ui.log_csv": ALL,
    "ui.report": ALL, "ui.stream_log_page": ALL, "ui.broadcast_json": ALL,
    "ui.approve": APPROVERS, "ui.audit_page": APPROVERS,
    "ui.edit": EDITORS, "ui.send": EDITORS, "ui.compose": EDITORS, "ui.compose_submit": EDITORS,
    "ui.preview_text": EDITORS, "ui.preview_audio": EDITORS, "ui.preview_schedule": EDITORS,
    "ui.fleet_action": EDITORS,
    "ui.live_page": APPROVERS, "ui.live_start": APPROVERS, "ui.live_status": APPROVERS,
    "ui.live_stop": APPROVERS,
    "ui.sources_page": ALL, "ui.sources_preview": ALL, "ui.relays_page": ALL,
    "ui.sources_add": EDITORS, "ui.relays_start": APPROVERS, "ui.relays_stop": APPROVERS,
    "ui.relays_json": ALL, "ui.relay_schedule_preview": APPROVERS,
    # an editor reaches the view and is told who may schedule a relay (403)
    "ui.relay_schedule_add": APPROVERS, "ui.relay_schedule_status": EDITORS,
    "ui.users_page": ADMIN, "ui.users_add": ADMIN, "ui.users_update": ADMIN,
    "ui.backups_page": ADMIN, "ui.backups_now": ADMIN, "ui.update_publish": ADMIN,
    "ui.province_page": ADMIN,
    # JSON API (bearer tokens)
    "api.list_speakers": ALL, "api.list_hamlets": ALL, "api.list_broadcasts": ALL,
    "api.get_broadcast": ALL, "api.create_broadcast": APPROVERS,
    "api.preview": EDITORS, "api.get_abbreviations": EDITORS, "api.put_abbreviations": ADMIN,
    "api_live.get_live": ALL, "api_live.start_live": APPROVERS, "api_live.stop_live": APPROVERS,
    "api_live.get_live_ingest": APPROVERS,
    "api_schedules.list_schedules": ALL, "api_schedules.get_schedule": ALL,
    "api_schedules.get_agenda": ALL,
    "api_schedules.create_schedule": EDITORS, "api_schedules.update_schedule": EDITORS,
    "api_schedules.delete_schedule": EDITORS, "api_schedules.pause_schedule": EDITORS,
    "api_schedules.resume_schedule": EDITORS, "api_schedules.cancel_schedule": EDITORS,
    "api_schedules.cancel_occurrence": EDITORS,
    # public warnings (CAP): besides admin, only the token-only role alert-source may post
    "ui.alerts_page": ALL, "ui.alert_page": ALL, "ui.alert_hamlet_area": ADMIN,
    "api_alerts.post_alert": ADMIN, "api_alerts.list_alerts": ALL, "api_alerts.get_alert": ALL,
    "api_relays.list_sources": ALL, "api_relays.create_source": EDITORS,
    "api_relays.list_relays": ALL, "api_relays.get_relay": ALL,
    "api_relays.create_relay": APPROVERS, "api_relays.stop_relay": APPROVERS,
}
ARGS = {"int": 999999, "speaker_id": "spk-x", "action": "ping", "sha256": "0" * 64,
        "filename": "style.css", "name": "commune_radio-0.0.1-py3-none-any.whl"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(app, rule) -> str:
    values = {a: ARGS["int"] if isinstance(rule._converters[a], IntegerConverter) else ARGS[a]
              for a in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _is_api(rule) -> bool:
    return rule.rule.startswith("/api/")


@pytest.fixture
def clients(app, controller):
    """Per role: a logged-in UI client and an API bearer header."""
    app.config.update(WTF_CSRF_ENABLED=False)
    out = {}
    for role in sorted(ALL):
        with controller.db.session() as s:
            users.add_user(s, f"{role}-r", role, "mat-khau-dung-8")
            token = users.new_token(s, f"{role}-r")
        c = app.test_client()
        form = {"username": f"{role}-r", "password": "mat-khau-dung-8"}
        assert c.post("/login", data=form).status_code == 302
        out[role] = (c, {"Authorization": f"Bearer {token}"})
    return out


def test_every_route_has_a_policy(app):
    endpoints = {rule.endpoint for rule, _ in _routes(app)}
    missing = endpoints - PUBLIC - MACHINE - SIGNED_LINK - OPS - set(POLICY)
    assert not missing, f"routes with no access policy in {__file__}: {sorted(missing)}"
    stale = set(POLICY) - endpoints
    assert not stale, f"policy entries for routes that no longer exist: {sorted(stale)}"


def _open(client, url, **kw):
    """Request and read the whole answer, then close it: a streamed answer (the CSV log)
    left unread was closed by the garbage collector during a later request, outside its
    own request context ("Popped wrong request context" warnings)."""
    r = client.open(url, **kw)
    r.get_data()
    r.close()
    return r


def test_anonymous_users_are_refused_everywhere_but_public_routes(app):
    client = app.test_client()
    app.config.update(WTF_CSRF_ENABLED=False)
    for rule, method in _routes(app):
        if rule.endpoint in PUBLIC | OPS:
            continue
        r = _open(client, _url(app, rule), method=method)
        if rule.endpoint in MACHINE:
            assert "icecast-auth-user" not in r.headers, f"{method} {rule.rule} admitted"
            continue
        where = f"{method} {rule.rule}"
        if rule.endpoint in SIGNED_LINK:
            assert r.status_code == 403, where
        elif _is_api(rule):
            assert r.status_code == 401, where
        else:
            assert r.status_code in (302, 401), where
            if r.status_code == 302:
                assert "/login" in r.headers["Location"], where


def test_each_role_gets_exactly_its_routes(app, clients):
    app.config.update(TESTING=False)  # crashes are the next test's business, not this one's
    problems = []
    for rule, method in _routes(app):
        allowed = POLICY.get(rule.endpoint)
        if allowed is None:
            continue
        for role, (client, bearer) in clients.items():
            headers = bearer if _is_api(rule) else {}
            r = _open(client, _url(app, rule), method=method, headers=headers)
            where = f"{role} {method} {rule.rule} -> {r.status_code}"
            refused = r.status_code in (401, 403)
            if (role in allowed and refused) or (role not in allowed and r.status_code != 403):
                problems.append(where)
    assert not problems, "\n".join(problems)


def test_no_route_crashes_for_unknown_ids_or_empty_forms(app, clients):
    app.config.update(TESTING=False)  # a crash answers 500 like in production; all are listed
    client, bearer = clients["admin"]
    crashes = []
    for rule, method in _routes(app):
        r = _open(client, _url(app, rule), method=method, headers=bearer if _is_api(rule) else {})
        if r.status_code >= 500:
            crashes.append(f"{method} {rule.rule} -> {r.status_code}")
    assert not crashes, "\n".join(crashes)


def test_every_ui_form_post_needs_a_csrf_token(app, clients):
    client, _ = clients["admin"]
    app.config.update(WTF_CSRF_ENABLED=True)
    for rule, method in _routes(app):
        if method == "GET" or _is_api(rule) or rule.endpoint in MACHINE or rule.endpoint in (
                "ui.login", "ui.logout", "ui.set_language"):
            continue
        r = _open(client, _url(app, rule), method=method, data={"x": "1"})
        assert r.status_code == 400, f"{method} {rule.rule} -> {r.status_code} without a CSRF token"


def test_login_form_also_needs_a_csrf_token(app):
    app.config.update(WTF_CSRF_ENABLED=True)
    r = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert r.status_code == 400
