"""Window boundaries for every frequency, in the workspace's timezone, across DST and month ends."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from webapp.services.notifications.windows import (closed_windows, next_window_start, window_start,
                                                   workspace_zone)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local(zone, *args, fold=0):
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)


def test_hour_windows_start_at_the_top_of_the_local_hour():
    assert window_start(utc(2026, 11, 3, 14, 37, 12), "hour", BERLIN) == utc(2026, 11, 3, 14)
    india = ZoneInfo("Asia/Kolkata")  # UTC+5:30: local hours start at :30 UTC
    assert window_start(utc(2026, 11, 3, 14, 37), "hour", india) == utc(2026, 11, 3, 14, 30)


def test_day_windows_start_at_local_midnight():
    assert window_start(utc(2026, 11, 3, 22, 30), "day", BERLIN) == local(BERLIN, 2026, 11, 3)
    assert window_start(utc(2026, 11, 3, 23, 30), "day", BERLIN) == local(BERLIN, 2026, 11, 4)
    assert next_window_start(local(BERLIN, 2026, 11, 3), "day", BERLIN) == local(BERLIN, 2026, 11, 4)


def test_week_windows_start_on_monday_midnight():
    sunday_night = local(BERLIN, 2026, 11, 29, 23, 59)
    assert window_start(sunday_night, "week", BERLIN) == local(BERLIN, 2026, 11, 23)
    assert window_start(local(BERLIN, 2026, 11, 30, 0, 0), "week", BERLIN) == local(BERLIN, 2026, 11, 30)
    assert next_window_start(local(BERLIN, 2026, 11, 23), "week", BERLIN) == local(BERLIN, 2026, 11, 30)


@pytest.mark.parametrize("month_start, following", [
    ((2026, 1, 1), (2026, 2, 1)),
    ((2026, 2, 1), (2026, 3, 1)),      # 28 days
    ((2028, 2, 1), (2028, 3, 1)),      # leap year: 29 days
    ((2026, 4, 1), (2026, 5, 1)),      # 30 days
    ((2026, 12, 1), (2027, 1, 1)),     # year end
])
def test_month_windows_follow_the_calendar(month_start, following):
    start = local(NEW_YORK, *month_start)
    assert next_window_start(start, "month", NEW_YORK) == local(NEW_YORK, *following)
    last_instant = local(NEW_YORK, *following) - timedelta(microseconds=1)
    assert window_start(last_instant, "month", NEW_YORK) == start


def test_month_window_of_the_31st_late_evening_in_new_york_is_that_month():
    # 23:30 on Jan 31 in New York is already Feb 1 in UTC.
    moment = local(NEW_YORK, 2026, 1, 31, 23, 30)
    assert moment.month == 2
    assert window_start(moment, "month", NEW_YORK) == local(NEW_YORK, 2026, 1, 1)


def test_a_day_is_23_hours_when_clocks_spring_forward():
    start = local(BERLIN, 2026, 3, 29)  # CET -> CEST at 02:00
    end = next_window_start(start, "day", BERLIN)
    assert end - start == timedelta(hours=23)
    start = local(NEW_YORK, 2026, 3, 8)  # EST -> EDT at 02:00
    assert next_window_start(start, "day", NEW_YORK) - start == timedelta(hours=23)


def test_a_day_is_25_hours_when_clocks_fall_back():
    start = local(BERLIN, 2026, 10, 25)
    assert next_window_start(start, "day", BERLIN) - start == timedelta(hours=25)
    start = local(NEW_YORK, 2026, 11, 1)
    assert next_window_start(start, "day", NEW_YORK) - start == timedelta(hours=25)


def test_a_week_containing_a_dst_change_lasts_167_or_169_hours():
    spring = local(BERLIN, 2026, 3, 23)
    assert next_window_start(spring, "week", BERLIN) - spring == timedelta(hours=167)
    autumn = local(BERLIN, 2026, 10, 19)
    assert next_window_start(autumn, "week", BERLIN) - autumn == timedelta(hours=169)


def test_a_month_containing_a_dst_change_is_an_hour_short_or_long():
    march = local(BERLIN, 2026, 3, 1)
    assert next_window_start(march, "month", BERLIN) - march == timedelta(days=31, hours=-1)
    november = local(NEW_YORK, 2026, 11, 1)
    assert next_window_start(november, "month", NEW_YORK) - november == timedelta(days=30, hours=1)


def test_hourly_windows_across_fall_back_include_the_repeated_hour_twice():
    # New York, Nov 1 2026: 01:00-02:00 EDT, then 01:00-02:00 EST again.
    start = local(NEW_YORK, 2026, 11, 1, 0)
    windows = list(closed_windows(start, "hour", NEW_YORK, local(NEW_YORK, 2026, 11, 1, 3)))
    assert [end - begin for begin, end in windows] == [timedelta(hours=1)] * 4
    assert [begin.astimezone(NEW_YORK).strftime("%H %Z") for begin, _ in windows] == [
        "00 EDT", "01 EDT", "01 EST", "02 EST"]


def test_hourly_windows_across_spring_forward_skip_the_missing_hour():
    start = local(BERLIN, 2026, 3, 29, 0)
    windows = list(closed_windows(start, "hour", BERLIN, local(BERLIN, 2026, 3, 29, 4)))
    assert [begin.astimezone(BERLIN).hour for begin, _ in windows] == [0, 1, 3]
    assert all(end - begin == timedelta(hours=1) for begin, end in windows)


def test_closed_windows_lists_every_missed_window_in_order_and_not_the_open_one():
    start = local(BERLIN, 2026, 11, 2)
    windows = list(closed_windows(start, "day", BERLIN, local(BERLIN, 2026, 11, 5, 12)))
    assert [w[0] for w in windows] == [local(BERLIN, 2026, 11, d) for d in (2, 3, 4)]
    assert windows[-1][1] == local(BERLIN, 2026, 11, 5)
    # A window closes exactly at its end.
    assert len(list(closed_windows(start, "day", BERLIN, local(BERLIN, 2026, 11, 3)))) == 1


def test_a_midnight_skipped_by_dst_starts_the_day_when_clocks_jump():
    santiago = ZoneInfo("America/Santiago")  # clocks jump from 00:00 to 01:00 on 2026-09-06
    start = window_start(local(santiago, 2026, 9, 6, 12), "day", santiago)
    assert start.astimezone(santiago).strftime("%d %H:%M") == "06 01:00"
    previous = window_start(local(santiago, 2026, 9, 5, 12), "day", santiago)
    assert next_window_start(previous, "day", santiago) == start


def test_unknown_timezones_fall_back_to_utc():
    assert workspace_zone("Mars/Olympus") == ZoneInfo("UTC")
    assert workspace_zone(None) == ZoneInfo("UTC")
