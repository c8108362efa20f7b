"""ScheduleRunner against a real database with an injectable clock: materializing, firing,
catch-up after downtime (inside and past validity), coalescing, repeats, failures, timers."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from controller.models import AuditEvent, Broadcast, Delivery, Occurrence, Speaker
from controller.services import users
from schedules import manage
from schedules.service import ScheduleRunner
from tests.schedules.conftest import FakeClock, local_at, local_day, make_announcement
from tests.support.processes import wait_for


@pytest.fixture
def editor(controller):
    with controller.db.session() as s:
        # An approver: schedules by an editor wait for approval (tests/security/test_approval_scope.py).
        user, _ = users.add_user(s, "lanh-dao", "approver")
        return user


def schedule(controller, editor, announcement, now, **fields):
    body = {"announcement_id": announcement, "targets": {"all": True}, "kind": "daily",
            "start_date": local_day(now), "times": ["06:00"], **fields}
    sid, _ = manage.create(controller, body, editor, now)
    return sid


def occurrences(controller, schedule_id=None):
    with controller.db.session() as s:
        q = sa.select(Occurrence).order_by(Occurrence.due_at)
        if schedule_id:
            q = q.where(Occurrence.schedule_id == schedule_id)
        return list(s.scalars(q))


def broadcasts(controller):
    with controller.db.session() as s:
        return list(s.scalars(sa.select(Broadcast).order_by(Broadcast.id)))


def test_occurrences_are_materialized_for_the_horizon_in_utc(controller, fleet, announcement,
                                                             editor, clock, due):
    schedule(controller, editor, announcement, clock.now)
    ScheduleRunner(controller, clock=clock).reconcile()
    # 05:00 local now; 06:00 today and tomorrow fall inside 48 h, the day after does not.
    assert [o.due_at for o in occurrences(controller)] == [due, due + timedelta(days=1)]
    assert all(o.state == "planned" for o in occurrences(controller))


def test_firing_writes_one_broadcast_with_play_at_due_and_validity_window(controller, fleet,
                                                                          announcement, editor,
                                                                          clock, due):
    schedule(controller, editor, announcement, clock.now, priority="priority")
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    first = occurrences(controller)[0]
    clock.now = due - timedelta(seconds=controller.settings.lead_time_s)
    out = runner.fire(first.id)
    assert out.state == "dispatched"
    (b,) = broadcasts(controller)
    assert (b.play_at, b.priority, b.occurrence_key) == (due, "priority", first.occurrence_key)
    assert b.expires_at == due + timedelta(seconds=controller.settings.validity_s)
    assert b.dispatch_at == due - timedelta(seconds=controller.settings.lead_time_s)
    with controller.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 3
    assert occurrences(controller)[0].state == "dispatched"
    assert occurrences(controller)[0].broadcast_id == b.id


def test_a_timer_that_fires_early_waits(controller, fleet, announcement, editor, clock):
    schedule(controller, editor, announcement, clock.now)
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    assert runner.fire(occurrences(controller)[0].id).state == "waiting"
    assert broadcasts(controller) == []


def test_one_occurrence_never_fires_twice(controller, fleet, announcement, editor, clock, due):
    schedule(controller, editor, announcement, clock.now)
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    occ = occurrences(controller)[0]
    clock.now = due
    # Two timers (say, two runners by mistake) racing, then a restart's catch-up.
    other = ScheduleRunner(controller, clock=clock)
    barrier = threading.Barrier(2)
    results = []

    def fire(r):
        barrier.wait()
        results.append(r.fire(occ.id).state)

    threads = [threading.Thread(target=fire, args=(r,)) for r in (runner, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ScheduleRunner(controller, clock=clock).reconcile()
    assert sorted(results) == ["dispatched", "skipped"]
    assert len(broadcasts(controller)) == 1


def test_restart_inside_validity_dispatches_now(controller, fleet, announcement, editor, clock, due):
    schedule(controller, editor, announcement, clock.now)
    ScheduleRunner(controller, clock=clock).reconcile()
    clock.now = due + timedelta(minutes=5)  # the controller was down at 06:00
    result = ScheduleRunner(controller, clock=clock).reconcile()
    assert [d.due_utc for d in result.dispatch] == [due]
    (b,) = broadcasts(controller)
    assert b.play_at == clock.now
    # The validity window stays anchored at the due time, not at the late start.
    assert b.expires_at == due + timedelta(seconds=controller.settings.validity_s)


def test_restart_past_validity_records_missed_with_reason(controller, fleet, announcement, editor,
                                                          clock, due):
    sid = schedule(controller, editor, announcement, clock.now)
    ScheduleRunner(controller, clock=clock).reconcile()
    clock.now = due + timedelta(minutes=20)
    ScheduleRunner(controller, clock=clock).reconcile()
    first = occurrences(controller, sid)[0]
    assert (first.state, first.reason_code) == ("missed", "expired")
    assert "15 min validity" in first.reason and "quá thời hạn hiệu lực" in first.reason_vi
    assert broadcasts(controller) == []
    with controller.db.session() as s:
        logged = s.scalars(sa.select(AuditEvent.detail).where(
            AuditEvent.action == "occurrence_missed")).all()
    assert len(logged) == 1 and "expired" in logged[0]


def test_two_occurrences_due_while_down_coalesce(controller, fleet, announcement, editor, clock, due):
    schedule(controller, editor, announcement, clock.now, times=["06:00", "06:05"])
    ScheduleRunner(controller, clock=clock).reconcile()
    clock.now = due + timedelta(minutes=8)
    ScheduleRunner(controller, clock=clock).reconcile()
    first, second = occurrences(controller)[:2]
    assert (first.state, first.reason_code) == ("missed", "superseded")
    assert second.state == "dispatched"
    assert len(broadcasts(controller)) == 1


def test_downtime_longer_than_the_horizon_leaves_no_occurrence_unaccounted(
        controller, fleet, announcement, editor, clock, due):
    schedule(controller, editor, announcement, clock.now)
    ScheduleRunner(controller, clock=clock).reconcile()
    clock.now = due + timedelta(days=4, minutes=3)  # down for four days
    ScheduleRunner(controller, clock=clock).reconcile()
    past = [o for o in occurrences(controller) if o.due_at <= clock.now]
    assert [o.state for o in past] == ["missed"] * 4 + ["dispatched"]
    assert all(o.reason for o in past if o.state == "missed")


def test_repeats_become_one_broadcast_each_spaced_by_duration_and_gap(controller, fleet, editor,
                                                                      clock, due):
    ann = make_announcement(controller, duration_ms=30_000)
    schedule(controller, editor, ann, clock.now, repeat_count=3, repeat_gap_s=60)
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    occ = occurrences(controller)[0]
    clock.now = due - timedelta(minutes=10)
    assert len(runner.fire(occ.id).broadcast_ids) == 3
    got = [(b.occurrence_key, b.play_at) for b in broadcasts(controller)]
    key = occ.occurrence_key
    assert got == [(key, due), (f"{key}#2", due + timedelta(seconds=90)),
                   (f"{key}#3", due + timedelta(seconds=180))]


def test_an_occurrence_that_cannot_be_sent_is_missed_with_the_reason(controller, fleet, announcement,
                                                                     editor, clock, due):
    schedule(controller, editor, announcement, clock.now, targets={"hamlets": ["Ấp Mỹ Hòa"]})
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    with controller.db.session() as s:
        s.get(Speaker, "spk-3").revoked_at = clock.now  # the hamlet's only speaker is gone
    clock.now = due
    assert runner.fire(occurrences(controller)[0].id).state == "missed"
    occ = occurrences(controller)[0]
    assert (occ.state, occ.reason_code) == ("missed", "failed")
    assert "no speaker" in occ.reason and occ.reason_vi
    assert broadcasts(controller) == []


def test_paused_schedule_does_not_fire_and_resume_brings_it_back(controller, fleet, announcement,
                                                                 editor, clock, due):
    sid = schedule(controller, editor, announcement, clock.now)
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    manage.set_status(controller, sid, "pause", editor, clock.now)
    assert {o.state for o in occurrences(controller)} == {"cancelled"}
    clock.now = due + timedelta(minutes=1)
    runner.reconcile()
    assert broadcasts(controller) == []
    manage.set_status(controller, sid, "resume", editor, clock.now)
    runner.reconcile()
    states = [(o.due_at, o.state, o.reason_code) for o in occurrences(controller)]
    assert states[0] == (due, "cancelled", "paused")  # paused at 06:00: not played, and says why
    assert states[1] == (due + timedelta(days=1), "planned", None)


def test_editing_replans_future_occurrences(controller, fleet, announcement, editor, clock, due):
    sid = schedule(controller, editor, announcement, clock.now)
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    body = {"announcement_id": announcement, "targets": {"all": True}, "kind": "daily",
            "start_date": local_day(clock.now), "times": ["07:30"]}
    manage.update(controller, sid, body, editor, clock.now)
    runner.reconcile()
    assert [o.due_at for o in occurrences(controller)] == [
        due + timedelta(minutes=90), due + timedelta(days=1, minutes=90)]


def test_dst_daily_time_stays_at_local_wall_clock_in_berlin(controller, fleet, announcement,
                                                            editor):
    now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    schedule(controller, editor, announcement, now, timezone="Europe/Berlin",
             start_date="2026-03-28", times=["06:00"])
    ScheduleRunner(controller, clock=lambda: now).reconcile()
    assert [o.due_at for o in occurrences(controller)] == [
        datetime(2026, 3, 28, 5, 0, tzinfo=UTC),  # CET
        datetime(2026, 3, 29, 4, 0, tzinfo=UTC)]  # CEST, after the spring-forward night


def test_started_runner_arms_timers_and_fires_inside_the_lead(controller, fleet, announcement,
                                                              editor):
    now = datetime.now(UTC)
    at = (now + timedelta(minutes=2)).astimezone(__import__("zoneinfo").ZoneInfo(
        controller.settings.timezone))
    sid = schedule(controller, editor, announcement, now, kind="once",
                   at=at.strftime("%Y-%m-%d %H:%M:%S"))
    runner = ScheduleRunner(controller)
    runner.start()
    try:
        # Due in 2 minutes, lead 10 minutes: dispatched straight away by its timer.
        wait_for(lambda: broadcasts(controller), timeout=30, what="the occurrence's broadcast")
        assert occurrences(controller, sid)[0].state == "dispatched"
        jobs = runner._sched.get_jobs()
        assert all(j.misfire_grace_time is None for j in jobs)
    finally:
        runner.stop()


def test_timers_cover_only_the_next_refreshes_and_follow_cancellation(controller, fleet,
                                                                      announcement, editor):
    tz = __import__("zoneinfo").ZoneInfo(controller.settings.timezone)
    now = datetime.now(UTC)

    def once(minutes):
        at = (now + timedelta(minutes=minutes)).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        return schedule(controller, editor, announcement, now, kind="once", at=at)

    soon, later = once(15), once(60)  # lead 10 + 2 refreshes of 5 min: due within 20 min
    runner = ScheduleRunner(controller, refresh_s=300)
    controller.scheduler = runner
    runner.start()
    try:
        def armed():
            return {j.id for j in runner._sched.get_jobs() if j.id.startswith("occ-")}

        (occ_soon,) = occurrences(controller, soon)
        assert occurrences(controller, later)[0].state == "planned"  # a row, but no timer yet
        assert armed() == {f"occ-{occ_soon.id}"}
        manage.set_status(controller, soon, "cancel", editor, datetime.now(UTC))
        assert armed() == set()
        assert occurrences(controller, soon)[0].state == "cancelled"
    finally:
        runner.stop()
        controller.scheduler = None


@pytest.mark.parametrize("day, hhmm", [
    ("2024-02-29", "06:00"),  # a past leap day: any wall-clock read on the path shows up here
    ("2028-02-29", "06:00"),  # a future leap day
    ("2025-12-31", "23:50"),  # a past New Year's Eve
    ("2027-12-31", "23:50"),  # New Year's Eve in Ho Chi Minh City (16:50 UTC)
    ("2028-01-01", "00:10"),  # just past midnight local: still 31 December in UTC
    ("2027-04-30", "23:59"),  # a month's last minute
])
def test_special_days_fire_entirely_on_the_injected_clock(controller, fleet, announcement, editor,
                                                          day, hhmm):
    hh, mm = (int(x) for x in hhmm.split(":"))
    due_at = local_at(date.fromisoformat(day), hh, mm)
    clock = FakeClock(due_at - timedelta(hours=2))
    schedule(controller, editor, announcement, clock.now, times=[hhmm], start_date=day)
    runner = ScheduleRunner(controller, clock=clock)
    runner.reconcile()
    first = occurrences(controller)[0]
    assert first.due_at == due_at
    clock.now = due_at - timedelta(seconds=controller.settings.lead_time_s)
    assert runner.fire(first.id).state == "dispatched"
    (b,) = broadcasts(controller)
    # Every instant on the broadcast comes from the injected clock, none from the wall clock.
    assert (b.play_at, b.dispatch_at) == (due_at, clock.now)
    assert b.expires_at == due_at + timedelta(seconds=controller.settings.validity_s)
