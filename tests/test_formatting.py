"""Times in words on the workspace's clock, as pages show them."""
from datetime import date, datetime, timezone

from webapp.services.formatting import day_in_words, hour_in_words, in_words

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)


def test_today_and_yesterday_are_said_so_and_older_days_by_date():
    assert in_words(datetime(2026, 12, 2, 9, 12, tzinfo=timezone.utc), "UTC", NOW) == "Today 09:12"
    assert in_words(datetime(2026, 12, 1, 18, 40, tzinfo=timezone.utc), "UTC", NOW) == \
        "Yesterday 18:40"
    assert in_words(datetime(2026, 11, 2, 14, 3, tzinfo=timezone.utc), "UTC", NOW) == \
        "2 Nov 2026, 14:03"
    assert in_words(None, "UTC", NOW) == "—"
    assert day_in_words(date(2026, 12, 2)) == "2 Dec 2026"


def test_the_workspaces_clock_decides_the_day_and_the_hour():
    # 23:30 UTC on the 1st is 08:30 on the 2nd in Tokyo: today there, yesterday in UTC.
    late = datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc)
    assert in_words(late, "Asia/Tokyo", NOW) == "Today 08:30"
    assert in_words(late, "UTC", NOW) == "Yesterday 23:30"
    assert in_words(late, "Not/A_Zone", NOW) == "Yesterday 23:30"  # an unknown zone reads as UTC


def test_an_hour_known_as_a_whole_is_said_with_its_end():
    start = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)
    assert hour_in_words(start, "UTC", NOW) == "Today 03:00–04:00"
    assert hour_in_words(start, "Asia/Kolkata", NOW) == "Today 08:30–09:30"
    assert hour_in_words(datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc), "UTC", NOW) == \
        "Yesterday 23:00–00:00"
