"""`flask --app wsgi notifications send-due [--at ISO8601]`."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.extensions import db, work_queue
# Imported with the CLI (so also by `flask worker` before it forks): work horses start warm.
from webapp.services.notifications.outbox import send_due
from webapp.services.notifications.settings import NotificationSettings

notifications = AppGroup("notifications", help="Notification delivery.")


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time, e.g. 2026-11-30T09:00:00Z",
                                 param_hint="--at") from None
    # A time without offset is read as UTC, the zone every stored time uses.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@notifications.command("send-due")
@click.option("--at", "at", default=None, help="Close windows ended by this time (default now).")
def send_due_command(at):
    """Close every notification window that has ended and queue its deliveries."""
    settings = NotificationSettings.from_config(current_app.config)
    report = send_due(db.session, settings, work_queue(), _parse_at(at))
    click.echo(f"closed {len(report.windows)} window(s), wrote {report.deliveries} deliveries, "
               f"relayed {report.relayed} waiting deliveries")
