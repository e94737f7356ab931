"""Window math: each frequency's windows start at a local boundary of the workspace's timezone.

Boundaries are computed on local wall-clock dates and converted to UTC with zoneinfo, so a day
across a DST change lasts 23 or 25 hours and months end where the calendar says.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def workspace_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # A midnight skipped by DST resolves (fold=0) to the instant the clocks jumped: the day's start.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def window_start(moment: datetime, frequency: str, zone: ZoneInfo) -> datetime:
    """Start (aware UTC) of the window of `frequency` that contains `moment`."""
    local = moment.astimezone(zone)
    if frequency == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    if frequency == "day":
        return _local_midnight(local.date(), zone)
    if frequency == "week":
        return _local_midnight(local.date() - timedelta(days=local.weekday()), zone)
    if frequency == "month":
        return _local_midnight(local.date().replace(day=1), zone)
    raise ValueError(f"unknown frequency {frequency!r}")


def next_window_start(start: datetime, frequency: str, zone: ZoneInfo) -> datetime:
    """Start of the window after the one starting at `start` (its end)."""
    if frequency == "hour":
        # An absolute hour later, floored again: local hours stay whole across offset changes.
        return window_start(start + timedelta(hours=1), "hour", zone)
    day = start.astimezone(zone).date()
    if frequency == "day":
        return _local_midnight(day + timedelta(days=1), zone)
    if frequency == "week":
        return _local_midnight(day + timedelta(days=7), zone)
    if frequency == "month":
        first = day.replace(day=1)
        following = first.replace(year=first.year + 1, month=1) if first.month == 12 \
            else first.replace(month=first.month + 1)
        return _local_midnight(following, zone)
    raise ValueError(f"unknown frequency {frequency!r}")


def closed_windows(first_start: datetime, frequency: str, zone: ZoneInfo, until: datetime):
    """Yields (start, end) of every window from `first_start` that has ended by `until`."""
    start = first_start
    while True:
        end = next_window_start(start, frequency, zone)
        if end > until:
            return
        yield start, end
        start = end


def window_label(start: datetime, end: datetime, frequency: str, zone: ZoneInfo) -> str:
    """How people read the window, in the workspace's time: 'Nov 3, 2026 14:00–15:00 CET'."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if frequency == "hour":
        return (f"{local_start:%b} {local_start.day}, {local_start:%Y %H:%M}–"
                f"{local_end:%H:%M} {local_end:%Z}")
    if frequency == "day":
        return f"{local_start:%a} {local_start:%b} {local_start.day}, {local_start:%Y}"
    if frequency == "week":
        return f"Week of {local_start:%b} {local_start.day}, {local_start:%Y}"
    return f"{local_start:%B %Y}"
