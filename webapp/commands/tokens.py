"""`flask --app wsgi tokens expire`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.extensions import db
from webapp.services.expiry import expire_refresh_tokens

tokens = AppGroup("tokens", help="OAuth tokens the console issued.")


@tokens.command("expire")
def expire_command():
    """End refresh tokens unused for REFRESH_TOKEN_TTL days; installations left without one expire."""
    report = expire_refresh_tokens(db.session, ttl_days=current_app.config["REFRESH_TOKEN_TTL"])
    db.session.commit()
    click.echo(report.summary())
