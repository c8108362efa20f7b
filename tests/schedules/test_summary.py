"""Summaries read the way an editor would say the schedule out loud."""

from datetime import date, datetime, time

from schedules.recurrence import Recurrence
from schedules.summary import summarize_en, summarize_vi


def test_weekly_with_date_range():
    rec = Recurrence(
        "weekly",
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 31),
        times=(time(6),),
        weekdays=frozenset({0}),
    )
    assert summarize_vi(rec) == "Thứ Hai hằng tuần lúc 06:00, từ 01/12 đến 31/12"
    assert summarize_en(rec) == "Every Monday at 06:00, from 2026-12-01 to 2026-12-31"


def test_weekly_several_days_and_range_across_years():
    rec = Recurrence(
        "weekly",
        start_date=date(2026, 12, 1),
        end_date=date(2027, 1, 31),
        times=(time(6),),
        weekdays=frozenset({4, 0, 2}),
    )
    assert summarize_vi(rec) == "Thứ Hai, Thứ Tư và Thứ Sáu hằng tuần lúc 06:00, từ 01/12/2026 đến 31/01/2027"
    assert summarize_en(rec).startswith("Every Monday, Wednesday and Friday at 06:00")


def test_daily_two_times_open_ended():
    rec = Recurrence("daily", start_date=date(2026, 12, 1), times=(time(6), time(17, 30)))
    assert summarize_vi(rec) == "Hằng ngày lúc 06:00 và 17:30, từ 01/12/2026"
    assert summarize_en(rec) == "Every day at 06:00 and 17:30, from 2026-12-01"


def test_monthly_day_and_last_sunday():
    day = Recurrence("monthly", times=(time(7),), month_day=15)
    assert summarize_vi(day) == "Ngày 15 hằng tháng lúc 07:00"
    assert summarize_en(day) == "On day 15 of every month at 07:00"
    last_sunday = Recurrence("monthly", times=(time(8),), nth_weekday=(-1, 6))
    assert summarize_vi(last_sunday) == "Chủ nhật cuối cùng của tháng lúc 08:00"
    assert summarize_en(last_sunday) == "On the last Sunday of every month at 08:00"
    assert (
        summarize_vi(Recurrence("monthly", times=(time(8),), nth_weekday=(1, 0)))
        == "Thứ Hai đầu tiên của tháng lúc 08:00"
    )
    assert (
        summarize_vi(Recurrence("monthly", times=(time(8),), nth_weekday=(3, 2)))
        == "Thứ Tư thứ 3 của tháng lúc 08:00"
    )


def test_once():
    rec = Recurrence("once", at=datetime(2026, 12, 2, 14, 0))
    assert summarize_vi(rec) == "Một lần lúc 14:00 ngày 02/12/2026"
    assert summarize_en(rec) == "Once at 14:00 on 2026-12-02"


def test_dates_listed_or_counted():
    few = Recurrence(
        "dates", times=(time(6),), dates=(date(2026, 12, 9), date(2026, 12, 2), date(2026, 12, 5))
    )
    assert summarize_vi(few) == "Ngày 02/12, 05/12 và 09/12/2026 lúc 06:00"
    assert summarize_en(few) == "On 2026-12-02, 2026-12-05 and 2026-12-09 at 06:00"
    many = Recurrence("dates", times=(time(6),), dates=tuple(date(2026, 12, d) for d in range(1, 11)))
    assert summarize_vi(many) == "10 ngày đã chọn từ 01/12 đến 10/12/2026 lúc 06:00"


def test_cron_and_foreign_timezone():
    rec = Recurrence("cron", start_date=date(2026, 12, 1), cron="0 6 * * 1-5", timezone="Europe/Berlin")
    assert summarize_vi(rec) == "Theo biểu thức cron “0 6 * * 1-5”, từ 01/12/2026 (giờ Europe/Berlin)"
    assert summarize_en(rec) == "By the cron expression '0 6 * * 1-5', from 2026-12-01 (Europe/Berlin time)"
