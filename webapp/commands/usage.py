"""`flask --app wsgi resource-servers register NAME` and `flask --app wsgi usage fold`."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from redis.exceptions import RedisError

from webapp.database import utcnow
from webapp.extensions import db
from webapp.services.errors import DomainError

resource_servers = AppGroup("resource-servers",
                            help="Register the APIs that accept the console's access tokens.")
usage = AppGroup("usage", help="API usage of installations.")


@resource_servers.command("register")
@click.argument("name")
@click.option("--rotate-secret", is_flag=True,
              help="Issue a new secret for a registered resource server (the old one stops "
                   "working; the client id stays).")
def register_command(name, rotate_secret):
    """Register the resource server NAME and print its credentials (the secret is shown once).

    Its credentials may introspect any token at /oauth/introspect, and each introspection of an
    active access token counts as one API call of the token's installation.
    """
    from webapp.services.resource_servers import register_resource_server

    try:
        registration = register_resource_server(db.session, name, rotate_secret=rotate_secret)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(json.dumps(registration.as_json()))
    done = "registered" if registration.created else "issued a new secret for"
    click.echo(f"{done} resource server {registration.server.name}; store the client secret "
               "now, it is not shown again", err=True)


@usage.command("fold")
def fold_command():
    """Fold the API calls counted so far into the usage table (running it twice counts nothing
    twice)."""
    from webapp.extensions import redis_connection
    from webapp.services.usage import fold_usage

    try:
        report = fold_usage(db.session, redis_connection(), utcnow())
    except RedisError as error:
        db.session.rollback()
        raise click.ClickException(f"Redis failed ({type(error).__name__}: {error}); nothing "
                                   "was lost, the counts wait there for the next fold") from None
    click.echo(report.summary())
