"""`flask --app wsgi apps register MANIFEST.json`: how an app enters the catalogue."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from webapp.extensions import db

apps = AppGroup("apps", help="Register apps in the marketplace.")


@apps.command("register")
@click.argument("manifest", type=click.File("r", encoding="utf-8"))
@click.option("--rotate-secret", is_flag=True,
              help="Issue a new client secret for an existing app (the old one stops working).")
def register_command(manifest, rotate_secret):
    """Register (or update, by slug) the app described by MANIFEST; print its credentials.

    The client secret is printed once, when it is issued; an update keeps the existing one and
    prints null.
    """
    from webapp.services.registration import ManifestError, register_app

    try:
        data = json.load(manifest)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{manifest.name} is not valid JSON: {error}") from None
    try:
        registration = register_app(db.session, data, rotate_secret=rotate_secret)
    except ManifestError as error:
        db.session.rollback()
        raise click.ClickException(f"invalid manifest: {error}") from None
    db.session.commit()
    click.echo(json.dumps(registration.as_json()))
    app = registration.app
    if registration.created:
        click.echo(f"registered {app.slug} {app.version}; store the client secret now, "
                   "it is not shown again", err=True)
    elif registration.client_secret:
        click.echo(f"updated {app.slug} to {app.version}; new client secret issued", err=True)
    else:
        click.echo(f"updated {app.slug} to {app.version}; the client secret is unchanged "
                   "(use --rotate-secret for a new one)", err=True)
