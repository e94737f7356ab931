"""Template filters for times and labels, shared by pages, emails and exports."""
from __future__ import annotations

from datetime import datetime, timezone


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


def humanize(value: str | None) -> str:
    if not value:
        return ""
    return value.replace("_", " ").capitalize()


def register_filters(app) -> None:
    app.jinja_env.filters.update(iso_utc=iso_utc, short_date=short_date, date_time=date_time,
                                 humanize=humanize)
