"""`flask --app wsgi health probe [--app SLUG]`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.extensions import db
from webapp.services.errors import DomainError
from webapp.services.health_probes import run_health_probes

health = AppGroup("health", help="Health probes of installed apps.")


@health.command("probe")
@click.option("--app", "app_slug", default=None, help="Probe only this app (by slug).")
def probe_command(app_slug: str | None):
    """Probe now every installed app that has a health_url."""
    try:
        report = run_health_probes(
            db.session, allow_private=current_app.config["HEALTH_PROBE_ALLOW_PRIVATE"],
            app_slug=app_slug)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="--app") from None
    click.echo(report.summary())
