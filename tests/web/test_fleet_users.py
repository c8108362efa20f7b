"""Fleet JSON and per-speaker actions (signed volume/stop commands, test tone); users admin; audit."""

from __future__ import annotations

import sqlalchemy as sa

from controller.models import AuditEvent, Broadcast, User
from tests.web.conftest import csrf_of, form_token_of


def post_from(client, page_url: str, action: str, **fields):
    page = client.get(page_url).get_data(as_text=True)
    tokens = {"csrf_token": csrf_of(page), "form_token": form_token_of(page)}
    return client.post(action, data={**tokens, **fields})


def test_fleet_json_has_presence_and_schematic_positions(login, seeded):
    from controller.models import Speaker

    with seeded.db.session() as s:
        s.execute(sa.update(Speaker).where(Speaker.id == "spk-a")
                  .values(online=True, state={"volume": 70, "playing": "abc"}))
    data = login("viewer").get("/fleet.json").get_json()
    by_id = {x["id"]: x for x in data["speakers"]}
    assert by_id["spk-a"]["online"] and by_id["spk-a"]["volume"] == 70 and by_id["spk-a"]["playing"] == "abc"
    assert not by_id["spk-c"]["online"]
    # North up: spk-b (10.41) is above spk-c (10.38); east right: spk-c (105.45) right of spk-a.
    assert by_id["spk-b"]["y"] < by_id["spk-c"]["y"] and by_id["spk-c"]["x"] > by_id["spk-a"]["x"]
    html = login("viewer").get("/fleet").get_data(as_text=True)
    assert '<svg id="fleet-map"' in html and html.count('class="pin') == 3


def test_volume_and_stop_publish_signed_commands_and_are_audited(login, seeded, fake_bus):
    from protocol.signing import key_id, verify

    c = login("editor")
    assert post_from(c, "/fleet", "/fleet/spk-a/volume", volume="55").status_code == 302
    assert post_from(c, "/fleet", "/fleet/spk-b/stop").status_code == 302
    (vol, _), (stop, _) = fake_bus.published
    assert (vol.type, vol.speaker_id, vol.volume) == ("volume", "spk-a", 55)
    assert (stop.type, stop.speaker_id) == ("stop", "spk-b")
    for cmd in (vol, stop):
        pub = seeded.keys.public_key
        assert cmd.sig and verify(cmd, {key_id(pub): pub}) is None
    with seeded.db.session() as s:
        actions = set(s.scalars(sa.select(AuditEvent.action)))
    assert {"speaker_volume", "speaker_stop"} <= actions


def test_bad_volume_is_explained(login, seeded, fake_bus):
    c = login("editor")
    r = post_from(c, "/fleet", "/fleet/spk-a/volume", volume="150")
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert fake_bus.published == []
    assert "Âm lượng phải là số nguyên từ 0 đến 100." in page


def test_test_tone_is_a_broadcast_to_one_speaker(login, seeded):
    r = post_from(login("approver"), "/fleet", "/fleet/spk-c/test-tone")
    assert r.status_code == 302 and "/broadcasts/" in r.headers["Location"]
    with seeded.db.session() as s:
        (b,) = s.scalars(sa.select(Broadcast)).all()
        assert [d.speaker_id for d in b.deliveries] == ["spk-c"]
        assert b.announcement.audio.duration_ms > 1000


def test_admin_adds_user_with_field_errors_first(login, seeded):
    c = login("admin")
    r = post_from(c, "/users", "/users", username="a b", role="editor", password="12345678")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="username-error"' in html and 'value="a b"' in html
    r = post_from(c, "/users", "/users", username="bien-tap-2", role="editor", password="12345678")
    assert r.status_code == 302
    with seeded.db.session() as s:
        assert s.scalar(sa.select(User.role).where(User.username == "bien-tap-2")) == "editor"


def test_role_change_is_audited_and_last_admin_is_protected(login, seeded):
    c = login("admin")
    with seeded.db.session() as s:
        ids = dict(s.execute(sa.select(User.username, User.id)).all())
    assert post_from(c, "/users", f"/users/{ids['viewer']}", role="approver", active="1").status_code == 302
    r = post_from(c, "/users", f"/users/{ids['admin']}", role="viewer", active="1")
    assert r.status_code == 422
    with seeded.db.session() as s:
        roles = dict(s.execute(sa.select(User.username, User.role)).all())
        ev = s.scalar(sa.select(AuditEvent).where(AuditEvent.action == "role_changed"))
    assert roles["viewer"] == "approver" and roles["admin"] == "admin"
    assert (ev.actor, ev.target, ev.detail) == ("admin", "viewer", "viewer -> approver")
    html = c.get("/audit?action=role_changed").get_data(as_text=True)
    assert "admin đã đổi vai trò của viewer từ Theo dõi nhật ký sang Lãnh đạo (duyệt tin)." in html


def test_disabled_user_loses_the_session(login, seeded):
    viewer, admin = login("viewer"), login("admin")
    with seeded.db.session() as s:
        uid = s.scalar(sa.select(User.id).where(User.username == "viewer"))
    post_from(admin, "/users", f"/users/{uid}", role="viewer")  # no 'active' → disabled
    assert viewer.get("/log").status_code == 302


def test_fleet_page_shows_when_the_online_voice_is_down_and_its_next_try(login, seeded):
    import dataclasses

    from audio.engines.breaker import Breaker

    seeded.settings = dataclasses.replace(seeded.settings, tts_engines=("gtts", "espeak"))
    html = login("viewer").get("/fleet").get_data(as_text=True)
    assert "Giọng đọc trực tuyến (Google)" in html and "sẵn sàng" in html
    Breaker(seeded.cache_dir, 300.0).trip("gtts", "connect timed out")
    html = login("viewer").get("/fleet").get_data(as_text=True)
    voice = html[html.index('data-engine="gtts"'):]
    voice = voice[: voice.index("</li>")]
    assert "không kết nối được từ" in voice and "thử lại lúc" in voice
