"""Repeats of an aired warning: an 'interval' schedule from the first repeat until expiry (pure, fast)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controller.alerts import cap, repeats
from controller.alerts.settings import alert_settings
from schedules.recurrence import Recurrence, next_occurrence, occurrences
from schedules.validation import validate
from tests.alerts import fixtures as fx

NOW = datetime.now(UTC).replace(microsecond=0)
TZ = "Asia/Ho_Chi_Minh"


def plan(doc: bytes):
    alert = cap.parse(doc)
    return repeats.plan_for(alert_settings({"repeat_minutes": 30}), alert, alert.main_info(),
                            "emergency", NOW, TZ)


def test_a_three_hour_warning_repeats_every_30_minutes_until_it_expires():
    p = plan(fx.flood(NOW))
    due = occurrences(p.recurrence, NOW, NOW + timedelta(days=1))
    assert due[0] == NOW + timedelta(minutes=30)
    assert due[-1] < NOW + timedelta(hours=3) and len(due) == 5
    assert all(b - a == timedelta(minutes=30) for a, b in zip(due, due[1:], strict=False))
    assert p.priority == "emergency" and p.validity_s == 900
    assert next_occurrence(p.recurrence, NOW + timedelta(hours=3)) is None


def test_the_authority_may_set_its_own_interval_and_no_expiry_means_no_repeats():
    p = plan(fx.flood(NOW, parameters={"repeat_minutes": "60"}))
    assert p.recurrence.every_minutes == 60
    assert plan(fx.flood(NOW, parameters={"REPEAT_MINUTES": "1"})).recurrence.every_minutes == 30
    no_expiry = fx.alert(identifier="N1", sent=NOW, infos=fx.info(
        expires=None, areas=fx.polygon_area("x", "Ấp Mỹ An")))
    assert plan(no_expiry) is None


def test_an_interval_rule_is_validated_like_any_schedule():
    at = (NOW + timedelta(days=30)).replace(tzinfo=None, hour=6, minute=0, second=0)  # local wall time ahead
    zero = Recurrence(kind="interval", at=at, every_minutes=0)
    assert validate(zero, now_utc=NOW)[0].field == "every_minutes"
    empty = Recurrence(kind="interval", at=at, every_minutes=10, until=at)
    assert validate(empty, now_utc=NOW)[0].field == "until"
    past = (NOW - timedelta(days=400)).replace(tzinfo=None)
    gone = Recurrence(kind="interval", at=past, every_minutes=10, until=past + timedelta(days=1))
    assert validate(gone, now_utc=NOW)[0].code == "no_occurrence"
    rec = Recurrence(kind="interval", at=at, every_minutes=45, until=at + timedelta(hours=2))
    assert Recurrence.from_dict(rec.to_dict()) == rec
