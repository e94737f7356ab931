"""Template filters for times and labels, shared by pages, emails and exports."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from webapp.database import utcnow
from webapp.services.notifications.windows import workspace_zone


def iso_utc(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def short_date(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(timezone.utc).strftime("%b %-d, %Y")


def date_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(timezone.utc).strftime("%b %-d, %Y %H:%M UTC")


def day_in_words(value: date) -> str:
    """A calendar day as people read it: "2 Dec 2026"."""
    return f"{value.day} {value:%b %Y}"


def in_words(value: datetime | None, zone: str | None, now: datetime | None = None) -> str:
    """A moment as people read it, on the clock of the time zone `zone` (the workspace's):
    "Today 09:12", "Yesterday 18:40", else "2 Dec 2026, 14:03"."""
    if value is None:
        return "—"
    tz = workspace_zone(zone)
    local = value.astimezone(tz)
    today = (now or utcnow()).astimezone(tz).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return f"Today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"Yesterday {clock}"
    return f"{day_in_words(local.date())}, {clock}"


def hour_in_words(start: datetime | None, zone: str | None, now: datetime | None = None) -> str:
    """An hour known only as a whole (usage is counted per hour), in words with its end:
    "Today 09:00–10:00"."""
    if start is None:
        return "—"
    end = (start + timedelta(hours=1)).astimezone(workspace_zone(zone))
    return f"{in_words(start, zone, now)}–{end:%H:%M}"


def humanize(value: str | None) -> str:
    if not value:
        return ""
    return value.replace("_", " ").capitalize()


def register_filters(app) -> None:
    app.jinja_env.filters.update(iso_utc=iso_utc, short_date=short_date, date_time=date_time,
                                 day_in_words=day_in_words, in_words=in_words,
                                 hour_in_words=hour_in_words, humanize=humanize)
