"""Send-now answers at once: the broadcast is `rendering` while the render pool speaks it.

The pool is the real one (worker processes running espeak-ng and ffmpeg). `held` keeps the
step after the render waiting, so what a client sees in between is certain, not a race.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from controller.models import utcnow
from controller.services import announcements, broadcasts, registry, rendering
from tests.support.processes import wait_for

TEXT = "UBND xã thông báo: họp dân tại nhà văn hóa ấp lúc 7h30 ngày 02/12."


@pytest.fixture
def fleet(controller):
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp Mỹ An")
        registry.add_speaker(s, "spk-2", "Ấp Mỹ An")


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def states(client, tok, bid):
    b = client.get(f"/api/v1/broadcasts/{bid}", headers=auth(tok)).json
    return b, [d["state"] for d in b["deliveries"]]


def test_send_answers_rendering_and_is_queued_when_the_speech_is_ready(client, pooled, fleet,
                                                                        token_for, held):
    tok = token_for("admin")
    r = client.post("/api/v1/broadcasts", json={"text": TEXT, "targets": {"all": True}},
                    headers=auth(tok))
    assert r.status_code == 201, r.json
    bid = r.json["id"]
    b, now = states(client, tok, bid)
    assert now == ["rendering", "rendering"] and b["duration_ms"] is None
    assert client.get("/api/v1/broadcasts", headers=auth(tok)).json["broadcasts"][0]["states"] \
        == {"rendering": 2}
    held()  # let the finished render through
    b, now = wait_for(lambda: (lambda x: x if x[1] == ["queued", "queued"] else None)(
        states(client, tok, bid)), what="deliveries queued")
    assert b["engine"] == "espeak" and b["duration_ms"] > 1000
    assert "UBND" not in b["spoken_text"]
    assert [e["event"] for e in b["deliveries"][0]["events"]] == ["rendering", "queued"]


def test_text_with_nothing_to_speak_is_refused_before_anything_is_stored(client, pooled, fleet,
                                                                           token_for):
    tok = token_for("admin")
    r = client.post("/api/v1/broadcasts", json={"text": "… — …", "targets": {"all": True}},
                    headers=auth(tok))
    assert r.status_code == 400 and "nothing to speak" in r.json["message"]
    assert client.get("/api/v1/broadcasts", headers=auth(tok)).json["broadcasts"] == []


def test_failed_render_ends_every_delivery_with_the_reason(client, pooled, fleet, token_for):
    pooled.settings = replace(pooled.settings, tts_engines=("piper",))  # not installed here
    tok = token_for("admin")
    r = client.post("/api/v1/broadcasts", json={"text": TEXT, "targets": {"all": True}},
                    headers=auth(tok))
    assert r.status_code == 201
    b, _ = wait_for(lambda: (lambda x: x if x[1] == ["failed", "failed"] else None)(
        states(client, tok, r.json["id"])), what="deliveries failed")
    for d in b["deliveries"]:
        last = d["events"][-1]
        assert last["source"] == "controller" and "speech could not be made" in last["detail"]
        assert "piper" in last["detail"]


def _left_rendering(controller, ttl_s: int, play_at=None) -> int:
    """A broadcast stored `rendering` by a controller that stopped before the speech was ready."""
    with controller.db.session() as s:
        ann = announcements.create(s, controller, title="Họp dân", text=TEXT, rendered=None,
                                   source="tts", user=None, approved=True)
        spk = registry.list_speakers(s)
        return broadcasts.create(s, announcement=ann, speakers=spk, priority="normal", user=None,
                                 ttl_s=ttl_s, play_at=play_at, rendering=True).id


def test_restart_renders_again_what_was_left_rendering_and_ends_what_expired(client, controller,
                                                                            fleet, token_for,
                                                                            render_pool):
    fresh = _left_rendering(controller, 900)
    stale = _left_rendering(controller, 60, play_at=utcnow() - timedelta(hours=1))
    controller.renders = render_pool  # the next start
    try:
        assert rendering.resume(controller) == (1, 1)
        tok = token_for("viewer")
        b, _ = wait_for(lambda: (lambda x: x if x[1] == ["queued", "queued"] else None)(
            states(client, tok, fresh)), what="left-over broadcast queued")
        assert b["engine"] == "espeak" and b["duration_ms"] > 1000
        b, now = states(client, tok, stale)
        assert now == ["failed", "failed"]
        assert "controller stopped while the speech was being made" in \
            b["deliveries"][0]["events"][-1]["detail"]
    finally:
        controller.renders = None
