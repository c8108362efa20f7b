"""/metrics and /healthz: what Prometheus and the proxy see, and who may scrape."""

from __future__ import annotations

import re

from controller.services import registry


def _value(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    assert m, f"{name}{labels} missing from:\n{text}"
    return float(m.group(1))


def test_metrics_count_speakers_and_the_outbox(client, controller):
    with controller.db.session() as s:
        registry.add_speaker(s, "ap-1", "Ấp 1")
        registry.add_speaker(s, "ap-2", "Ấp 2")
    r = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    assert _value(text, "commune_radio_speakers", '{online="false"}') == 2
    assert _value(text, "commune_radio_outbox_depth") == 0
    assert _value(text, "commune_radio_database_up") == 1
    assert _value(text, "commune_radio_backup_last_success_timestamp_seconds") == 0
    assert 'commune_radio_speaker_last_seen_timestamp_seconds{speaker="ap-1"} 0.0' in text
    assert "commune_radio_render_seconds_bucket" in text


def test_metrics_refuse_other_addresses_without_a_token(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403


def test_metrics_token_is_required_when_configured(tmp_path):
    from controller.app import create_app
    from controller.config import load
    from controller.runtime import Controller
    from tests.support.controller import fresh_db_url

    ctl = Controller(load(tmp_path / "d", database_url=fresh_db_url(tmp_path), metrics_token="s3cret-token",
                          run_scheduler=False))
    try:
        c = create_app(controller=ctl).test_client()
        local = {"REMOTE_ADDR": "127.0.0.1"}
        assert c.get("/metrics", environ_base=local).status_code == 401
        wrong = {"Authorization": "Bearer wrong"}
        assert c.get("/metrics", headers=wrong, environ_base=local).status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"},
                   environ_base={"REMOTE_ADDR": "198.51.100.4"})
        assert ok.status_code == 200
    finally:
        ctl.stop()


def test_healthz_is_ok_with_a_database_and_no_messaging(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["status"] == "ok" and r.json["database"] == "ok"
