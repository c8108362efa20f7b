"""Validity, pre-delivery timing and catch-up after a restart, all on an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest

from schedules.runtime import Due, coalesce, decide, dispatch_time, missed_reason, occurrence_key, play_at_for

DUE = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 06:00 in Ho Chi Minh City


def at(seconds):
    return DUE + timedelta(seconds=seconds)


def test_occurrence_key_is_stable_across_zones():
    from zoneinfo import ZoneInfo

    local = DUE.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert occurrence_key(42, DUE) == occurrence_key("42", local) == "42@2026-12-01T23:00:00Z"
    assert occurrence_key(42, DUE + timedelta(microseconds=5)) == "42@2026-12-01T23:00:00.000005Z"
    with pytest.raises(ValueError):
        occurrence_key(42, datetime(2026, 12, 1, 23))


def test_decide_wait_dispatch_missed_edges():
    assert decide(DUE, 900, at(-1)) == "wait"
    assert decide(DUE, 900, at(0)) == "dispatch"
    assert decide(DUE, 900, at(900)) == "dispatch"  # exactly at the end of validity still starts
    assert decide(DUE, 900, at(901)) == "missed"
    assert decide(DUE, 60, at(61)) == "missed"


def test_decide_with_lead_dispatches_early():
    assert decide(DUE, 900, at(-601), lead_s=600) == "wait"
    assert decide(DUE, 900, at(-600), lead_s=600) == "dispatch"


def test_dispatch_time_pre_delivers_or_goes_now():
    assert dispatch_time(DUE) == at(-600)
    assert dispatch_time(DUE, 600, now=at(-3600)) == at(-600)
    assert dispatch_time(DUE, 600, now=at(-120)) == at(-120)  # inside the lead: send now
    assert dispatch_time(DUE, 0, now=at(-5)) == DUE  # "send now"/emergency: play_at = now, lead 0


def test_play_at_for_late_dispatch_is_now():
    assert play_at_for(DUE, at(-600)) == DUE
    assert play_at_for(DUE, at(30)) == at(30)


def test_coalesce_after_restart_splits_valid_expired_and_future():
    dues = [Due("news", at(-1200)), Due("meeting", at(-300)), Due("relay", at(600))]
    result = coalesce(dues, now=DUE, validity_s=900, timezone="Asia/Ho_Chi_Minh")
    assert [d.schedule_id for d in result.dispatch] == ["meeting"]
    assert [d.schedule_id for d in result.waiting] == ["relay"]
    [missed] = result.missed
    assert missed.occurrence.schedule_id == "news" and missed.code == "expired"
    assert "05:40" in missed.reason and "20 min late" in missed.reason and "15 min" in missed.reason
    assert "trễ 20 phút" in missed.reason_vi and "05:40 ngày 02/12/2026" in missed.reason_vi


def test_coalesce_uses_each_schedules_own_validity():
    dues = [Due("a", at(-1200), validity_s=3600), Due("b", at(-1200), validity_s=600)]
    result = coalesce(dues, now=DUE)
    assert [d.schedule_id for d in result.dispatch] == ["a"]
    assert [m.occurrence.schedule_id for m in result.missed] == ["b"]


def test_coalesce_never_dispatches_an_occurrence_twice():
    first = Due("news", at(-60))
    result = coalesce([first, Due("news", at(-60)), first], now=DUE)
    assert result.dispatch == [first]
    assert len(result.already_done) == 2
    again = coalesce([first], now=DUE, done_keys={first.key})
    assert again.dispatch == [] and again.missed == [] and again.already_done == [first]


def test_coalesce_plays_only_the_newest_valid_occurrence_of_a_schedule():
    dues = [
        Due("every5", at(-600)),
        Due("every5", at(-300)),
        Due("every5", at(-1800)),
        Due("other", at(-600)),
    ]
    result = coalesce(dues, now=DUE, validity_s=900)
    assert [(d.schedule_id, d.due_utc) for d in result.dispatch] == [
        ("other", at(-600)),
        ("every5", at(-300)),
    ]
    assert [(m.occurrence.due_utc, m.code) for m in result.missed] == [
        (at(-1800), "expired"),
        (at(-600), "superseded"),
    ]
    assert "superseded" in result.missed[1].reason and "Không phát" in result.missed[1].reason_vi


def test_naive_clock_is_refused():
    with pytest.raises(ValueError):
        decide(DUE, 900, datetime(2026, 12, 1, 23))


def test_missed_reason_writes_minutes_as_each_language_does():
    due = datetime(2030, 6, 15, 22, 0, tzinfo=UTC)  # a value, not a clock: nothing reads today
    en, vi = missed_reason(Due("7", due), 90, due + timedelta(minutes=3), "Asia/Ho_Chi_Minh")
    assert "past its 1.5 min validity" in en and "reached 3 min late" in en
    assert "quá thời hạn hiệu lực 1,5 phút" in vi and "trễ 3 phút" in vi
    assert "lúc 05:00 ngày 16/06/2030" in vi  # local time in Ho Chi Minh City, next day
