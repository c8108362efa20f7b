"""Recurrence expansion: every kind, window edges, and wall-clock times across DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.recurrence import Recurrence, local_to_utc, next_occurrence, occurrences

BERLIN = ZoneInfo("Europe/Berlin")
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local_strings(instants, tz):
    return [i.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") for i in instants]


def test_daily_in_ho_chi_minh_is_seven_hours_ahead_of_utc():
    rec = Recurrence("daily", start_date=date(2026, 12, 1), times=(time(6), time(17, 30)))
    got = occurrences(rec, utc(2026, 11, 30), utc(2026, 12, 2, 12))
    assert got == [
        utc(2026, 11, 30, 23),
        utc(2026, 12, 1, 10, 30),
        utc(2026, 12, 1, 23),
        utc(2026, 12, 2, 10, 30),
    ]
    assert all(i.tzinfo is UTC for i in got)


def test_start_and_end_dates_are_inclusive_local_dates():
    rec = Recurrence("daily", start_date=date(2026, 12, 1), end_date=date(2026, 12, 3), times=(time(6),))
    got = occurrences(rec, utc(2026, 1, 1), utc(2027, 1, 1))
    assert local_strings(got, HCM) == ["2026-12-01 06:00 +07", "2026-12-02 06:00 +07", "2026-12-03 06:00 +07"]


def test_window_is_half_open():
    rec = Recurrence("daily", start_date=date(2026, 12, 1), times=(time(6),))
    due = utc(2026, 12, 1, 23)
    assert occurrences(rec, due, due + timedelta(seconds=1)) == [due]
    assert occurrences(rec, due - timedelta(hours=1), due) == []
    assert occurrences(rec, due, due) == []


def test_naive_window_is_refused():
    rec = Recurrence("daily", start_date=date(2026, 12, 1), times=(time(6),))
    with pytest.raises(ValueError, match="aware"):
        occurrences(rec, datetime(2026, 12, 1), utc(2026, 12, 2))


def test_weekly_mondays_and_thursdays_in_december():
    rec = Recurrence(
        "weekly",
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 31),
        times=(time(6),),
        weekdays=frozenset({0, 3}),
    )
    got = [i.astimezone(HCM).date() for i in occurrences(rec, utc(2026, 11, 1), utc(2027, 2, 1))]
    assert got == [date(2026, 12, d) for d in (3, 7, 10, 14, 17, 21, 24, 28, 31)]
    assert {d.weekday() for d in got} == {0, 3}


def test_monthly_day_31_skips_months_without_it():
    rec = Recurrence("monthly", start_date=date(2027, 1, 1), times=(time(7),), month_day=31)
    got = [i.astimezone(HCM).date() for i in occurrences(rec, utc(2026, 12, 31), utc(2028, 1, 1))]
    assert got == [date(2027, m, 31) for m in (1, 3, 5, 7, 8, 10, 12)]


def test_monthly_day_29_plays_in_february_only_in_leap_years():
    rec = Recurrence("monthly", start_date=date(2027, 1, 1), times=(time(7),), month_day=29)
    got = [i.astimezone(HCM).date() for i in occurrences(rec, utc(2027, 1, 1), utc(2029, 1, 1))]
    assert date(2028, 2, 29) in got
    assert not [d for d in got if d.year == 2027 and d.month == 2]
    assert len(got) == 23


def test_monthly_last_sunday():
    rec = Recurrence("monthly", start_date=date(2026, 1, 1), times=(time(8),), nth_weekday=(-1, 6))
    got = [i.astimezone(HCM).date() for i in occurrences(rec, utc(2026, 1, 1), utc(2026, 5, 1))]
    assert got == [date(2026, 1, 25), date(2026, 2, 22), date(2026, 3, 29), date(2026, 4, 26)]


def test_monthly_first_monday_and_fifth_friday_skips_months_without_one():
    first_monday = Recurrence("monthly", start_date=date(2026, 1, 1), times=(time(8),), nth_weekday=(1, 0))
    got = [i.astimezone(HCM).date() for i in occurrences(first_monday, utc(2026, 1, 1), utc(2026, 4, 1))]
    assert got == [date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)]
    fifth_friday = Recurrence("monthly", start_date=date(2026, 1, 1), times=(time(8),), nth_weekday=(5, 4))
    got = [i.astimezone(HCM).date() for i in occurrences(fifth_friday, utc(2026, 1, 1), utc(2026, 7, 1))]
    assert got == [date(2026, 1, 30), date(2026, 5, 29)]


def test_explicit_dates_sorted_and_bounded_by_window():
    rec = Recurrence(
        "dates", times=(time(6),), dates=(date(2026, 12, 9), date(2026, 12, 2), date(2026, 12, 5))
    )
    got = occurrences(rec, utc(2026, 12, 3), utc(2027, 1, 1))
    assert local_strings(got, HCM) == ["2026-12-05 06:00 +07", "2026-12-09 06:00 +07"]


def test_once_plays_at_its_local_datetime():
    rec = Recurrence("once", at=datetime(2026, 12, 2, 14, 0))
    assert occurrences(rec, utc(2026, 12, 1), utc(2026, 12, 3)) == [utc(2026, 12, 2, 7)]
    assert occurrences(rec, utc(2026, 12, 3), utc(2026, 12, 4)) == []


def test_cron_weekday_mornings_in_local_time():
    rec = Recurrence("cron", start_date=date(2026, 12, 1), cron="30 6 * * 1-5")
    # Window starts 2026-12-04 07:00 local, after that morning's broadcast.
    got = occurrences(rec, utc(2026, 12, 4), utc(2026, 12, 9))
    assert local_strings(got, HCM) == [
        "2026-12-07 06:30 +07",
        "2026-12-08 06:30 +07",
        "2026-12-09 06:30 +07",
    ]


def test_cron_respects_start_and_end_dates():
    rec = Recurrence("cron", start_date=date(2026, 12, 2), end_date=date(2026, 12, 3), cron="0 12 * * *")
    got = occurrences(rec, utc(2026, 11, 1), utc(2027, 1, 1))
    assert local_strings(got, HCM) == ["2026-12-02 12:00 +07", "2026-12-03 12:00 +07"]


# --- daylight saving time, Europe/Berlin: CET (+01) <-> CEST (+02) on the last Sundays of March/October


def test_daily_0600_stays_0600_local_across_spring_forward():
    rec = Recurrence("daily", start_date=date(2026, 3, 27), times=(time(6),), timezone="Europe/Berlin")
    got = occurrences(rec, utc(2026, 3, 27), utc(2026, 3, 31))
    assert local_strings(got, BERLIN) == [
        "2026-03-27 06:00 CET",
        "2026-03-28 06:00 CET",
        "2026-03-29 06:00 CEST",
        "2026-03-30 06:00 CEST",
    ]
    # In UTC the broadcast moves an hour earlier, which a naive "every 24 h" timer gets wrong.
    assert [i.hour for i in got] == [5, 5, 4, 4]


def test_daily_0600_stays_0600_local_across_fall_back():
    rec = Recurrence("daily", start_date=date(2026, 10, 23), times=(time(6),), timezone="Europe/Berlin")
    got = occurrences(rec, utc(2026, 10, 23), utc(2026, 10, 27))
    assert local_strings(got, BERLIN) == [
        "2026-10-23 06:00 CEST",
        "2026-10-24 06:00 CEST",
        "2026-10-25 06:00 CET",
        "2026-10-26 06:00 CET",
    ]
    assert [i.hour for i in got] == [4, 4, 5, 5]
    # The DST day has 25 hours between the two broadcasts around it.
    assert got[2] - got[1] == timedelta(hours=25)


def test_nonexistent_local_time_plays_at_end_of_gap():
    # 02:30 does not exist in Berlin on 2026-03-29: clocks jump from 02:00 to 03:00.
    assert local_to_utc(datetime(2026, 3, 29, 2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)
    rec = Recurrence("daily", start_date=date(2026, 3, 28), times=(time(2, 30),), timezone="Europe/Berlin")
    got = occurrences(rec, utc(2026, 3, 28), utc(2026, 3, 31))
    assert local_strings(got, BERLIN) == [
        "2026-03-28 02:30 CET",
        "2026-03-29 03:00 CEST",
        "2026-03-30 02:30 CEST",
    ]


def test_ambiguous_local_time_plays_once_at_first_occurrence():
    # 02:30 happens twice in Berlin on 2026-10-25 (CEST, then CET): play the first, once.
    assert local_to_utc(datetime(2026, 10, 25, 2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)
    rec = Recurrence("daily", start_date=date(2026, 10, 24), times=(time(2, 30),), timezone="Europe/Berlin")
    got = occurrences(rec, utc(2026, 10, 24), utc(2026, 10, 27))
    assert local_strings(got, BERLIN) == [
        "2026-10-24 02:30 CEST",
        "2026-10-25 02:30 CEST",
        "2026-10-26 02:30 CET",
    ]


def test_two_times_inside_the_gap_play_once():
    rec = Recurrence(
        "daily",
        start_date=date(2026, 3, 29),
        end_date=date(2026, 3, 29),
        times=(time(2, 15), time(2, 45)),
        timezone="Europe/Berlin",
    )
    assert occurrences(rec, utc(2026, 3, 28), utc(2026, 3, 30)) == [utc(2026, 3, 29, 1, 0)]


def test_cron_across_both_berlin_changes_uses_wall_clock():
    rec = Recurrence("cron", start_date=date(2026, 1, 1), cron="*/30 2 * * *", timezone="Europe/Berlin")
    spring = occurrences(rec, utc(2026, 3, 28), utc(2026, 3, 30))
    assert local_strings(spring, BERLIN) == [
        "2026-03-28 02:00 CET",
        "2026-03-28 02:30 CET",
        "2026-03-29 03:00 CEST",
    ]
    autumn = occurrences(rec, utc(2026, 10, 25), utc(2026, 10, 26))
    # 02:00 and 02:30 happen twice that night; each plays once, in summer time.
    assert local_strings(autumn, BERLIN) == ["2026-10-25 02:00 CEST", "2026-10-25 02:30 CEST"]


def test_weekly_sunday_on_both_dst_days_in_berlin():
    rec = Recurrence(
        "weekly",
        start_date=date(2026, 1, 1),
        times=(time(6),),
        weekdays=frozenset({6}),
        timezone="Europe/Berlin",
    )
    spring = occurrences(rec, utc(2026, 3, 22), utc(2026, 4, 6))
    autumn = occurrences(rec, utc(2026, 10, 18), utc(2026, 11, 2))
    assert {i.astimezone(BERLIN).strftime("%H:%M") for i in spring + autumn} == {"06:00"}
    assert [i.hour for i in spring] == [5, 4, 4]
    assert [i.hour for i in autumn] == [4, 5, 5]


def test_once_in_berlin_gap_and_fold():
    gap = Recurrence("once", at=datetime(2026, 3, 29, 2, 30), timezone="Europe/Berlin")
    fold = Recurrence("once", at=datetime(2026, 10, 25, 2, 30), timezone="Europe/Berlin")
    assert occurrences(gap, utc(2026, 3, 1), utc(2026, 4, 1)) == [utc(2026, 3, 29, 1)]
    assert occurrences(fold, utc(2026, 10, 1), utc(2026, 11, 1)) == [utc(2026, 10, 25, 0, 30)]


@pytest.mark.parametrize(
    "rec",
    [
        Recurrence("once", at=datetime(2026, 12, 2, 14, 0)),
        Recurrence(
            "daily", start_date=date(2026, 12, 1), end_date=date(2026, 12, 31), times=(time(6), time(17, 30))
        ),
        Recurrence("weekly", start_date=date(2026, 12, 1), times=(time(6),), weekdays=frozenset({0, 6})),
        Recurrence(
            "monthly", start_date=date(2026, 12, 1), times=(time(7),), month_day=15, timezone="Europe/Berlin"
        ),
        Recurrence("monthly", start_date=date(2026, 12, 1), times=(time(8),), nth_weekday=(-1, 6)),
        Recurrence("dates", times=(time(6, 0, 30),), dates=(date(2026, 12, 2), date(2026, 12, 5))),
        Recurrence("cron", start_date=date(2026, 12, 1), cron="0 6 * * 1"),
    ],
)
def test_to_dict_round_trips_through_json(rec):
    import json

    data = json.loads(json.dumps(rec.to_dict()))
    assert Recurrence.from_dict(data) == rec


def test_to_dict_is_readable():
    rec = Recurrence("weekly", start_date=date(2026, 12, 1), times=(time(6),), weekdays=frozenset({3, 0}))
    assert rec.to_dict() == {
        "kind": "weekly",
        "timezone": "Asia/Ho_Chi_Minh",
        "start_date": "2026-12-01",
        "times": ["06:00"],
        "weekdays": [0, 3],
    }


def test_next_occurrence_for_each_kind():
    now = utc(2026, 12, 1, 0, 0)
    assert next_occurrence(Recurrence("daily", start_date=date(2026, 1, 1), times=(time(6),)), now) == utc(
        2026, 12, 1, 23
    )
    assert next_occurrence(Recurrence("once", at=datetime(2030, 1, 1, 8)), now) == utc(2030, 1, 1, 1)
    assert next_occurrence(Recurrence("once", at=datetime(2020, 1, 1, 8)), now) is None
    far_dates = Recurrence("dates", times=(time(6),), dates=(date(2029, 5, 1),))
    assert next_occurrence(far_dates, now) == utc(2029, 4, 30, 23)
    leap = Recurrence("cron", start_date=date(2026, 1, 1), cron="0 6 29 2 *")
    assert next_occurrence(leap, now) == utc(2028, 2, 28, 23)
    ended = Recurrence("daily", start_date=date(2026, 1, 1), end_date=date(2026, 6, 1), times=(time(6),))
    assert next_occurrence(ended, now) is None


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Ho_Chi_Minh", "America/Santiago"]


@settings(max_examples=400, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    local=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
)
def test_local_to_utc_keeps_wall_time_or_lands_at_end_of_gap(zone, local):
    tz = ZoneInfo(zone)
    local = local.replace(microsecond=0)
    instant = local_to_utc(local, tz)
    wall = instant.astimezone(tz).replace(tzinfo=None)
    if wall == local:
        # Existing time; if it happens twice, the first one (earlier instant) is chosen.
        assert instant <= local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    else:
        # Nonexistent: we land after it, right at a transition (one second earlier is another offset).
        assert wall > local
        assert (instant - timedelta(seconds=1)).astimezone(tz).utcoffset() != instant.astimezone(
            tz
        ).utcoffset()


@settings(max_examples=50, deadline=None)
@given(zone=st.sampled_from(ZONES), hour=st.integers(4, 23), minute=st.sampled_from([0, 15, 30, 45]))
def test_daily_time_outside_any_gap_is_that_wall_time_every_day_of_a_year(zone, hour, minute):
    rec = Recurrence("daily", start_date=date(2026, 1, 1), times=(time(hour, minute),), timezone=zone)
    got = occurrences(rec, utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(got) in (364, 365, 366)
    assert {i.astimezone(ZoneInfo(zone)).strftime("%H:%M") for i in got} == {f"{hour:02d}:{minute:02d}"}
