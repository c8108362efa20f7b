"""Every bad input gets a FieldError naming the field, with a code and English + Vietnamese text."""

from datetime import UTC, date, datetime, time

import pytest

from schedules.errors import ScheduleInputError
from schedules.forms import check_plan, parse_plan, parse_recurrence
from schedules.plan import SchedulePlan
from schedules.recurrence import Recurrence
from schedules.validation import validate, validate_plan

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAILY = Recurrence("daily", start_date=date(2026, 12, 1), times=(time(6),))


def codes(errors):
    return [(e.field, e.code) for e in errors]


def assert_readable(errors):
    for e in errors:
        assert e.message and e.message_vi and e.message != e.message_vi
        assert "{" not in e.message and "{" not in e.message_vi
        assert e.to_dict()["message_vi"] == e.message_vi


def test_good_schedules_have_no_errors():
    assert validate(DAILY, now_utc=NOW) == []
    assert validate(Recurrence("cron", start_date=date(2026, 12, 1), cron="* * * * *"), now_utc=NOW) == []
    assert validate(Recurrence("once", at=datetime(2026, 12, 2, 14)), now_utc=NOW) == []


def test_end_before_start_names_both_dates():
    rec = Recurrence("daily", start_date=date(2026, 12, 31), end_date=date(2026, 12, 1), times=(time(6),))
    errors = validate(rec, now_utc=NOW)
    assert codes(errors) == [("end_date", "end_before_start")]
    assert "2026-12-01" in errors[0].message and "2026-12-31" in errors[0].message
    assert "01/12/2026" in errors[0].message_vi and "31/12/2026" in errors[0].message_vi
    assert_readable(errors)


def test_unknown_timezone_and_kind():
    errors = validate(
        Recurrence("daily", start_date=date(2026, 12, 1), times=(time(6),), timezone="Asia/Hanoi_X"),
        now_utc=NOW,
    )
    assert codes(errors) == [("timezone", "unknown_timezone")]
    assert "Asia/Hanoi_X" in errors[0].message_vi
    assert codes(validate(Recurrence("hourly"), now_utc=NOW)) == [("kind", "unknown_kind")]
    for bad in ("", "../../etc/passwd", "/etc/localtime"):
        rec = Recurrence("daily", start_date=date(2026, 12, 1), times=(time(6),), timezone=bad)
        assert codes(validate(rec, now_utc=NOW)) == [("timezone", "unknown_timezone")]


def test_missing_times_start_weekdays_dates():
    assert codes(validate(Recurrence("daily", start_date=date(2026, 12, 1)), now_utc=NOW)) == [
        ("times", "times_missing")
    ]
    assert codes(validate(Recurrence("daily", times=(time(6),)), now_utc=NOW)) == [("start_date", "required")]
    weekly = Recurrence("weekly", start_date=date(2026, 12, 1), times=(time(6),))
    errors = validate(weekly, now_utc=NOW)
    assert codes(errors) == [("weekdays", "weekdays_empty")]
    assert_readable(errors)
    bad_day = Recurrence("weekly", start_date=date(2026, 12, 1), times=(time(6),), weekdays=frozenset({7}))
    assert codes(validate(bad_day, now_utc=NOW)) == [("weekdays", "weekday_range")]
    assert codes(validate(Recurrence("dates", times=(time(6),)), now_utc=NOW)) == [("dates", "dates_empty")]
    assert codes(validate(Recurrence("once"), now_utc=NOW)) == [("at", "required")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, ("month_day", "monthly_rule_missing")),
        ({"month_day": 5, "nth_weekday": (1, 0)}, ("month_day", "monthly_rule_both")),
        ({"month_day": 32}, ("month_day", "month_day_range")),
        ({"month_day": 0}, ("month_day", "month_day_range")),
        ({"nth_weekday": (6, 0)}, ("nth_weekday", "nth_range")),
        ({"nth_weekday": (0, 0)}, ("nth_weekday", "nth_range")),
        ({"nth_weekday": (-1, 9)}, ("nth_weekday", "weekday_range")),
    ],
)
def test_monthly_rule_errors(fields, expected):
    rec = Recurrence("monthly", start_date=date(2026, 12, 1), times=(time(7),), **fields)
    errors = validate(rec, now_utc=NOW)
    assert codes(errors) == [expected]
    assert_readable(errors)


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ("0 0 31 2 *", "cron_never_fires"),
        ("0 0 30 2 *", "cron_never_fires"),
        ("*/10 * * * * *", "cron_fields"),  # seconds field
        ("0 6 * *", "cron_fields"),
        ("", "cron_fields"),
        ("61 6 * * *", "cron_invalid"),
        ("0 6 * * funday", "cron_invalid"),
    ],
)
def test_bad_cron(expr, code):
    rec = Recurrence("cron", start_date=date(2026, 12, 1), cron=expr)
    errors = validate(rec, now_utc=NOW)
    assert codes(errors) == [("cron", code)]
    assert_readable(errors)


def test_every_minute_cron_is_the_fastest_allowed():
    assert validate(Recurrence("cron", start_date=date(2026, 12, 1), cron="* * * * *"), now_utc=NOW) == []


def test_cron_that_cannot_fire_before_its_end_date():
    rec = Recurrence("cron", start_date=date(2026, 12, 1), end_date=date(2026, 12, 31), cron="0 6 1 6 *")
    assert codes(validate(rec, now_utc=NOW)) == [("cron", "cron_never_fires")]


def test_rules_that_never_play_again():
    once = Recurrence("once", at=datetime(2026, 11, 26, 8, 0))  # 01:00 UTC, before NOW
    errors = validate(once, now_utc=NOW)
    assert codes(errors) == [("at", "in_past")]
    assert "08:00 26/11/2026" in errors[0].message_vi
    old_dates = Recurrence("dates", times=(time(6),), dates=(date(2026, 11, 1),))
    assert codes(validate(old_dates, now_utc=NOW)) == [("dates", "in_past")]
    ended = Recurrence("daily", start_date=date(2026, 1, 1), end_date=date(2026, 6, 1), times=(time(6),))
    assert codes(validate(ended, now_utc=NOW)) == [("end_date", "no_occurrence")]
    february_31 = Recurrence(
        "monthly", start_date=date(2027, 2, 1), end_date=date(2027, 2, 28), times=(time(6),), month_day=31
    )
    assert codes(validate(february_31, now_utc=NOW)) == [("end_date", "no_occurrence")]


def test_several_errors_are_reported_together():
    rec = Recurrence(
        "weekly", start_date=date(2026, 12, 31), end_date=date(2026, 12, 1), timezone="Nowhere/Town"
    )
    assert set(codes(validate(rec, now_utc=NOW))) == {
        ("timezone", "unknown_timezone"),
        ("end_date", "end_before_start"),
        ("times", "times_missing"),
        ("weekdays", "weekdays_empty"),
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("repeat_count", 0),
        ("repeat_count", 11),
        ("repeat_gap_s", -1),
        ("repeat_gap_s", 601),
        ("validity_s", 59),
        ("validity_s", 86_401),
        ("repeat_count", True),
    ],
)
def test_plan_limits(field, value):
    plan = SchedulePlan(DAILY, **{field: value})
    errors = validate_plan(plan, now_utc=NOW)
    assert [e.field for e in errors] == [field]
    assert_readable(errors)


def test_plan_limits_inclusive_and_priority():
    for plan in (
        SchedulePlan(DAILY, repeat_count=10, repeat_gap_s=600, validity_s=86_400, priority="emergency"),
        SchedulePlan(DAILY, repeat_count=1, repeat_gap_s=0, validity_s=60, priority="priority"),
    ):
        assert validate_plan(plan, now_utc=NOW) == []
    assert codes(validate_plan(SchedulePlan(DAILY, priority="urgent"), now_utc=NOW)) == [
        ("priority", "unknown_priority")
    ]


def test_plan_round_trip_and_airtime():
    plan = SchedulePlan(DAILY, repeat_count=3, repeat_gap_s=120, validity_s=600, priority="priority")
    assert SchedulePlan.from_dict(plan.to_dict()) == plan
    assert plan.airtime_s(60) == 3 * 60 + 2 * 120
    assert SchedulePlan(DAILY).validity_s == 900


# --- loose form input


def test_parse_weekly_form_in_user_words():
    rec = parse_recurrence(
        {
            "kind": "Weekly",
            "start_date": "01/12/2026",
            "end_date": "2026-12-31",
            "times": "17:30, 6:00",
            "weekdays": ["Thứ Hai", "T4", "fri", "6"],
            "month_day": "",
            "cron": "left over from another tab",
        }
    )
    assert rec == Recurrence(
        "weekly",
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 31),
        times=(time(6), time(17, 30)),
        weekdays=frozenset({0, 2, 4, 6}),
    )


def test_parse_each_kind():
    assert parse_recurrence({"kind": "once", "at": "02/12/2026 14:00"}).at == datetime(2026, 12, 2, 14)
    assert parse_recurrence({"kind": "once", "at": "2026-12-02T14:00"}).at == datetime(2026, 12, 2, 14)
    monthly = parse_recurrence(
        {"kind": "monthly", "start_date": "2026-12-01", "times": ["7h"], "nth_weekday": "-1, CN"}
    )
    assert monthly.nth_weekday == (-1, 6) and monthly.times == (time(7),)
    assert (
        parse_recurrence(
            {"kind": "monthly", "start_date": "2026-12-01", "times": "6h30", "month_day": "15"}
        ).month_day
        == 15
    )
    dates = parse_recurrence(
        {"kind": "dates", "times": "06:00", "dates": "05/12/2026; 2026-12-02, 05/12/2026"}
    )
    assert dates.dates == (date(2026, 12, 2), date(2026, 12, 5))
    cron = parse_recurrence({"kind": "cron", "start_date": "2026-12-01", "cron": "  0  6 * *   1 "})
    assert cron.cron == "0 6 * * 1"
    assert (
        parse_recurrence(
            {"kind": "daily", "start_date": "2026-12-01", "times": "6:00", "timezone": " "}
        ).timezone
        == "Asia/Ho_Chi_Minh"
    )


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"kind": "daily", "start_date": "31/02/2026", "times": "06:00"}, ("start_date", "bad_date")),
        ({"kind": "daily", "start_date": "2026-02-31", "times": "06:00"}, ("start_date", "bad_date")),
        (
            {"kind": "daily", "start_date": "2026-12-01", "end_date": "2026-13-01", "times": "06:00"},
            ("end_date", "bad_date"),
        ),
        ({"kind": "daily", "start_date": "tomorrow", "times": "06:00"}, ("start_date", "bad_date")),
        ({"kind": "daily", "start_date": "2026-12-01", "times": "25:00"}, ("times", "bad_time")),
        ({"kind": "daily", "start_date": "2026-12-01", "times": "6 o'clock"}, ("times", "bad_time")),
        ({"kind": "once", "at": "31/02/2026 14:00"}, ("at", "bad_datetime")),
        ({"kind": "once", "at": ""}, ("at", "required")),
        (
            {"kind": "weekly", "start_date": "2026-12-01", "times": "06:00", "weekdays": "someday"},
            ("weekdays", "weekday_range"),
        ),
        (
            {"kind": "monthly", "start_date": "2026-12-01", "times": "06:00", "month_day": "fifteen"},
            ("month_day", "bad_number"),
        ),
        (
            {"kind": "monthly", "start_date": "2026-12-01", "times": "06:00", "nth_weekday": "1"},
            ("nth_weekday", "nth_range"),
        ),
        ({"kind": "dates", "times": "06:00", "dates": "2026-12-02, 30/02/2027"}, ("dates", "bad_date")),
        ({"kind": "hourly"}, ("kind", "unknown_kind")),
        ({}, ("kind", "unknown_kind")),
    ],
)
def test_parse_errors(form, expected):
    with pytest.raises(ScheduleInputError) as info:
        parse_recurrence(form)
    assert codes(info.value.errors) == [expected]
    assert_readable(info.value.errors)


def test_impossible_date_message_quotes_what_was_typed():
    with pytest.raises(ScheduleInputError) as info:
        parse_recurrence({"kind": "daily", "start_date": "31/02/2026", "times": "06:00"})
    error = info.value.errors[0]
    assert "31/02/2026" in error.message and "31/02/2026" in error.message_vi
    assert "không phải là ngày có thật" in error.message_vi


def test_parse_plan_and_check_plan():
    form = {
        "kind": "weekly",
        "start_date": "2026-12-01",
        "times": "06:00",
        "weekdays": "0",
        "repeat_count": "3",
        "repeat_gap_s": "120",
        "priority": "Priority",
    }
    plan = parse_plan(form)
    assert (plan.repeat_count, plan.repeat_gap_s, plan.validity_s, plan.priority) == (3, 120, 900, "priority")
    assert check_plan(form, now_utc=NOW) == (plan, [])
    nested = parse_plan(
        {"recurrence": {"kind": "daily", "start_date": "2026-12-01", "times": "06:00"}, "validity_s": "600"}
    )
    assert nested.validity_s == 600 and nested.recurrence.kind == "daily"


def test_check_plan_collects_parse_errors_and_limit_errors():
    plan, errors = check_plan(
        {"kind": "weekly", "start_date": "31/02/2026", "times": "06:00", "repeat_count": "many"}, now_utc=NOW
    )
    assert plan is None
    assert codes(errors) == [("start_date", "bad_date"), ("repeat_count", "bad_number")]
    plan, errors = check_plan(
        {
            "kind": "weekly",
            "start_date": "2026-12-01",
            "times": "06:00",
            "repeat_count": "20",
            "repeat_gap_s": "900",
        },
        now_utc=NOW,
    )
    assert plan is None
    assert codes(errors) == [
        ("weekdays", "weekdays_empty"),
        ("repeat_count", "out_of_range"),
        ("repeat_gap_s", "out_of_range"),
    ]
    assert "1" in errors[1].message and "10" in errors[1].message and "20" in errors[1].message
    assert errors[2].message_vi.startswith("Khoảng cách giữa các lần lặp")
