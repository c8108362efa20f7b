"""Alerts through the whole decision path, on a real database and real espeak-ng (no broker)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from controller.alerts import intake
from controller.alerts.models import AlertRecord
from controller.models import Announcement, AuditEvent, Broadcast, Delivery, Occurrence, Schedule, utcnow
from controller.web_models import BroadcastRequest
from schedules.plan import SchedulePlan
from tests.alerts import fixtures as fx


def receive(controller, doc, now=None, **kw):
    rid = intake.receive(controller, doc, source="api:test", now=now or utcnow(), **kw)
    with controller.db.session() as s:
        rec = s.get(AlertRecord, rid)
        s.expunge(rec)
        return rec


def count(controller, model):
    with controller.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def test_flood_for_two_hamlets_airs_at_once_as_emergency_and_repeats_until_expiry(controller, commune):
    now = utcnow().replace(microsecond=0)
    rec = receive(controller, fx.flood(now), now)
    assert rec.action == "emergency", rec.reason
    assert sorted(h["name"] for h in rec.matched_hamlets) == ["Ấp Mỹ An", "Ấp Mỹ Hòa"]
    with controller.db.session() as s:
        b = s.get(Broadcast, rec.broadcast_ids[0])
        assert b.priority == "emergency" and b.emergency_override
        assert sorted(d.speaker_id for d in b.deliveries) == ["spk-1", "spk-2"]
        ann = s.get(Announcement, rec.announcement_id)
        assert ann.text.startswith("Thông báo khẩn cấp.")
        assert "Cảnh báo lũ khẩn cấp" in ann.text and "chuẩn bị sơ tán" in ann.text
        assert ann.audio is not None and ann.audio.duration_ms > 3000
        sch = s.get(Schedule, rec.schedule_id)
        plan = SchedulePlan.from_dict(sch.plan)
        assert plan.recurrence.kind == "interval" and plan.recurrence.every_minutes == 30
        assert plan.priority == "emergency" and sch.targets == {"hamlets": sorted(commune[h] for h in
                                                               ("Ấp Mỹ An", "Ấp Mỹ Hòa"))}
        actions = set(s.scalars(sa.select(AuditEvent.action)))
    assert {"alert_emergency", "broadcast_emergency", "schedule_created"} <= actions
    assert rec.state == "active"


def test_the_same_alert_twice_is_logged_as_a_duplicate_and_not_aired_again(controller, commune):
    now = utcnow().replace(microsecond=0)
    receive(controller, fx.flood(now), now)
    again = receive(controller, fx.flood(now), now)
    assert again.action == "duplicate"
    assert count(controller, Broadcast) == 1


def test_cancel_stops_the_repeats_and_cancels_what_is_not_sent(controller, commune):
    now = utcnow().replace(microsecond=0)
    first = receive(controller, fx.flood(now), now)
    later = now + timedelta(minutes=1)
    rec = receive(controller, fx.cancel(later, "AG-LU-001", now), later)
    assert rec.action == "cancel" and rec.refers_to == first.id
    with controller.db.session() as s:
        assert s.get(AlertRecord, first.id).state == "cancelled"
        assert s.get(Schedule, first.schedule_id).status == "cancelled"
        states = {d.state for d in s.scalars(sa.select(Delivery))}
        assert states == {"cancelled"}
        assert s.scalar(sa.select(sa.func.count()).select_from(Occurrence)
                        .where(Occurrence.state == "planned")) == 0


def test_update_replaces_the_alert_it_refers_to(controller, commune):
    now = utcnow().replace(microsecond=0)
    first = receive(controller, fx.flood(now), now)
    later = now + timedelta(minutes=2)
    doc = fx.alert(identifier="AG-LU-002", sent=later, msg_type="Update",
                   references=fx.reference("AG-LU-001", now),
                   infos=fx.info(expires=later + timedelta(hours=2), headline="Lũ lên cao hơn",
                                 areas=fx.polygon_area("Ấp Mỹ An", "Ấp Mỹ An")))
    rec = receive(controller, doc, later)
    assert rec.action == "emergency" and rec.refers_to == first.id
    assert [h["name"] for h in rec.matched_hamlets] == ["Ấp Mỹ An"]
    with controller.db.session() as s:
        assert s.get(AlertRecord, first.id).state == "replaced"
        assert s.get(Schedule, first.schedule_id).status == "cancelled"
        assert s.get(Schedule, rec.schedule_id).status == "active"


def test_province_storm_by_geocode_reaches_every_hamlet_as_a_draft(controller, commune):
    now = utcnow().replace(microsecond=0)
    rec = receive(controller, fx.storm(now), now)
    assert rec.action == "draft"
    assert len(rec.matched_hamlets) == 3
    with controller.db.session() as s:
        ann = s.get(Announcement, rec.announcement_id)
        assert ann.status == "draft" and ann.audio is not None
        req = s.scalar(sa.select(BroadcastRequest))
        assert req.announcement_id == ann.id and req.status == "pending"
    assert count(controller, Broadcast) == 0


def test_english_only_alert_waits_for_a_translation_and_is_never_spoken(controller, commune):
    now = utcnow().replace(microsecond=0)
    rec = receive(controller, fx.english_only(now), now)
    assert rec.action == "draft" and "Vietnamese" in rec.reason
    with controller.db.session() as s:
        ann = s.get(Announcement, rec.announcement_id)
        assert ann.audio_sha256 is None and ann.title.startswith("Cần dịch")
    assert count(controller, Broadcast) == 0


def test_what_must_not_air_is_logged_with_its_reason(controller, commune):
    now = utcnow().replace(microsecond=0)
    cases = {
        "test": fx.flood(now, identifier="T1", ).replace(b"<status>Actual", b"<status>Test"),
        "ignored": fx.flood(now, identifier="E1").replace(b"<status>Actual", b"<status>Exercise"),
        "not_for_us": fx.alert(identifier="X1", sent=now, infos=fx.info(
            expires=now + timedelta(hours=1), areas=fx.geocode_area("Tỉnh khác", "01"))),
        "unknown_ref": fx.cancel(now, "NEVER-SEEN", now - timedelta(hours=1)),
        "refused": fx.flood(now - timedelta(hours=5), identifier="OLD1"),
    }
    for action, doc in cases.items():
        rec = receive(controller, doc, now)
        assert rec.action == action, (action, rec.reason)
        assert rec.reason
    bad_polygon = fx.flood(now, identifier="P1").replace(
        fx.box_polygon(*fx.HAMLET_BOXES["Ấp Mỹ An"]).encode(),
        b"10.40,105.40 10.42,105.42 10.40,105.42 10.42,105.40 10.40,105.40")
    rec = receive(controller, bad_polygon, now)
    assert rec.action == "refused" and "polygon" in rec.reason
    assert count(controller, Broadcast) == 0 and count(controller, Announcement) == 0


def test_cancelling_a_draft_warning_withdraws_its_pending_request(controller, commune):
    now = utcnow().replace(microsecond=0)
    draft = receive(controller, fx.storm(now), now)
    later = now + timedelta(minutes=1)
    doc = fx.alert(identifier="AG-BAO-007-HUY", sent=later, msg_type="Cancel",
                   references=fx.reference("AG-BAO-007", now),
                   infos=fx.info(expires=later + timedelta(hours=1), areas=fx.geocode_area("x", "89")))
    assert receive(controller, doc, later).action == "cancel"
    with controller.db.session() as s:
        req = s.scalar(sa.select(BroadcastRequest).where(BroadcastRequest.announcement_id ==
                                                         draft.announcement_id))
        assert req.status == "cancelled"
