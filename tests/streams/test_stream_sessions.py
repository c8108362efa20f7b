"""Stream sessions in the database: opening, stopping, gaps, airtime, and who may listen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controller.models import utcnow
from controller.services import registry, streams
from controller.services.errors import ServiceError
from controller.stream_models import StreamDelivery


@pytest.fixture
def three_speakers(controller):
    """spk-a and spk-b in Ấp 1, spk-c in Ấp 2."""
    with controller.db.session() as s:
        for sid, hamlet in (("spk-a", "Ấp 1"), ("spk-b", "Ấp 1"), ("spk-c", "Ấp 2")):
            registry.add_speaker(s, sid, hamlet)
    return controller


def _open(s, **kw):
    now = utcnow()
    args = {"kind": "relay", "speakers": ["spk-a", "spk-b"], "starts_at": now,
            "until": now + timedelta(minutes=30), "user": None, "title": "Tiếp sóng VOV1"}
    return streams.open_session(s, **{**args, **kw})


def _sent(s, session, key=b"k" * 32) -> dict[str, str]:
    """What the dispatcher does at the first send: derive each token, store its hash."""
    tokens = {}
    for d in session.deliveries:
        tokens[d.speaker_id] = streams.token_for(key, d.command_id)
        d.token_hash = streams.token_hash(tokens[d.speaker_id])
        streams.append(s, d, "sent", "controller")
    return tokens


def test_open_session_writes_one_delivery_per_speaker_and_a_mount(three_speakers):
    with three_speakers.db.session() as s:
        session = _open(s)
        sid = session.id
    with three_speakers.db.session() as s:
        view = streams.session_view(s, f"relay-{sid}")
        assert view["session_id"] == f"relay-{sid}" and view["mount"] == f"/relay-{sid}"
        assert view["state"] == "active"
        with pytest.raises(ServiceError, match=f"unknown stream session live-{sid}"):
            streams.session_view(s, f"live-{sid}")  # the wire id names the kind too
        assert [(d["speaker_id"], d["state"], d["aired_s"]) for d in view["deliveries"]] == [
            ("spk-a", "queued", 0.0), ("spk-b", "queued", 0.0)]
        # Nothing half-written when the input is bad: an unknown speaker stores no session.
        with pytest.raises(ServiceError, match="unknown speaker 'spk-x'"):
            _open(s, speakers=["spk-a", "spk-x"])
        with pytest.raises(ServiceError, match="until must be after"):
            _open(s, until=utcnow() - timedelta(hours=1))
        assert s.query(StreamDelivery).count() == 2


def test_listener_check_fails_closed(three_speakers):
    now = utcnow()
    with three_speakers.db.session() as s:
        session = _open(s)
        mount, sid = session.mount, session.id
        tokens = _sent(s, session)
        other = _open(s, speakers=["spk-c"])
        _sent(s, other)
    with three_speakers.db.session() as s:
        check = streams.check_listener
        assert check(s, mount, "spk-a", tokens["spk-a"], now)
        assert not check(s, mount, "spk-a", tokens["spk-b"], now)  # another speaker's token
        assert not check(s, mount, "spk-c", tokens["spk-a"], now)  # not a target
        assert not check(s, "/relay-999", "spk-a", tokens["spk-a"], now)  # unknown mount
        assert not check(s, other.mount, "spk-a", tokens["spk-a"], now)  # wrong session
        assert not check(s, mount, "spk-a", "", now)
        assert not check(s, mount, "spk-a", tokens["spk-a"], now + timedelta(hours=1))  # expired
        registry.revoke_speaker(s, "spk-b")
    with three_speakers.db.session() as s:
        assert not streams.check_listener(s, mount, "spk-b", tokens["spk-b"], now)
        streams.stop_session(s, sid, "stopped by the clerk", user=None)
    with three_speakers.db.session() as s:
        assert not streams.check_listener(s, mount, "spk-a", tokens["spk-a"], now)


def test_airtime_counts_playing_intervals_and_gaps_are_logged(three_speakers):
    t0 = utcnow() - timedelta(seconds=150)  # a session that started 150 s ago
    with three_speakers.db.session() as s:
        session = _open(s, starts_at=t0)
        _sent(s, session)
        a, b = session.deliveries
        for d, event, at in ((a, "stream_playing", 0), (a, "stream_stalled", 20),
                             (a, "stream_playing", 30), (a, "stream_stopped", 90),
                             (b, "stream_playing", 5)):
            streams.append(s, d, event, "agent", t0 + timedelta(seconds=at),
                           detail="upstream stalled" if event == "stream_stalled" else None)
        gap = streams.record_gap(s, session.id, t0 + timedelta(seconds=20), None, "upstream down")
        streams.end_gap(s, gap.id, t0 + timedelta(seconds=30))
        sid = session.id
    with three_speakers.db.session() as s:
        session = streams.get_session(s, sid)
        a, b = session.deliveries
        assert streams.aired_seconds(session, a, t0 + timedelta(seconds=200)) == 80.0
        # Still playing: counted up to now.
        assert streams.aired_seconds(session, b, t0 + timedelta(seconds=65)) == 60.0
        view = streams.session_view(s, sid)
        assert view["gaps"][0]["reason"] == "upstream down" and view["gaps"][0]["ended_at"]
        assert view["deliveries"][0]["state"] == "stream_stopped"
        assert [e["event"] for e in view["deliveries"][0]["events"]] == [
            "queued", "sent", "stream_playing", "stream_stalled", "stream_playing",
            "stream_stopped"]
        # At `until` the controller closes the session; b's open interval ends there.
        session.until = t0 + timedelta(seconds=100)
        s.flush()
        assert streams.end_due(s) == 1
    with three_speakers.db.session() as s:
        session = streams.get_session(s, sid)
        assert (session.state, session.end_reason) == ("ended", "ended")
        a, b = session.deliveries
        assert (a.state, b.state) == ("stream_stopped", "ended")
        assert streams.aired_seconds(session, b) == 95.0


def test_period_report_shows_relay_and_live_minutes_per_hamlet(three_speakers, app):
    from zoneinfo import ZoneInfo

    from controller.services import reports, users

    tz = ZoneInfo(three_speakers.settings.timezone)
    t0 = utcnow() - timedelta(minutes=20)
    with three_speakers.db.session() as s:
        relay = _open(s, starts_at=t0)
        live = _open(s, kind="live", speakers=["spk-c"], starts_at=t0, title="Chủ tịch xã")
        _sent(s, relay)
        _sent(s, live)
        a, b = relay.deliveries
        (c,) = live.deliveries
        for d, start, stop in ((a, 0, 600), (b, 0, 300), (c, 60, 180)):
            streams.append(s, d, "stream_playing", "agent", t0 + timedelta(seconds=start))
            streams.append(s, d, "stream_stopped", "agent", t0 + timedelta(seconds=stop),
                           detail="stopped")
        streams.record_gap(s, relay.id, t0 + timedelta(seconds=100),
                           t0 + timedelta(seconds=110), "upstream down")
        users.add_user(s, "viewer-1", "viewer", "mat-khau-dung-8")
    today = utcnow().astimezone(tz).date()
    with three_speakers.db.session() as s:
        rep = reports.period(s, t0.astimezone(tz).date(), today, tz)
    lines = {h.hamlet: (h.relay_min, h.live_min) for h in rep.stream_hamlets}
    assert lines == {"Ấp 1": (15.0, 0.0), "Ấp 2": (0.0, 2.0)}
    row_a = next(r for r in rep.streams if r.speaker_id == "spk-a")
    assert row_a.aired_s == 600 and row_a.stop_reason == "stopped"
    assert row_a.gaps[0][2] == "upstream down"

    app.config.update(WTF_CSRF_ENABLED=False)
    web = app.test_client()
    web.post("/login", data={"username": "viewer-1", "password": "mat-khau-dung-8"})
    html = web.get(f"/report?date_from={t0.astimezone(tz).date()}&date_to={today}").get_data(
        as_text=True)
    assert "Số phút tiếp sóng và phát trực tiếp theo ấp" in html
    assert "upstream down" in html and "Chủ tịch xã" in html
    page = web.get(f"/log/streams?date_from={t0.astimezone(tz).date()}&date_to={today}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nhật ký tiếp sóng và trực tiếp" in html
    assert "Luồng đã dừng" in html and "upstream down" in html
